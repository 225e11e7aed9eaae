"""The figures of a privacy check: distances to closest records, the membership-inference ROC curve and the
adversarial accuracies against training and held-out haplotypes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from genosynth.reports.html import new_figure, save_figure


def privacy_figures(folder: Path, metrics: dict[str, Any], curves: dict[str, Any]) -> list[tuple[str, Path]]:
    """Draw every figure into ``folder`` (PNG and PDF); return (caption, PNG path) pairs."""
    figures = []
    fig = new_figure()
    ax = fig.add_subplot()
    top = int(max(curves[k].max() for k in ("syn_to_train", "syn_to_holdout", "holdout_to_train"))) + 2
    for key, label in (
        ("syn_to_train", "synthetic → train"),
        ("syn_to_holdout", "synthetic → holdout"),
        ("holdout_to_train", "holdout → train"),
    ):
        ax.hist(curves[key], bins=np.linspace(0, top, min(top, 60) + 1), histtype="step", density=True, label=label)
    ax.set_xlabel("Hamming distance to closest record (sites)")
    ax.set_ylabel("density")
    ax.legend()
    figures.append(("Distance to closest record", save_figure(fig, folder, "dcr")))
    fig = new_figure(4.5, 4.5)
    ax = fig.add_subplot()
    fpr, tpr = curves["roc"]
    ax.plot(fpr, tpr, label=f"AUC {metrics['mia_auc']:.3f}")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="no leak")
    ax.set_xlabel("false positive rate (held-out called member)")
    ax.set_ylabel("true positive rate (training called member)")
    ax.legend()
    figures.append(("Membership inference by nearest-synthetic distance", save_figure(fig, folder, "mia_roc")))
    fig = new_figure(5, 4)
    ax = fig.add_subplot()
    width = 0.38
    for shift, role in ((-width / 2, "train"), (width / 2, "holdout")):
        ax.bar(
            np.arange(3) + shift,
            [metrics[f"aa_truth_{role}"], metrics[f"aa_syn_{role}"], metrics[f"aats_{role}"]],
            width,
            label=role,
        )
    ax.axhline(0.5, color="grey", linestyle=":")
    ax.set_xticks(range(3), ["AA truth", "AA syn", "AATS"])
    ax.set_ylim(0, 1)
    ax.set_title(f"on {metrics['aats_size']} haplotypes of each set", fontsize="medium")
    ax.legend()
    figures.append(("Nearest-neighbour adversarial accuracy", save_figure(fig, folder, "aats")))
    return figures
