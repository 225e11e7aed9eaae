"""Figures saved as PNG and PDF, and one self-contained HTML report (images embedded, no external files),
readable offline and inside Galaxy; the same page's body serves a result's ``_repr_html_`` in notebooks."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any, Sequence

from ..atomic import atomic_outputs


def new_figure(width: float = 6.0, height: float = 4.0) -> Any:
    """A matplotlib figure on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(width, height), layout="constrained")


def save_figure(figure: Any, directory: Path, name: str) -> Path:
    """Write ``name``.png and ``name``.pdf atomically into ``directory``; return the PNG's path."""
    import matplotlib.pyplot as plt

    png, pdf = directory / f"{name}.png", directory / f"{name}.pdf"
    with atomic_outputs(png, pdf) as (png_temp, pdf_temp):
        figure.savefig(png_temp, format="png", dpi=120)
        figure.savefig(pdf_temp, format="pdf")
    plt.close(figure)
    return png


def save_figure_beside(figure: Any, table: Path) -> Path:
    """Save ``figure`` as the plot of the table at ``table``: same folder, same name without .tsv, PNG and PDF."""
    stem = table.name[: -len(".tsv")] if table.name.endswith(".tsv") else table.name
    return save_figure(figure, table.parent, stem)


def write_json(path: Path, data: Any) -> None:
    """Pretty JSON, written atomically."""
    with atomic_outputs(path) as (temp,):
        temp.write_text(json.dumps(data, indent=2, default=_plain) + "\n")


def html_body(*, title: str, summary: Sequence[tuple[str, str]], verdict: str | None,
              figures: Sequence[tuple[str, Path]], provenance: dict[str, Any] | None = None, level: int = 1) -> str:
    """Title, verdict line, summary table, every figure inline (base64 PNG) and the provenance, as HTML."""
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary)
    images = "".join(
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,'
        f'{base64.b64encode(png.read_bytes()).decode()}"><figcaption>{html.escape(caption)}</figcaption></figure>'
        for caption, png in figures)
    verdict_html = f'<p class="verdict">{html.escape(verdict)}</p>' if verdict else ""
    record = (f"<h{level + 1}>Provenance</h{level + 1}><pre>{html.escape(json.dumps(provenance, indent=2, default=_plain))}"
              "</pre>") if provenance else ""
    return (f"<h{level}>{html.escape(title)}</h{level}>{verdict_html}<table>{rows}</table>{images}{record}")


def write_html_report(path: Path, *, title: str, summary: Sequence[tuple[str, str]], verdict: str | None,
                      figures: Sequence[tuple[str, Path]], provenance: dict[str, Any]) -> None:
    """One self-contained HTML file of :func:`html_body`."""
    document = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse}}th,td{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}
figure{{margin:1.5em 0}}img{{max-width:100%}}.verdict{{font-weight:bold;font-size:1.1em}}
pre{{background:#f4f4f4;padding:1em;overflow-x:auto;font-size:.8em}}</style></head>
<body>{html_body(title=title, summary=summary, verdict=verdict, figures=figures, provenance=provenance)}</body></html>
"""
    with atomic_outputs(path) as (temp,):
        temp.write_text(document)


def notebook_html(result: Any) -> str:
    """A result's report body for a notebook: its figures drawn into a temporary folder and embedded."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="genosynth-figures.") as folder:
        summary, verdict, figures = result._report_parts(Path(folder))
        return html_body(title=result.report_title, summary=summary, verdict=verdict, figures=figures, level=3)


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)
