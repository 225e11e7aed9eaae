"""The figure of an imputation comparison: r² by minor-allele-frequency bin for each panel (Fig 4 of Yelmen et al.
2021)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from genosynth.reports.html import new_figure, save_figure

_STYLES = {
    "panel": ("black", "o", "real panel"),
    "augmented": ("tab:orange", "s", "panel + artificial"),
    "private": ("tab:blue", "^", "panel + private (perfect)"),
}


def imputation_figure(folder: Path, summary: dict[str, Any], panels: list[str]) -> Path:
    """Draw r² by MAF bin of each panel into ``folder``; return the PNG's path."""
    fig = new_figure(7, 4.2)
    ax = fig.add_subplot()
    labels = [f"{b['maf_low']:g}–{b['maf_high']:g}" for b in summary["panel"]["bins"]]
    for name in panels:
        color, marker, label = _STYLES[name]
        values = [np.nan if b["r2"] is None else b["r2"] for b in summary[name]["bins"]]
        ax.plot(range(len(values)), values, color=color, marker=marker, label=label)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_xlabel("minor allele frequency in the reference panel")
    ax.set_ylabel("imputation r² (dosage vs truth)")
    ax.set_ylim(0, 1.02)
    ax.legend()
    return save_figure(fig, folder, "impute")
