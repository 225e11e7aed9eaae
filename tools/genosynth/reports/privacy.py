"""The figures of a privacy check: distances to closest records, the membership-inference ROC curve, the
adversarial accuracies against training and held-out haplotypes, the attribute-inference accuracies and the
exposure of each training haplotype."""

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
    low, high = metrics["mia_auc_ci"]
    ax.plot(fpr, tpr, label=f"AUC {metrics['mia_auc']:.3f} (95% CI {low:.3f}-{high:.3f})")
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
    figures.append(_attribute_figure(folder, metrics, curves))
    figures.append(_exposure_figure(folder, metrics, curves))
    return figures


def _attribute_figure(folder: Path, metrics: dict[str, Any], curves: dict[str, Any]) -> tuple[str, Path]:
    """Each target's share of hidden sites guessed right, training against held-out targets."""
    fig = new_figure(5.5, 4)
    ax = fig.add_subplot()
    accuracy = curves["attribute_accuracy"]
    bins = np.linspace(min(a.min() for a in accuracy.values()), 1, 31)
    for role, label in (("train", "training targets"), ("holdout", "held-out targets")):
        key = f"attribute_accuracy_{role}"
        ax.hist(accuracy[role], bins=bins, histtype="step", density=True, label=f"{label}, mean {metrics[key]:.3f}")
    ax.axvline(metrics["attribute_baseline_holdout"], color="grey", linestyle=":", label="commoner synthetic allele")
    ax.set_xlabel(f"share of {metrics['hidden_sites']} hidden sites guessed right")
    ax.set_ylabel("density")
    ax.set_title(
        f"gap {metrics['attribute_gap']:.3f} ± {metrics['attribute_gap_se']:.3f} (SE), "
        f"{metrics['attribute_targets']} targets of each",
        fontsize="medium",
    )
    ax.legend(fontsize="small")
    return "Attribute inference from the nearest synthetic haplotype", save_figure(fig, folder, "attribute_inference")


def _exposure_figure(folder: Path, metrics: dict[str, Any], curves: dict[str, Any]) -> tuple[str, Path]:
    """The training haplotypes' exposure p-values against the uniform quantiles they follow without a leak."""
    fig = new_figure(4.5, 4.5)
    ax = fig.add_subplot()
    p_values = np.sort(curves["exposure_p_values"])
    expected = (np.arange(1, len(p_values) + 1) - 0.5) / len(p_values)
    ax.loglog(expected, p_values, marker=".", linestyle="none", markersize=3, label="training haplotypes")
    ax.loglog([expected[0], 1], [expected[0], 1], color="grey", linestyle=":", label="no leak")
    ax.axhline(metrics["exposure_level"], color="tab:red", linestyle="--", linewidth=0.8)
    ax.set_xlabel("expected p-value (uniform quantile)")
    ax.set_ylabel("exposure p-value")
    ax.set_title(
        f"exposed (p ≤ {metrics['exposure_level']}): {metrics['exposed_fraction']:.3f} "
        f"± {metrics['exposed_fraction_se']:.3f}",
        fontsize="medium",
    )
    ax.legend(fontsize="small")
    return "Exposure of each training haplotype", save_figure(fig, folder, "exposure")
