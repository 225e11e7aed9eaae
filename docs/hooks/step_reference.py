"""MkDocs hook: one reference page per step (reference/STEP.md), generated at build time from the step's own
argparse parser (``genosynth.cli.step_parser``), never a hand-kept copy of ``--help``; each option beside the
Galaxy parameter that sets it (read from the wrapper's XML and the macros it expands) and the step's Nextflow
process and how it gets the option."""

from __future__ import annotations

import argparse
import html
import re
from pathlib import Path

from mkdocs.structure.files import File

REPO = Path(__file__).resolve().parents[2]


def on_files(files, config):
    from genosynth.cli import STEPS

    for step in STEPS:
        files.append(File.generated(config, f"reference/{step}.md", content=step_page(step)))
    return files


def step_page(step: str) -> str:
    """The Markdown reference page of ``step``."""
    from genosynth.cli import step_parser

    parser = step_parser(step)
    galaxy = _galaxy_parameters(step)
    module = step.replace("-", "_")
    process = f"GENOSYNTH_{module.upper()}"
    nextflow_module = REPO / "nextflow" / "modules" / module / "main.nf"
    nextflow_text = nextflow_module.read_text() if nextflow_module.is_file() else ""
    lines = [f"# {step}", "", _escape(parser.description or ""), "",
             "```text", _usage(parser), "```", "",
             "| interface | name |", "|---|---|",
             f"| Command line | `genosynth {step}` or `genosynth-{step}` |",
             f"| Galaxy tool | `genosynth_{module}`" + ("" if galaxy is not None else " (none)") + " |",
             f"| Nextflow process | `{process}` (`nextflow/modules/{module}/main.nf`) |" if nextflow_text
             else "| Nextflow process | none: run it from the command line or a container |",
             "", "## Options", "",
             "| option | value | default | what it does | Galaxy parameter | Nextflow |",
             "|---|---|---|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction)) or action.help == argparse.SUPPRESS:
            continue
        name = ", ".join(f"`{o}`" for o in action.option_strings) or f"`{action.dest}` (positional)"
        lines.append("| " + " | ".join([name, _value(action), _default(action), _escape(_help(action)),
                                        _galaxy_cell(action, galaxy), _nextflow_cell(action, nextflow_text)]) + " |")
    lines += ["", "Generated from `genosynth.cli.step_parser(\"" + step + "\")` when the site is built."]
    return "\n".join(lines) + "\n"


def _usage(parser: argparse.ArgumentParser) -> str:
    return parser.format_usage().strip()


def _value(action: argparse.Action) -> str:
    if action.nargs == 0:
        return "flag"
    if action.choices:
        return " \\| ".join(f"`{c}`" for c in action.choices)
    metavar = action.metavar or (action.dest.upper() if action.option_strings else action.dest)
    many = "..." if action.nargs in ("+", "*") else ""
    return f"`{metavar if isinstance(metavar, str) else ' '.join(metavar)}{many}`"


def _default(action: argparse.Action) -> str:
    if action.required:
        return "required"
    if action.default is None or action.default is argparse.SUPPRESS or action.nargs == 0:
        return ""
    return f"`{action.default}`"


def _help(action: argparse.Action) -> str:
    text = action.help or ""
    return text % {"default": action.default, "prog": "genosynth"} if "%(" in text else text


def _escape(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def _galaxy_parameters(step: str) -> dict[str, str] | None:
    """The wrapper's parameters by the option they set (``argument="--x"``), labelled; None without a wrapper."""
    wrapper = REPO / "galaxy_wrappers" / f"{step.replace('-', '_')}.xml"
    if not wrapper.is_file():
        return None
    text = wrapper.read_text()
    macros = (REPO / "galaxy_wrappers" / "macros.xml").read_text()
    bodies = dict(re.findall(r'<xml name="([^"]+)"[^>]*>(.*?)</xml>', macros, flags=re.S))
    text += "".join(bodies.get(name, "") for name in set(re.findall(r'<expand macro="([^"]+)"', text)))
    parameters = {}
    for tag in re.findall(r"<param\b[^>]*>", text):
        argument = re.search(r'argument="([^"]+)"', tag)
        if argument:
            label = re.search(r'label="([^"]*)"', tag)
            parameters[argument.group(1)] = label.group(1) if label else argument.group(1)
    return parameters


def _galaxy_cell(action: argparse.Action, galaxy: dict[str, str] | None) -> str:
    if galaxy is None:
        return ""
    for option in action.option_strings:
        if option in galaxy:
            return _escape(galaxy[option])
    return "a dataset" if not action.option_strings or action.dest == "output" else "not exposed"


def _nextflow_cell(action: argparse.Action, module_text: str) -> str:
    if not module_text:
        return ""
    if not action.option_strings or action.dest == "output":
        return "set by the module"
    if any(re.search(re.escape(o) + r"\b", module_text) for o in action.option_strings if o.startswith("--")):
        return "set by the module"
    return "`ext.args`"
