"""Plots and HTML pages of each result type, apart from computing them; :class:`Report` is what every typed result
(fidelity, privacy, selection, imputation) shares: ``to_dict()``, ``write(folder)`` and a notebook view."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from genosynth._infra.atomic import atomic_directory
from genosynth.reports.html import HtmlTable, notebook_html, write_html_report, write_json

ReportParts = tuple[Sequence[tuple[str, str]], "str | None", Sequence[tuple[str, Path]]]


class Report:
    """Base of the typed results. A subclass sets ``report_title`` and ``json_name`` and provides ``to_dict``,
    ``provenance`` and ``_report_parts(folder)`` (summary rows, verdict, figures drawn into ``folder``);
    ``_write_files(folder)`` adds its tables."""

    report_title = "genosynth"
    json_name = "result.json"
    step: str | None = None  # the command-line step writing this report (recorded in the folder's manifest)
    provenance: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def _report_parts(self, folder: Path) -> ReportParts:
        raise NotImplementedError

    def _report_tables(self) -> Sequence[HtmlTable]:
        """Tables the report shows under its summary (none unless a subclass has them)."""
        return ()

    def _write_files(self, folder: Path) -> None:
        """Tables and other files beside the JSON, the figures and report.html."""

    def write(self, folder: str | Path) -> Path:
        """Write the JSON, tables, figures (PNG and PDF) and a self-contained report.html into ``folder``.

        The folder is built under a temporary name beside it and swapped in whole at the end: an interrupted or
        failed write leaves the previous complete folder, or none.
        """
        folder = Path(folder)
        with atomic_directory(folder, step=self.step) as temp:
            summary, verdict, figures = self._report_parts(temp)
            write_json(temp / self.json_name, self.to_dict())
            self._write_files(temp)
            write_html_report(
                temp / "report.html",
                title=self.report_title,
                summary=summary,
                verdict=verdict,
                figures=figures,
                provenance=self.provenance,
                tables=self._report_tables(),
            )
        return folder

    def _repr_html_(self) -> str:
        return notebook_html(self)
