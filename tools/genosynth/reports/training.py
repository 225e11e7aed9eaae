"""What training leaves beside a model file: the history table with its loss and metric curves, and the RBM's
hidden representation of the training haplotypes with a plot of it by population."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from genosynth.io.tables import write_tsv
from genosynth.reports.html import new_figure, save_figure_beside


def write_history(
    path: Path,
    history: list[dict[str, Any]],
    *,
    monitored: tuple[str, ...],
    kept_epoch: int | None,
    max_privacy_loss: float | None = None,
) -> None:
    """The history as TSV (one row per epoch, NA where not monitored) and its curves as PNG and PDF beside it:
    losses; the two halves of the adversarial accuracy with AATS's standard error; allele-frequency r, LD r and
    LD strength, the fixed fraction and the privacy loss with its standard error (and the limit early stopping
    kept it within). ``monitored`` names the columns that are measurements (the rest are losses)."""
    columns = list(dict.fromkeys(key for row in history for key in row))
    write_tsv(path, columns, ([row.get(c) for c in columns] for row in history))
    losses = [c for c in columns if c not in ("epoch", "seconds", *monitored)]
    fig = new_figure(15, 3.8)
    left, middle, right = fig.subplots(1, 3)
    epochs = [row["epoch"] for row in history]
    for column in losses:
        left.plot(epochs, [row.get(column, np.nan) for row in history], label=column)
    left.set_xlabel("epoch")
    left.set_ylabel("loss")
    left.legend(fontsize="small")
    monitored = [row for row in history if row.get("aats") is not None]
    x = np.array([r["epoch"] for r in monitored])

    def values(column: str) -> np.ndarray:
        return np.array([np.nan if r.get(column) is None else r[column] for r in monitored], dtype=float)

    for column in ("aa_truth", "aa_syn"):
        middle.plot(x, values(column), marker=".", label=column)
    aats, error = values("aats"), values("aats_se")
    middle.plot(x, aats, linestyle=":", marker=".", color="black", label="AATS (± 2 SE)")
    middle.fill_between(x, aats - 2 * error, aats + 2 * error, color="black", alpha=0.1)
    middle.axhline(0.5, color="grey", linestyle=":", linewidth=0.8)
    middle.set_ylim(0, 1.02)
    middle.set_title("adversarial accuracy against the training haplotypes", fontsize="small")
    for column in ("af_r", "ld_r", "ld_strength", "fixed_fraction"):
        right.plot(x, values(column), marker=".", label=column)
    if "privacy_loss" in columns:
        loss, loss_error = values("privacy_loss"), values("privacy_loss_se")
        right.errorbar(x, loss, yerr=2 * loss_error, marker=".", capsize=2, label="privacy loss (± 2 SE)")
        if max_privacy_loss is not None:
            right.axhline(max_privacy_loss, color="tab:red", linestyle="--", linewidth=0.8, label="privacy limit")
    right.axhline(0, color="grey", linewidth=0.5)
    for ax in (middle, right):
        ax.set_xlabel("epoch")
        if kept_epoch is not None:
            ax.axvline(kept_epoch, color="black", linestyle="--", linewidth=0.8, label=f"kept (epoch {kept_epoch})")
        ax.legend(fontsize="small")
    save_figure_beside(fig, path)


def write_hidden_representation(path: Path, hidden: np.ndarray, matrix: Any, *, pca: Any) -> None:
    """E[h | v] of every training haplotype (``hidden``, n x n_hidden) as TSV, and its first two principal
    components (``pca``, as :func:`genosynth.assess.fidelity.principal_components` returns them) coloured by
    population beside it."""
    header = ["sample", "haplotype", "population"] + [f"h{j + 1}" for j in range(hidden.shape[1])]
    rows = (
        [sample, index, population, *values]
        for sample, index, population, values in zip(
            matrix.haplotype_sample, matrix.haplotype_index, matrix.haplotype_population, hidden
        )
    )
    write_tsv(path, header, rows, spec=".5g")
    fig = new_figure(5.5, 4.5)
    ax = fig.add_subplot()
    populations = matrix.haplotype_population
    for population in np.unique(populations):
        shown = populations == population
        ax.scatter(
            pca.scores[shown, 0],
            pca.scores[shown, 1],
            s=4,
            alpha=0.6,
            rasterized=True,
            label=population or "(no label)",
        )
    ax.set_xlabel(f"hidden PC1 ({pca.explained_variance_ratio[0]:.1%})")
    ax.set_ylabel(f"hidden PC2 ({pca.explained_variance_ratio[1]:.1%})")
    ax.set_title("RBM hidden representation of the training haplotypes", fontsize="medium")
    ax.legend(markerscale=3, fontsize="small")
    save_figure_beside(fig, path)
