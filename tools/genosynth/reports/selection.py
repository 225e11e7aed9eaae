"""The figures of a selection scan: scores along the genome, one panel per set (real, synthetic), with each set's
percentile line, as Fig 3 of Yelmen et al. 2021; for the CNN also the posterior mean of S with its 95% HPD
interval per window and the network's confusion matrix on held-out simulations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from genosynth.reports.html import new_figure, save_figure


def selection_figures(folder: Path, report: Any) -> list[tuple[str, Path]]:
    """Draw the XP-EHH, iHS, PBS and CNN figures of a SelectionReport into ``folder``; return (caption, PNG) pairs."""
    options, summary, scores = report.options, report.summary, report.scores
    chrom, pos = report.chromosomes, report.positions
    figures = []
    if "xpehh_std" in scores:
        figures.append(
            (
                f"Standardised XP-EHH, {options['target']} vs {options['versus']}",
                _plot_scan(
                    folder,
                    "xpehh",
                    chrom,
                    pos,
                    scores["xpehh_std"],
                    "standardised XP-EHH",
                    summary["xpehh"],
                    options["percentile"],
                ),
            )
        )
    if "ihs" in scores:
        figures.append(
            (
                f"Standardised iHS, {options['target']}",
                _plot_scan(
                    folder, "ihs", chrom, pos, scores["ihs"], "standardised iHS", summary["ihs"], options["percentile"]
                ),
            )
        )
    if report.pbs is not None:
        real = report.pbs["real"]
        figures.append(
            (
                f"PBS of {options['target']} (with {options['versus']}, outgroup {options['outgroup']}), "
                f"windows of {options['window']} sites",
                _plot_scan(
                    folder,
                    "pbs",
                    real.chromosomes,
                    (real.starts + real.ends) / 2,
                    {name: windows.values for name, windows in report.pbs.items()},
                    "PBS",
                    summary["pbs"],
                    options["percentile"],
                ),
            )
        )
    if report.cnn is not None:
        figures += _cnn_figures(folder, report.cnn, summary["cnn"], options)
    return figures


def _cnn_figures(folder: Path, scan: Any, summary: dict, options: dict) -> list[tuple[str, Path]]:
    middle = (scan.starts + scan.ends) / 2
    classes = np.array(summary["training"]["classes"])
    figures = [
        (
            f"CNN P(selection) of {options['target']} per window of {options['cnn_window_sites']} sites",
            _plot_scan(
                folder,
                "cnn_p_selection",
                scan.chromosomes,
                middle,
                {role: p["p_selection"] for role, p in scan.posteriors.items()},
                "P(selection)",
                summary["p_selection"],
                options["percentile"],
            ),
        )
    ]
    fig = new_figure(8, 2.6 * len(scan.posteriors))
    axes = fig.subplots(len(scan.posteriors), 1, sharex=True, sharey=True, squeeze=False)[:, 0]
    x = _genome_axis(scan.chromosomes, middle)
    for ax, (role, posterior) in zip(axes, scan.posteriors.items()):
        colour = "black" if role == "real" else "tab:orange"
        ax.vlines(x, posterior["hpd_low"], posterior["hpd_high"], color=colour, alpha=0.25, linewidth=1)
        ax.scatter(x, posterior["s_mean"], s=5, color=colour, label="posterior mean, 95% HPD")
        ax.set_ylim(classes.min() - 0.05 * np.ptp(classes), classes.max() + 0.05 * np.ptp(classes))
        ax.set_ylabel(f"S = 2Ns\n({role})")
        ax.legend(loc="upper right")
    axes[-1].set_xlabel(
        "window (Mb, chromosomes one after another)"
        if len(set(scan.chromosomes.tolist())) > 1
        else f"position on chromosome {scan.chromosomes[0]} (Mb)"
    )
    figures.append(("CNN posterior mean of S with its 95% HPD interval per window", save_figure(fig, folder, "cnn_s")))
    evaluation = summary["training"]["evaluation"]
    if evaluation.get("confusion_matrix"):
        confusion = np.array(evaluation["confusion_matrix"], dtype=float)
        share = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
        fig = new_figure(4.5, 4)
        ax = fig.subplots()
        image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        labels = [f"{value:g}" for value in classes]
        ax.set_xticks(range(len(labels)), labels, rotation=90)
        ax.set_yticks(range(len(labels)), labels)
        for (i, j), value in np.ndenumerate(confusion):
            ax.text(
                j,
                i,
                f"{int(value)}",
                ha="center",
                va="center",
                color="white" if share[i, j] > 0.5 else "black",
                fontsize=7,
            )
        ax.set_xlabel("predicted S (most probable class)")
        ax.set_ylabel("simulated S")
        fig.colorbar(image, ax=ax, label="share of the simulated class")
        figures.append(
            (
                f"CNN confusion matrix on {evaluation['test_simulations']} held-out simulations "
                f"(accuracy {evaluation['test_accuracy']:.3f})",
                save_figure(fig, folder, "cnn_confusion"),
            )
        )
    return figures


def _genome_axis(chrom: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Positions in Mb, chromosomes laid one after another when there are several."""
    runs = [(c, np.flatnonzero(chrom == c)) for c in dict.fromkeys(chrom.tolist())]
    x, start = np.empty(len(pos)), 0.0
    for _, index in runs:
        shift = start - pos[index[0]] if len(runs) > 1 else 0.0
        x[index] = (pos[index] + shift) / 1e6
        start = (pos[index[-1]] + shift) + 1.0
    return x


def _plot_scan(
    folder: Path,
    name: str,
    chrom: np.ndarray,
    pos: np.ndarray,
    scores: dict[str, np.ndarray],
    label: str,
    summary: dict,
    percentile: float,
) -> Path:
    runs = [(c, np.flatnonzero(chrom == c)) for c in dict.fromkeys(chrom.tolist())]
    x = _genome_axis(chrom, pos)
    ticks = [x[index].mean() for _, index in runs]
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
