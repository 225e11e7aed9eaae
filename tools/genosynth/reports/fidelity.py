"""The report of ``genosynth evaluate``: its metrics table (sets as rows, the held-out real set as the reference
row, each figure marked against it and the targets) and its figures (after Yelmen et al. 2021 Figs 1-2 and S
figures), each saved as PNG and PDF; dense scatter layers are rasterised so PDFs stay small."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genosynth.io.tables import format_cell
from genosynth.reports.html import Cell, HtmlTable, new_figure, save_figure

REAL_COLOUR = "0.55"
_LOW_FREQUENCY = 0.1
REFERENCE_SET = "holdout"


@dataclass(frozen=True)
class Column:
    """A metric as the table shows it: its key in a set's metrics, heading, number format, what is better
    (``"higher"``, ``"lower"`` or a value to be near) and the target, if any: ``(low, high)``, either end None."""

    key: str
    heading: str
    spec: str
    better: str | float
    target: tuple[float | None, float | None] | None = None

    def meets(self, value: float) -> bool:
        low, high = self.target or (None, None)
        return (low is None or value >= low) and (high is None or value <= high)


# targets: those the 805-SNP benchmark holds every generator to (docs: concepts, benchmarks); on other data they
# are a guide, and the held-out row says what real haplotypes of the population score
COLUMNS = (
    Column("n_haplotypes", "haplotypes", "d", "none"),
    Column("af_r", "AF r", ".4f", "higher", (0.99, None)),
    Column("fixed_fraction", "sites fixed", ".4f", "lower"),
    Column("ld_r", "LD r", ".4f", "higher"),
    Column("ld_strength", "LD strength", ".3f", 1.0),
    Column("ld_r_all_pairs", "LD r (all pairs)", ".4f", "higher", (0.95, None)),
    Column("boundary_ld_r", "boundary LD r", ".4f", "higher"),
    Column("within_window_ld_r", "within-window LD r", ".4f", "higher"),
    Column("boundary_ld_strength", "boundary LD strength", ".3f", 1.0),
    Column("within_window_ld_strength", "within-window LD strength", ".3f", 1.0),
    Column("w2d_pca", "PCA W2D", ".4f", "lower", (None, 0.006)),
    Column("pairwise_w", "pairwise W", ".3g", "lower"),
    Column("pairwise_between_w", "between W", ".3g", "lower"),
    Column("aats", "AATS", ".3f", 0.5, (0.45, 0.60)),
    Column("exact_copies_of_real", "copies of real", "d", "lower", (None, 0)),
)


def metrics_table(sets: dict[str, dict[str, Any]]) -> HtmlTable:
    """Sets as rows and metrics as columns; the held-out real set, when there is one, first as the reference row,
    every other figure with its difference from it, and each figure that has a target marked pass or fail.
    Columns no set has a value for (boundary LD without windows) are left out."""
    columns = [c for c in COLUMNS if any(_number(m.get(c.key)) is not None for m in sets.values())]
    reference = sets.get(REFERENCE_SET)
    rows = []
    for name, metrics in sets.items():
        row = [Cell(f"{name} (reference)" if name == REFERENCE_SET else name)]
        for column in columns:
            value = _number(metrics.get(column.key))
            if value is None:
                row.append(Cell(format_cell(None)))
                continue
            mark = "" if column.target is None else ("pass" if column.meets(value) else "fail")
            note = ""
            base = None if reference is None or name == REFERENCE_SET else _number(reference.get(column.key))
            if base is not None and column.better != "none":
                note = f"Δ {value - base:+{'.0f' if column.spec == 'd' else column.spec}}"
            row.append(Cell(_formatted(value, column.spec), mark, note))
        rows.append(row)
    targets = "; ".join(f"{c.heading} {_target_text(c)}" for c in columns if c.target is not None)
    legend = (
        f"Green: meets the target, red: misses it (targets of the 805-SNP benchmark: {targets}). Better is "
        + "; ".join(f"{c.heading} {_better_text(c)}" for c in columns if c.better != "none")
        + "."
    )
    if reference is not None:
        legend += (
            " Δ: the difference from the reference row, the held-out real haplotypes (what a perfect generator "
            "scores); where that row misses a target, the target does not suit these data."
        )
    header = ["set"] + [c.heading for c in columns]
    return HtmlTable(
        "Metrics by set", header, rows, reference_rows=(0,) if reference is not None else (), legend=legend
    )


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, (list, dict, str)):
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _formatted(value: float, spec: str) -> str:
    return str(int(value)) if spec == "d" else format(value, spec)


def _target_text(column: Column) -> str:
    low, high = column.target or (None, None)
    if low is not None and high is not None:
        return f"{low:g}-{high:g}"
    return f">= {low:g}" if low is not None else f"<= {high:g}"


def _better_text(column: Column) -> str:
    return f"near {column.better:g}" if isinstance(column.better, float) else column.better


class FidelityPlots:
    """Draws every evaluate figure from the computed data; ``all()`` returns (caption, PNG path) pairs."""

    def __init__(self, directory: Path, names: list[str], data: dict, metrics: dict) -> None:
        import matplotlib

        self.directory = directory
        self.names = names
        self.data = data
        self.metrics = metrics
        cycle = matplotlib.colormaps["tab10"].colors
        self.colours = {name: cycle[i % len(cycle)] for i, name in enumerate(names)}

    def all(self) -> list[tuple[str, Path]]:
        figures = [self.pca_combined(), self.pca_paired(), self.allele_frequencies(), self.ld_decay()]
        if self.data["ld"].boundary_decay:
            figures.append(self.ld_across_boundaries())
        figures += self.ld_heatmaps()
        figures += [self.pairwise_differences(), self.three_point(), self.nearest_neighbours()]
        return figures

    def _grid(self, n_panels: int, *, columns: int = 3, size: float = 3.2):
        columns = min(columns, n_panels)
        rows = -(-n_panels // columns)
        fig = new_figure(size * columns, size * rows)
        axes = fig.subplots(rows, columns, squeeze=False).reshape(-1)
        for ax in axes[n_panels:]:
            ax.set_visible(False)
        return fig, axes

    def pca_combined(self) -> tuple[str, Path]:
        pca = self.data["combined_pca"]
        bounds = np.cumsum([0] + self.data["set_sizes"])
        ratio = pca.explained_variance_ratio
        pairs = [(k, k + 1) for k in range(0, pca.scores.shape[1] - 1, 2)]
        fig = new_figure(3.2 * len(pairs), 3.0 * len(self.names))
        axes = fig.subplots(len(self.names), len(pairs), squeeze=False)
        real = pca.scores[: bounds[1]]
        for row, name in enumerate(self.names):
            points = pca.scores[bounds[row + 1] : bounds[row + 2]]
            for ax, (a, b) in zip(axes[row], pairs):
                ax.scatter(real[:, a], real[:, b], s=3, alpha=0.5, color=REAL_COLOUR, rasterized=True, label="real")
                ax.scatter(
                    points[:, a], points[:, b], s=3, alpha=0.3, color=self.colours[name], rasterized=True, label=name
                )
                ax.set_xlabel(f"PC{a + 1} ({ratio[a]:.1%})")
                ax.set_ylabel(f"PC{b + 1} ({ratio[b]:.1%})")
            axes[row, 0].legend(markerscale=4, fontsize="small")
        return "PCA fitted on all sets combined, one row per set (real in grey)", save_figure(
            fig, self.directory, "pca"
        )

    def pca_paired(self) -> tuple[str, Path]:
        fig, axes = self._grid(len(self.names))
        for ax, name in zip(axes, self.names):
            scores = self.data["per_set"][name]["paired_pca"].scores
            n_real = self.metrics["real"]["n_haplotypes"]
            ax.scatter(
                scores[:n_real, 0], scores[:n_real, 1], s=3, alpha=0.5, color=REAL_COLOUR, rasterized=True, label="real"
            )
            ax.scatter(
                scores[n_real:, 0],
                scores[n_real:, 1],
                s=3,
                alpha=0.5,
                color=self.colours[name],
                rasterized=True,
                label=name,
            )
            ax.set_title(f"{name}: W2D {_short(self.metrics['sets'][name]['w2d_pca'])}", fontsize="medium")
            ax.set_xlabel("PC1")
            ax.set_ylabel("PC2")
            ax.legend(markerscale=4, fontsize="small")
        return (
            "PCA of the real set with each set (2-D Wasserstein distance of the PC1-2 clouds)",
            save_figure(fig, self.directory, "pca_paired"),
        )

    def allele_frequencies(self) -> tuple[str, Path]:
        n = len(self.names)
        fig = new_figure(3.2 * n, 6.4)
        axes = fig.subplots(2, n, squeeze=False)
        real = self.data["af_real"]
        for column, name in enumerate(self.names):
            synthetic = self.data["per_set"][name]["af"]
            for row, limit in enumerate((1.0, _LOW_FREQUENCY)):
                ax = axes[row, column]
                shown = real <= limit if row else slice(None)
                ax.scatter(real[shown], synthetic[shown], s=4, alpha=0.5, color=self.colours[name], rasterized=True)
                ax.plot([0, limit], [0, limit], color="black", linewidth=0.8, linestyle=":")
                ax.set_xlim(0, limit)
                ax.set_ylim(0, limit if row == 0 else max(limit, float(synthetic[shown].max(initial=0))))
                ax.set_xlabel("real allele frequency")
                ax.set_ylabel(f"{name} allele frequency")
            m = self.metrics["sets"][name]
            axes[0, column].set_title(
                f"{name}: r {_short(m['af_r'])}, fixed {_short(m['fixed_fraction'])}", fontsize="medium"
            )
            axes[1, column].set_title(f"real frequency <= {_LOW_FREQUENCY}", fontsize="medium")
        return "Allele frequencies, whole range and low frequencies", save_figure(
            fig, self.directory, "allele_frequencies"
        )

    def ld_decay(self) -> tuple[str, Path]:
        """One small panel per set, its decay curve over the real set's (grey), on shared axes: many sets stay
        readable where one axis of many curves would not."""
        from matplotlib.ticker import MaxNLocator

        ld = self.data["ld"]
        centres = (ld.bin_edges[:-1] + ld.bin_edges[1:]) / 2 / 1000
        curves = {
            name: np.array([np.nan if v is None else v for v in ld.decay[name]], dtype=float)
            for name in ["real"] + self.names
        }
        fig, axes = self._grid(len(self.names), columns=4, size=2.6)
        top = np.nanmax([np.nanmax(c) if np.isfinite(c).any() else 0.0 for c in curves.values()] + [0.01]) * 1.05
        for ax, name in zip(axes, self.names):
            ax.plot(centres, curves["real"], color=REAL_COLOUR, linewidth=2.5, label="real")
            ax.plot(centres, curves[name], color=self.colours[name], linewidth=1.2, marker=".", label=name)
            ax.set_ylim(0, top)
            ax.set_title(f"{name}: LD r {_short(self.metrics['sets'][name]['ld_r'])}", fontsize="small")
            ax.set_xlabel("distance (kb)", fontsize="small")
            ax.set_ylabel("mean r²", fontsize="small")
            ax.tick_params(labelsize="x-small")
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.legend(fontsize="x-small")
        fig.suptitle(f"LD decay over {len(ld.sites)} sites polymorphic in every set (grey: real)", fontsize="medium")
        return "LD decay (50 distance bins), one panel per set against the real set", save_figure(
            fig, self.directory, "ld_decay"
        )

    def ld_across_boundaries(self) -> tuple[str, Path]:
        """Mean r² by separation in sites, over pairs inside windows (solid) and pairs straddling a window
        boundary (dashed): a chain that keeps linkage shows the two curves together."""
        ld = self.data["ld"]
        fig = new_figure()
        ax = fig.add_subplot()
        for name in ["real"] + self.names:
            colour = REAL_COLOUR if name == "real" else self.colours[name]
            for curves, style, where in (
                (ld.within_decay, "-", "within windows"),
                (ld.boundary_decay, "--", "across boundaries"),
            ):
                values = np.array([np.nan if v is None else v for v in curves[name]])
                label = f"{name} {where}"
                if name != "real" and where == "across boundaries":
                    m = self.metrics["sets"][name]
                    label += f" (r {_short(m['boundary_ld_r'])}, strength {_short(m['boundary_ld_strength'])})"
                ax.plot(
                    np.arange(1, len(values) + 1),
                    values,
                    linestyle=style,
                    color=colour,
                    label=label,
                    linewidth=2.5 if name == "real" else 1.2,
                )
        ax.set_xlabel("separation (sites)")
        ax.set_ylabel("mean r²")
        boundaries = self.metrics["ld"]["window_boundaries"]
        ax.set_title(f"LD decay within windows and across {len(boundaries)} window boundaries", fontsize="medium")
        ax.legend(fontsize="x-small")
        return "LD within windows and across window boundaries", save_figure(fig, self.directory, "ld_boundaries")

    def ld_heatmaps(self) -> list[tuple[str, Path]]:
        figures = []
        for name, (real_r2, set_r2) in self.data["ld_heatmaps"].items():
            combined = np.tril(real_r2, k=-1) + np.triu(set_r2, k=1)
            np.fill_diagonal(combined, 1.0)
            fig = new_figure(5.2, 4.5)
            ax = fig.add_subplot()
            image = ax.imshow(combined, cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
            fig.colorbar(image, ax=ax, label="r²")
            ax.set_title(f"r²: real (lower) vs {name} (upper), first {len(combined)} sites", fontsize="medium")
            ax.set_xlabel("site")
            ax.set_ylabel("site")
            figures.append((f"LD heatmap, real vs {name}", save_figure(fig, self.directory, f"ld_heatmap_{name}")))
        return figures

    def pairwise_differences(self) -> tuple[str, Path]:
        fig, axes = self._grid(len(self.names))
        within_real = self.data["within_real"].histogram
        top = _last_nonzero(
            [within_real] + [self.data["per_set"][n][k].histogram for n in self.names for k in ("within", "between")]
        )
        x = np.arange(top + 1)
        for ax, name in zip(axes, self.names):
            per_set = self.data["per_set"][name]
            for counts, label, colour, style in (
                (within_real, "within real", REAL_COLOUR, "-"),
                (per_set["within"].histogram, f"within {name}", self.colours[name], "-"),
                (per_set["between"].histogram, f"real vs {name}", self.colours[name], "--"),
            ):
                ax.plot(x, counts[: top + 1] / max(counts.sum(), 1), label=label, color=colour, linestyle=style)
            m = self.metrics["sets"][name]
            ax.set_title(
                f"{name}: W within {_short(m['pairwise_w'])}, between {_short(m['pairwise_between_w'])}",
                fontsize="small",
            )
            ax.set_xlabel("pairwise differences (sites)")
            ax.set_ylabel("fraction of pairs")
            ax.legend(fontsize="small")
        return "Pairwise haplotype differences within and between sets", save_figure(
            fig, self.directory, "pairwise_differences"
        )

    def three_point(self) -> tuple[str, Path]:
        """One small panel per set: its connected 3-point correlations against the real ones, every separation
        pooled (each separation's r in the metrics table's JSON and in the panel's legend)."""
        correlations = self.data["three_point"]
        separations = list(correlations["real"])
        fig, axes = self._grid(len(self.names), columns=4, size=2.8)
        real = np.concatenate([correlations["real"][sep] for sep in separations]) if separations else np.zeros(0)
        low, high = float(real.min(initial=0)), float(real.max(initial=0))
        for ax, name in zip(axes, self.names):
            values = np.concatenate([correlations[name][sep] for sep in separations]) if separations else np.zeros(0)
            ax.scatter(real, values, s=2, alpha=0.3, color=self.colours[name], rasterized=True)
            ax.plot([low, high], [low, high], color="black", linewidth=0.8, linestyle=":")
            by_separation = self.metrics["sets"][name]["three_point_r"]
            shown = ", ".join(f"{sep}: {_short(by_separation[sep])}" for sep in separations[:3])
            ax.set_title(f"{name}", fontsize="small")
            ax.text(0.02, 0.98, f"r by separation\n{shown}", transform=ax.transAxes, va="top", fontsize="x-small")
            ax.set_xlabel("real", fontsize="small")
            ax.set_ylabel(name, fontsize="small")
            ax.tick_params(labelsize="x-small")
        fig.suptitle(
            "Connected 3-point correlations of site triplets, set against real (dotted: equal)", fontsize="medium"
        )
        return "3-point correlations of site triplets, one panel per set", save_figure(
            fig, self.directory, "three_point"
        )

    def nearest_neighbours(self) -> tuple[str, Path]:
        """One small panel per set: each real haplotype's distance to its nearest member of the set, against its
        distance to its nearest other real haplotype (grey)."""
        real_real = self.data["within_real"].nearest_a
        per_set = {name: self.data["per_set"][name]["between"].nearest_a for name in self.names}
        top = int(max([real_real.max(initial=0)] + [v.max(initial=0) for v in per_set.values()])) + 2
        edges = np.linspace(0, top, min(top, 60) + 1)
        fig, axes = self._grid(len(self.names), columns=4, size=2.6)
        for ax, name in zip(axes, self.names):
            ax.hist(
                real_real,
                bins=edges,
                histtype="step",
                density=True,
                color=REAL_COLOUR,
                linewidth=2,
                label="to nearest other real",
            )
            ax.hist(
                per_set[name],
                bins=edges,
                histtype="step",
                density=True,
                color=self.colours[name],
                linewidth=1.2,
                label=f"to nearest {name}",
            )
            ax.set_title(f"{name}: AATS {_short(self.metrics['sets'][name]['aats'])}", fontsize="small")
            ax.set_xlabel("Hamming distance (sites)", fontsize="small")
            ax.set_ylabel("density", fontsize="small")
            ax.tick_params(labelsize="x-small")
            ax.legend(fontsize="x-small")
        fig.suptitle("Distance of each real haplotype to its nearest neighbour", fontsize="medium")
        return "Distance of each real haplotype to its nearest neighbour, one panel per set", save_figure(
            fig, self.directory, "nearest_neighbours"
        )


def _last_nonzero(histograms: list[np.ndarray]) -> int:
    return max(int(np.flatnonzero(h).max(initial=0)) for h in histograms)


def _short(value: object) -> str:
    return format_cell(value, ".3f")
