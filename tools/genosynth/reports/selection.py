"""The figures of a selection scan: scores along the genome, one panel per set (real, synthetic), with each set's
percentile line, as Fig 3 of Yelmen et al. 2021."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .html import new_figure, save_figure


def selection_figures(folder: Path, report: Any) -> list[tuple[str, Path]]:
    """Draw the XP-EHH, iHS and PBS figures of a SelectionReport into ``folder``; return (caption, PNG) pairs."""
    options, summary, scores = report.options, report.summary, report.scores
    chrom, pos = report.chromosomes, report.positions
    figures = [(f"Standardised XP-EHH, {options['target']} vs {options['versus']}",
                _plot_scan(folder, "xpehh", chrom, pos, scores["xpehh_std"], "standardised XP-EHH", summary["xpehh"],
                           options["percentile"]))]
    if "ihs" in scores:
        figures.append((f"Standardised iHS, {options['target']}",
                        _plot_scan(folder, "ihs", chrom, pos, scores["ihs"], "standardised iHS", summary["ihs"],
                                   options["percentile"])))
    if report.pbs is not None:
        real = report.pbs["real"]
        figures.append((f"PBS of {options['target']} (with {options['versus']}, outgroup {options['outgroup']}), "
                        f"windows of {options['window']} sites",
                        _plot_scan(folder, "pbs", real.chromosomes, (real.starts + real.ends) / 2,
                                   {name: windows.values for name, windows in report.pbs.items()}, "PBS",
                                   summary["pbs"], options["percentile"])))
    return figures


def _plot_scan(folder: Path, name: str, chrom: np.ndarray, pos: np.ndarray, scores: dict[str, np.ndarray],
               label: str, summary: dict, percentile: float) -> Path:
    runs = [(c, np.flatnonzero(chrom == c)) for c in dict.fromkeys(chrom.tolist())]
    x, ticks, start = np.empty(len(pos)), [], 0.0
    for c, index in runs:
        shift = start - pos[index[0]] if len(runs) > 1 else 0.0
        x[index] = (pos[index] + shift) / 1e6
        ticks.append(x[index].mean())
        start = (pos[index[-1]] + shift) + 1.0
    fig = new_figure(8, 2.6 * len(scores))
    axes = fig.subplots(len(scores), 1, sharex=True, sharey=True, squeeze=False)[:, 0]
    for ax, (role, values) in zip(axes, scores.items()):
        ax.scatter(x, values, s=4, color="black" if role == "real" else "tab:orange", rasterized=True)
        threshold = summary["real"]["threshold"] if role == "real" else summary["synthetic"]["threshold_synthetic"]
        if threshold is not None:
            ax.axhline(threshold, color="tab:red", linestyle="--", linewidth=1, label=f"{percentile:g}th percentile")
        ax.set_ylabel(f"{label}\n({role})")
        ax.legend(loc="upper right")
    if len(runs) > 1:
        axes[-1].set_xticks(ticks, [c for c, _ in runs])
        axes[-1].set_xlabel("chromosome")
    else:
        axes[-1].set_xlabel(f"position on chromosome {runs[0][0]} (Mb)")
    return save_figure(fig, folder, name)
