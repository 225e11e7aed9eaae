"""The Galaxy wrappers against the command line they wrap: every CLI option is exposed (or deliberately hidden,
with the reason), the version token is the package's, GPU tools ask for a CUDA device, test data stay small.
The wrappers' own <tests> run on a real Galaxy server with `make galaxy-test`."""

from __future__ import annotations

import argparse
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from genosynth import __version__
from genosynth.cli import STEPS, step_parser

WRAPPERS = Path(__file__).resolve().parents[1] / "galaxy_wrappers"
WRAPPED_STEPS = list(STEPS)
GPU_STEPS = {"train-gan", "train-rbm", "train-diffusion", "sample"}
HIDDEN = {  # option -> why the wrapper does not expose it
    "--output": "the wrapper chooses the output paths",
    "--quiet": "Galaxy keeps a tool's whole log",
    "--verbose": "Galaxy keeps a tool's whole log",
    "--legend": "a .hapt input is not a Galaxy datatype; export's legend is an output the wrapper names",
    "--region": "vcf-to-matrix: Galaxy users cut regions upstream (bcftools view), an index is not guaranteed",
    "--holdout-output": "set by the wrapper when a holdout is asked for",
    "--checkpoint": "set by the wrapper; Galaxy jobs are not resumed",
    "--resume": "Galaxy jobs are not resumed from checkpoints",
    "--history": "set by the wrapper (the history is an output)",
    "--hidden-output": "set by the wrapper (the hidden representation is an output)",
    "--beagle-memory": "set from Galaxy's GALAXY_MEMORY_MB",
    "--threads": "set from Galaxy's GALAXY_SLOTS",
    "--ihs": "selection-scan: the wrapper's method list includes iHS",
    "--cnn-model-output": "set by the wrapper (the trained CNN is an output)",
    "--memory": "set from Galaxy's GALAXY_MEMORY_MB",
    "--cache": "infer-demography: a Galaxy job has no lasting folder to reuse simulations from",
}


def _macros() -> tuple[dict[str, str], dict[str, str]]:
    root = ET.parse(WRAPPERS / "macros.xml").getroot()
    xml_macros = {m.get("name"): ET.tostring(m, encoding="unicode") for m in root.findall("xml")}
    tokens = {t.get("name"): t.text or "" for t in root.findall("token")}
    return xml_macros, tokens


def _wrapper(step: str) -> Path:
    return WRAPPERS / f"{step.replace('-', '_')}.xml"


def _expanded_text(step: str) -> tuple[str, ET.Element]:
    """The wrapper's text with every macro it expands and every token it uses appended."""
    xml_macros, tokens = _macros()
    text = _wrapper(step).read_text()
    local = ET.parse(_wrapper(step)).getroot().find("macros")  # the wrapper's own macros beside the shared ones
    if local is not None:
        xml_macros.update({m.get("name"): ET.tostring(m, encoding="unicode") for m in local.findall("xml")})
    used = set(re.findall(r'<expand macro="([^"]+)"', text))
    expanded = text + "".join(xml_macros[name] for name in used)
    for _ in range(2):  # tokens inside macros
        expanded += "".join(tokens[name] for name in tokens if name in expanded and tokens[name] not in expanded)
    return expanded, ET.parse(_wrapper(step)).getroot()


@pytest.mark.parametrize("step", WRAPPED_STEPS)
def test_every_cli_option_is_exposed_or_deliberately_hidden(step):
    text, _ = _expanded_text(step)
    arguments = set(re.findall(r'argument="(--[a-z0-9-]+)"', text))
    command_words = set(re.findall(r"(--[a-z0-9-]+)", text))
    options = [a for a in step_parser(step)._actions if a.option_strings and a.dest not in ("help", "version")]
    missing = []
    for action in options:
        long_option = max(action.option_strings, key=len)
        if long_option in HIDDEN or long_option in arguments or long_option in command_words:
            continue
        missing.append(long_option)
    assert not missing, f"{_wrapper(step).name} exposes no {missing}: add a param or list them in HIDDEN with a reason"
    for argument in arguments:  # and nothing in the wrapper names an option the CLI lacks
        assert any(argument in a.option_strings for a in options), (
            f"{_wrapper(step).name}: {argument} is not a CLI option"
        )


@pytest.mark.parametrize("step", WRAPPED_STEPS)
def test_wrapper_metadata(step):
    text, root = _expanded_text(step)
    assert root.get("id") == f"genosynth_{step.replace('-', '_')}"
    assert root.get("version") == "@TOOL_VERSION@+galaxy@VERSION_SUFFIX@"
    assert re.search(rf"^genosynth-{step}\b", root.find("command").text, re.MULTILINE)
    macro = next(e for e in root.iter("expand") if e.get("macro") in ("requirements", "gpu_requirements"))
    assert macro.get("step") == (step if step != "export" else "base")  # container genosynth/<step>:<version>[-cpu]
    assert (macro.get("macro") == "gpu_requirements") == (step in GPU_STEPS)
    assert root.find("tests") is not None and len(root.find("tests")) >= 1
    for test in root.find("tests"):
        assert test.get("expect_failure") == "true" or any(
            e.tag.startswith("assert") or e.tag == "assert_contents" for e in test.iter()
        )


def test_version_token_is_the_package_version_and_gpu_macro_asks_for_cuda():
    xml_macros, tokens = _macros()
    root = ET.parse(WRAPPERS / "macros.xml").getroot()
    token = {t.get("name"): t.text for t in root.findall("token")}
    assert token["@TOOL_VERSION@"] == __version__
    assert '<resource type="cuda_device_count_min">1</resource>' in xml_macros["gpu_requirements"]
    assert "10.1371/journal.pgen.1009303" in xml_macros["citations"]


def test_test_data_are_small_and_rebuildable():
    files = [p for p in (WRAPPERS / "test-data").iterdir() if p.is_file()]
    assert files and all(p.stat().st_size < 1_000_000 for p in files)
    script = (WRAPPERS / "make_test_data.py").read_text()
    for path in files:
        assert path.name in script or path.name.split(".")[0] in script, f"{path.name} is not made by make_test_data.py"
    referenced = set()
    for wrapper in WRAPPERS.glob("*.xml"):
        for value in re.findall(r'value="([^"]+\.(?:h5|gz|tsv|safetensors))"', wrapper.read_text()):
            referenced |= set(value.split(","))  # a multiple data param's test lists its files with commas
    assert referenced <= {p.name for p in files}


def test_workflow_uses_existing_tools_and_outputs():
    import yaml

    workflow = yaml.safe_load((WRAPPERS / "workflows" / "generate_and_check.gxwf.yml").read_text())
    ids = {ET.parse(p).getroot().get("id"): p for p in WRAPPERS.glob("*.xml") if p.name != "macros.xml"}
    outputs = {}
    for name, step in workflow["steps"].items():
        assert step["tool_id"] in ids and step["tool_version"] == f"{__version__}+galaxy0"
        root = ET.parse(ids[step["tool_id"]]).getroot()
        text, _ = _expanded_text(ids[step["tool_id"]].stem.replace("_", "-"))
        outputs[name] = set(re.findall(r'<(?:data|collection) name="([^"]+)"', text))
        params = set(re.findall(r'<(?:param|section|conditional|repeat) name="([^"]+)"', text))
        params |= {a.lstrip("-").replace("-", "_") for a in re.findall(r'<param argument="([^"]+)"', text)}
        for target, source in step.get("in", {}).items():
            if "/" in source:
                producer, output = source.split("/")
                assert output in outputs[producer], source
            else:  # a workflow input, connected to a parameter of the tool (in its sections: `section|name`)
                assert source in workflow["inputs"], source
                assert set(target.split("|")) <= params, f"{name}: {target} is not a parameter of {step['tool_id']}"
        assert root is not None
    for output in workflow["outputs"].values():
        producer, name = output["outputSource"].split("/")
        assert name in outputs[producer]
    assert workflow["release"] == __version__
    folder = WRAPPERS / "workflows"
    assert (folder / "README.md").is_file() and f"## [{__version__}]" in (folder / "CHANGELOG.md").read_text()
    tests = yaml.safe_load((folder / "generate_and_check.gxwf-tests.yml").read_text())  # what planemo runs
    required = {
        label for label, spec in workflow["inputs"].items() if not spec.get("optional") and "default" not in spec
    }
    for test in tests:
        assert required <= set(test["job"]) <= set(workflow["inputs"])
        files = [entry for entry in test["job"].values() if isinstance(entry, dict)]
        assert files and all((folder / entry["path"]).is_file() for entry in files)
        assert set(test["outputs"]) <= set(workflow["outputs"]) and all(o["asserts"] for o in test["outputs"].values())


def test_shed_metadata_describes_every_tool_as_a_suite():
    import yaml

    shed = yaml.safe_load((WRAPPERS / ".shed.yml").read_text())
    assert shed["owner"] and shed["categories"] and shed["suite"]["name"] == "suite_genosynth"
    assert "{{ tool_id }}" in shed["auto_tool_repositories"]["name_template"]


# Parameters whose Galaxy default differs from the command line's on purpose, with the reason.
GALAXY_DEFAULTS = {
    ("vcf-to-matrix", "--holdout"): "asked for through a conditional (no holdout by default), which offers 0.2",
    ("sample", "--haplotypes"): "required on the command line; the form offers 1000",
    ("vcf-to-matrix", "--window-sites"): "asked for through a conditional (no windows by default), which offers 5000",
}


def _galaxy_params(step: str) -> dict:
    """Every <param argument=...> of the wrapper, its macros expanded by Galaxy's own loader, by its option."""
    from galaxy.util.xml_macros import load

    root = load(str(_wrapper(step))).getroot()
    return {param.get("argument"): param for param in root.iter("param") if param.get("argument")}


def _number(text: str | None):
    return None if text in (None, "") else float(text)


@pytest.mark.parametrize("step", WRAPPED_STEPS)
def test_wrapper_parameters_agree_with_the_command_line(step):
    """Type, default, bounds and choices of every exposed option are the command line's."""
    from genosynth.steps._types import Bounded

    actions = {flag: a for a in step_parser(step)._actions for flag in a.option_strings}
    problems = []
    for option, param in _galaxy_params(step).items():
        action = actions[option]
        kind = param.get("type")
        if isinstance(action, argparse.BooleanOptionalAction):  # --bernoulli / --no-bernoulli: default, draw or round
            options = {o.get("value"): o.get("selected") == "true" for o in param.iter("option")}
            if kind != "select" or options != {"default": True, "draw": False, "round": False}:
                problems.append(f"{option}: Galaxy {kind} {options}, command line {action.option_strings}")
        elif action.choices is not None and kind == "select":
            options = {o.get("value") for o in param.iter("option")}
            if options - {str(c) for c in action.choices} or (
                not param.get("optional") and {str(c) for c in action.choices} - options
            ):
                problems.append(f"{option}: choices {sorted(options)} vs {list(action.choices)}")
        elif kind == "boolean":
            truevalue, checked = param.get("truevalue"), param.get("checked", "false") == "true"
            if action.choices is not None:  # an option with one value, which the box switches on
                agree = truevalue in action.choices and checked == (action.default == truevalue)
            else:  # a flag: the unchecked box leaves the command line's default
                agree = truevalue == option and not checked
            if not agree:
                problems.append(f"{option}: box {truevalue}, checked {checked}; command line {action.default!r}")
        elif kind in ("integer", "float"):
            python_type = action.type.kind if isinstance(action.type, Bounded) else action.type
            if {"integer": int, "float": float}[kind] is not python_type:
                problems.append(f"{option}: Galaxy {kind}, command line {python_type}")
            low, high = action.type.bounds() if isinstance(action.type, Bounded) else (None, None)
            if (_number(param.get("min")), _number(param.get("max"))) != (low, high):
                problems.append(
                    f"{option}: Galaxy min/max {param.get('min')}/{param.get('max')}, command line {low}/{high}"
                )
            default = _number(param.get("value"))
            if (
                default != (None if action.default is None else float(action.default))
                and (step, option) not in GALAXY_DEFAULTS
            ):
                problems.append(f"{option}: Galaxy default {param.get('value')!r}, command line {action.default!r}")
        elif kind == "text" and param.get("value", "") != (action.default or ""):
            problems.append(f"{option}: Galaxy default {param.get('value')!r}, command line {action.default!r}")
    assert not problems, problems


def test_max_time_accepts_what_the_command_line_accepts():
    from galaxy.util.xml_macros import load
    from genosynth._infra.options import DURATION_PATTERN, parse_duration

    regex = next(
        v.text
        for v in load(str(_wrapper("train-gan"))).getroot().iter("validator")
        if "duration" in (v.get("message") or "")
    )
    for text in ("90", "90s", "20m", "1h30m", "2h", "1.5h", "1h 30m 10s", "", "soon", "m", "1x"):
        try:
            accepted = text == "" or parse_duration("max_time", text) is not None
        except Exception:
            accepted = False
        assert bool(re.fullmatch(regex, text)) == accepted, text
    assert DURATION_PATTERN in regex
