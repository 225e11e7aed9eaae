"""MkDocs hook: a line ``<!-- bench-table: FILE.json -->`` on a page becomes the table of that result file (written
by bench/ with bench/results.py, beside the page), with its title, the command that measured it and the machine."""

from __future__ import annotations

import json
import re
from pathlib import Path

MARKER = re.compile(r"^<!-- bench-table: (\S+\.json) -->$", re.M)


def on_page_markdown(markdown, page, config, files):
    folder = Path(config["docs_dir"]) / Path(page.file.src_uri).parent
    return MARKER.sub(lambda match: render(folder / match.group(1), match.group(1)), markdown)


def render(path: Path, link: str) -> str:
    """The Markdown of one result file."""
    result = json.loads(path.read_text())
    lines = [f"**{result['title']}**", "", "| " + " | ".join(result["columns"]) + " |",
             "|" + "---|" * len(result["columns"])]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in result["rows"]]
    lines += ["", f"Measured with `{result['command']}` on {result['machine']}"
              + (f"; {result['notes']}" if result.get("notes") else "") + f". Result file: [{path.name}]({link})."]
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("|", "\\|")
