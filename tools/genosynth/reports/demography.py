"""The figures of demographic model choice: the posterior probability of each scenario for the real set and each
artificial set side by side (one panel per classifier), and both classifiers' confusion matrices on the held-out
simulations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from genosynth.reports.html import new_figure, save_figure

METHODS = (("cnn", "CNN"), ("forest", "random forest"))


def demography_figures(folder: Path, report: Any) -> list[tuple[str, Path]]:
    """Draw the posterior bars and confusion matrices of a DemographyReport into ``folder``; (caption, PNG) pairs."""
    names = report.names
    sets = list(report.posteriors)
    fig = new_figure(4 + 1.2 * len(sets) * len(names) / 2, 3.6)
    axes = fig.subplots(1, 2, sharey=True)
    width = 0.8 / len(sets)
    for ax, (method, title) in zip(axes, METHODS):
        for i, set_name in enumerate(sets):
            values = [report.posteriors[set_name][method][name] for name in names]
            ax.bar(
                np.arange(len(names)) + (i - (len(sets) - 1) / 2) * width,
                values,
                width=width,
                label=set_name,
                color="black" if set_name == "real" else f"C{i}",
            )
        ax.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(title)
    axes[0].set_ylabel("posterior probability")
    axes[-1].legend(fontsize=8)
    figures = [
        (
            "Posterior probability of each scenario (mean class probability over "
            f"{report.posteriors['real']['windows']} windows), real and artificial sets",
            save_figure(fig, folder, "posteriors"),
        )
    ]
    fig = new_figure(8.5, 3.8)
    axes = fig.subplots(1, 2)
    for ax, (method, title) in zip(axes, METHODS):
        evaluation = report.evaluation[method]
        confusion = np.array(evaluation["confusion_matrix"], dtype=float)
        share = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        for (i, j), value in np.ndenumerate(confusion):
            ax.text(j, i, f"{int(value)}", ha="center", va="center", color="white" if share[i, j] > 0.5 else "black")
        ax.set_xlabel("predicted scenario")
        ax.set_ylabel("simulated scenario")
        ax.set_title(f"{title}: accuracy {evaluation['test_accuracy']:.3f}")
    figures.append(
        (
            f"Confusion matrices on {report.evaluation['cnn']['test_simulations']} held-out simulations",
            save_figure(fig, folder, "confusion"),
        )
    )
    return figures
