"""Figures saved as PNG and PDF, and one self-contained HTML report (images embedded, no external files),
readable offline and inside Galaxy; the same page's body serves a result's ``_repr_html_`` in notebooks."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genosynth._infra.atomic import atomic_outputs


def new_figure(width: float = 6.0, height: float = 4.0) -> Any:
    """A matplotlib :class:`~matplotlib.figure.Figure` of its own, outside pyplot: drawing a report never selects
    or switches the user's backend (a notebook keeps its own) and leaves no figure open."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def save_figure(figure: Any, directory: Path, name: str) -> Path:
    """Write ``name``.png and ``name``.pdf atomically into ``directory``; return the PNG's path."""
    png, pdf = directory / f"{name}.png", directory / f"{name}.pdf"
    with atomic_outputs(png, pdf) as (png_temp, pdf_temp):
        figure.savefig(png_temp, format="png", dpi=120)
        figure.savefig(pdf_temp, format="pdf")
    return png


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, a mark (``"pass"``/``"fail"`` against a target, ``""`` none) and a second, smaller
    line (the difference from the reference row, say)."""

    text: str
    mark: str = ""
    note: str = ""


@dataclass(frozen=True)
class HtmlTable:
    """A table of a report: ``rows`` of cells under ``header``; the rows named in ``reference_rows`` are shown as
    the reference the others are measured against; ``legend`` explains the marks under the table."""

    caption: str
    header: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    reference_rows: Sequence[int] = ()
    legend: str = ""

    def to_html(self) -> str:
        head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in self.header)
        body = []
        for index, row in enumerate(self.rows):
            cells = []
            for position, cell in enumerate(row):
                tag = "th" if position == 0 else "td"
                scope = ' scope="row"' if position == 0 else ""
                mark = f' class="{cell.mark}"' if cell.mark else ""
                note = f'<span class="note">{html.escape(cell.note)}</span>' if cell.note else ""
                cells.append(f"<{tag}{scope}{mark}>{html.escape(cell.text)}{note}</{tag}>")
            kind = ' class="reference"' if index in self.reference_rows else ""
            body.append(f"<tr{kind}>{''.join(cells)}</tr>")
        legend = f'<p class="legend">{html.escape(self.legend)}</p>' if self.legend else ""
        return (
            f'<div class="wide"><table class="metrics"><caption>{html.escape(self.caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>{legend}"
        )


def save_figure_beside(figure: Any, table: Path) -> Path:
    """Save ``figure`` as the plot of the table at ``table``: same folder, same name without .tsv, PNG and PDF."""
    stem = table.name[: -len(".tsv")] if table.name.endswith(".tsv") else table.name
    return save_figure(figure, table.parent, stem)


def write_json(path: Path, data: Any) -> None:
    """Pretty JSON, written atomically."""
    with atomic_outputs(path) as (temp,):
        temp.write_text(json.dumps(data, indent=2, default=_plain) + "\n")


def html_body(
    *,
    title: str,
    summary: Sequence[tuple[str, str]],
    verdict: str | None,
    figures: Sequence[tuple[str, Path]],
    provenance: dict[str, Any] | None = None,
    level: int = 1,
    tables: Sequence[HtmlTable] = (),
) -> str:
    """Title, verdict line, summary table, further tables, every figure inline (base64 PNG) and the provenance,
    as HTML."""
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary)
    images = "".join(
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,'
        f'{base64.b64encode(png.read_bytes()).decode()}"><figcaption>{html.escape(caption)}</figcaption></figure>'
        for caption, png in figures
    )
    verdict_html = f'<p class="verdict">{html.escape(verdict)}</p>' if verdict else ""
    record = (
        (
            f"<h{level + 1}>Provenance</h{level + 1}><pre>{html.escape(json.dumps(provenance, indent=2, default=_plain))}"
            "</pre>"
        )
        if provenance
        else ""
    )
    extra = "".join(table.to_html() for table in tables)
    return (
        f'<h{level}>{html.escape(title)}</h{level}>{verdict_html}<table class="summary">{rows}</table>{extra}'
        f"{images}{record}"
    )


def write_html_report(
    path: Path,
    *,
    title: str,
    summary: Sequence[tuple[str, str]],
    verdict: str | None,
    figures: Sequence[tuple[str, Path]],
    provenance: dict[str, Any],
    tables: Sequence[HtmlTable] = (),
) -> None:
    """One self-contained HTML file of :func:`html_body`."""
    document = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:72em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse}}th,td{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}
figure{{margin:1.5em 0}}img{{max-width:100%}}.verdict{{font-weight:bold;font-size:1.1em}}
pre{{background:#f4f4f4;padding:1em;overflow-x:auto;font-size:.8em}}
.wide{{overflow-x:auto;margin:1.5em 0}}caption{{text-align:left;font-weight:bold;padding:.3em 0}}
table.metrics td{{text-align:right;font-variant-numeric:tabular-nums}}table.metrics th,table.metrics td{{white-space:nowrap}}.note{{display:block;font-size:.75em;color:#555}}
tr.reference{{background:#eef1f6;font-style:italic}}td.pass{{background:#e3f4e6}}td.fail{{background:#fbe4e2}}
.legend{{font-size:.85em;color:#444}}</style></head>
<body>{
        html_body(title=title, summary=summary, verdict=verdict, figures=figures, provenance=provenance, tables=tables)
    }</body></html>
"""
    with atomic_outputs(path) as (temp,):
        temp.write_text(document)


def notebook_html(result: Any) -> str:
    """A result's report body for a notebook: its figures drawn into a temporary folder and embedded."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="genosynth-figures.") as folder:
        summary, verdict, figures = result._report_parts(Path(folder))
        return html_body(
            title=result.report_title,
            summary=summary,
            verdict=verdict,
            figures=figures,
            level=3,
            tables=result._report_tables(),
        )


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)
