"""The documentation page of the chromosome recipe benchmark (``bench/chromosome_recipe.py``): Markdown tables and
PNG plots made from its JSON, nothing typed by hand.

    .venv/bin/python bench/chromosome_recipe.py render docs/benchmarks/chromosome-recipe.json --docs docs/benchmarks

writes ``chromosomes.md``, ``chromosome-frontier.png`` and ``chromosome-memory.png`` into the folder.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from chromosome_recipe import DOCUMENTED_NEURAL, TARGETS

GPU_JSON = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "gpu.json"  # bench/gpu.py's results
GENOME_BP = 3.1e9
NEURAL_COLOURS = (
    "tab:orange",
    "tab:green",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:olive",
)  # the autosomes and X, about
DATASETS = {  # the name of each dataset, and the population labels the mosaic copies within
    "chr22": ("the 5.5 Mb chr22 OutOfAfrica_3G09 simulation", "its three populations (YRI, CEU, CHB)"),
    "805": ("the 805 SNPs of 1000 Genomes", "1000 Genomes' 26 populations (population codes, not superpopulations)"),
}


def render_page(result: dict[str, Any], folder: Path, *, source: Path) -> Path:
    """Write ``chromosomes.md`` and its plots for ``result`` into ``folder``; returns the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    sections = result["sections"]
    lines = [
        "# Whole chromosomes: the recipe's evidence",
        "",
        f"<!-- made by `bench/chromosome_recipe.py render {source.name} --docs {folder.name}`; do not edit -->",
        "",
    ]
    if result.get("tiny"):
        lines += [
            '!!! note "Toy sizes"',
            "    These figures come from the benchmark's tiny mode, the check that the script runs; they measure "
            "nothing a user needs.",
            "",
        ]
    lines += [
        f"Every number on this page is in [`{source.name}`]({source.name}), written by `bench/chromosome_recipe.py`; "
        "each section names the command that measured it and the machine. The targets are those of a chromosome "
        "recipe: AF r at least 0.99; LD r over pairs within 100 kb at least the held-out real set's minus 0.03; LD "
        "strength within 10% of the real set's; `boundary_ld_r` at least `within_window_ld_r` minus 0.05; PCA W2D "
        "at most twice the held-out set's; AA_truth and AA_syn each within [0.40, 0.60]; privacy loss plus one "
        "standard error at most 0.05; exact copies of training haplotypes no more frequent than the held-out set's "
        "own plus two standard errors; at most 10 CPU minutes per 1500-site window. Every figure is genosynth's own "
        "`evaluate` (with `--windows` and `--ld-max-distance 100000`) and `privacy-check`, the real set being the "
        "training haplotypes and the held-out haplotypes judged beside the artificial ones as the reference.",
        "",
    ]
    recipes = [key for key in ("recipe_chr22", "recipe_805", "recipe_805_superpopulations") if key in sections]
    lines += _summary([sections[key] for key in recipes])
    for key in recipes:
        lines += _recipe(sections[key])
    if "frontier" in sections:
        lines += _frontier(sections["frontier"], folder)
    if "scale" in sections:
        lines += _scale(sections["scale"], folder)
    page = folder / "chromosomes.md"
    temp = page.with_name(f".{page.name}.{os.getpid()}")
    temp.write_text("\n".join(lines) + "\n")
    temp.replace(page)
    return page


def _summary(recipes: list[dict[str, Any]]) -> list[str]:
    """One line per dataset: the targets met at every seed, and those missed at some."""
    lines = []
    for section in recipes:
        runs, name = section["runs"], DATASETS[section["dataset"]][0]
        if section.get("labels") == "superpopulation":
            name += ", copying within continents"
        missed = [
            f"{label} ({sum(run['targets'][key] is False for run in runs)} of {len(runs)} seeds)"
            for key, label in TARGETS
            if any(run["targets"][key] is False for run in runs)
        ]
        unmeasured = [label for key, label in TARGETS if all(run["targets"][key] is None for run in runs)]
        lines.append(
            f"- **{name[0].upper() + name[1:]}**: "
            + ("every target met at every seed" if not missed else "missed " + "; ".join(missed))
            + (f"; not measurable there: {'; '.join(unmeasured)}" if unmeasured else "")
            + "."
        )
    recipe = recipes[0]["recipe"] if recipes else None
    if recipe is None:
        return []
    return [
        f"The recipe measured: `sample --baseline mosaic --max-segment-cm {recipe['max_segment_cm']:g}` "
        "(no training). At a glance:",
        "",
        *lines,
        "",
    ]


def _where(section: dict[str, Any]) -> str:
    machine = section["machine"]
    return (
        f"Measured with `{section['command']}` on {machine['cpu']} ({machine['usable_cores']} usable cores, "
        f"shared; load average {machine['load_average']} at the end; OMP_NUM_THREADS={machine['threads']}; "
        f"Python {machine['python']}) in {section['seconds']:.0f} s."
    )


def _cell(value: Any, spec: str = ".3f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def _recipe(section: dict[str, Any]) -> list[str]:
    recipe, runs = section["recipe"], section["runs"]
    knob = recipe["max_segment_cm"]
    name, labels = DATASETS[section["dataset"]]
    coarse = section.get("labels") == "superpopulation"
    if coarse:
        name, labels = f"{name}, copying within continents", "the five superpopulations of 1000 Genomes"
    lines = [
        f"## The recipe on {name}",
        "",
        f"`sample --baseline mosaic` with `max_segment_cm` {knob} (no copied stretch longer than {knob} cM), Ne "
        f"{recipe['ne']:g}, {recipe['cm_per_mb']:g} cM/Mb, donors within each haplotype's population, "
        f"here {labels}; "
        f"{runs[0]['mosaic']['n_haplotypes']} haplotypes drawn from the {section['n_train']} training haplotypes "
        f"per seed, judged on {runs[0]['n_sites']:,} sites in {len(section['windows'])} windows "
        f"({section['windows'][0]} to {section['windows'][-1]}; LD on the {runs[0]['ld_sites']:,} sites evaluate "
        f"keeps for it, {runs[0]['ld_pairs']:,} pairs within 100 kb); {section['n_holdout']} held-out haplotypes.",
        "",
    ]
    if coarse:
        lines += ["The same, with coarser labels: what copying within continents costs.", ""]
    elif section["dataset"] == "805":
        lines += [
            "These are the only real data at hand offline, and they are not a chromosome at 1000 Genomes density: "
            "805 SNPs spread over the genome, so few pairs lie within 100 kb and none across a window boundary "
            "(the 100-site windows are, in practice, the chromosomes). They show the recipe on real haplotypes and populations; the density figures come from "
            "the simulation above.",
            "",
        ]
    lines += [
        "| seed | set | AF r | LD r (100 kb) | LD strength | boundary / within LD r | PCA W2D | AA_truth / AA_syn "
        "| privacy loss ± SE | MIA AUC | copies | s per 1500 sites (wall) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        m, h = run["mosaic"], run["holdout"]
        for name, row in (("mosaic", m), ("held-out real", h)):
            copies = (
                f"{m['exact_copies']} of {m['n_haplotypes']}"
                if name == "mosaic"
                else f"{h['copies_of_train']} of {h['n_haplotypes']}"
            )
            privacy = f"{_cell(m['privacy_loss'])} ± {_cell(m['privacy_loss_se'])}" if name == "mosaic" else "-"
            lines.append(
                f"| {run['seed']} | {name} | {_cell(row['af_r'], '.4f')} | {_cell(row['ld_r'])} | "
                f"{_cell(row['ld_strength'])} | {_cell(row['boundary_ld_r'])} / "
                f"{_cell(row['within_window_ld_r'])} | {_cell(row['w2d_pca'], '.4f')} | "
                f"{_cell(row['aa_truth'], '.2f')} / {_cell(row['aa_syn'], '.2f')} | {privacy} | "
                f"{_cell(m.get('mia_auc') if name == 'mosaic' else None)} | {copies} | "
                f"{_cell(run['seconds_per_1500_sites'], '.2f') if name == 'mosaic' else '-'} |"
            )
    lines += ["", "| target | met at |", "|---|---|"]
    for key, label in TARGETS:
        verdicts = [run["targets"][key] for run in runs]
        met = sum(v is True for v in verdicts)
        unknown = sum(v is None for v in verdicts)
        lines.append(
            f"| {label} | {met} of {len(runs)} seeds"
            + (f" ({unknown} not measurable: too few pairs)" if unknown else "")
            + " |"
        )
    lines += ["", _where(section), ""]
    return lines


def _frontier(section: dict[str, Any], folder: Path) -> list[str]:
    image = _frontier_plot(section, folder)
    points = section["points"]
    lines = [
        "## The privacy-fidelity frontier",
        "",
        f"The mosaic's privacy knob, `max_segment_cm`, from {points[0]['max_segment_cm']} cM to no bound, on the "
        f"chr22 simulation's first {len(section['windows'])} windows ({section['n_train']} training haplotypes, "
        f"seed {section['seed']}, {points[0]['mosaic']['n_haplotypes']} haplotypes a point); each point one draw "
        f"judged as above. These windows span {_span_mb(section['windows']):.2f} Mb, {_span_mb(section['windows']):.2f}"
        " cM at the simulation's flat 1 cM/Mb: a longer bound copies as no bound does there. Shorter copied "
        "stretches give a lower privacy loss at a cost in linkage and in haplotype sharing (AA_truth).",
        "",
        f"![Fidelity against privacy loss]({image.name})",
        "",
        "| max_segment_cm | LD r (100 kb) | LD strength | PCA W2D | AA_truth / AA_syn | privacy loss ± SE | MIA AUC "
        "| copies |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for point in points:
        m = point["mosaic"]
        knob = "no bound" if point["max_segment_cm"] is None else f"{point['max_segment_cm']:g}"
        lines.append(
            f"| {knob} | {_cell(m['ld_r'])} | {_cell(m['ld_strength'], '.2f')} | {_cell(m['w2d_pca'], '.4f')} | "
            f"{_cell(m['aa_truth'], '.2f')} / {_cell(m['aa_syn'], '.2f')} | {_cell(m['privacy_loss'])} ± "
            f"{_cell(m['privacy_loss_se'])} | {_cell(m['mia_auc'])} | {m['exact_copies']} of {m['n_haplotypes']} |"
        )
    h = points[0]["holdout"]
    lines.append(
        f"| held-out real | {_cell(h['ld_r'])} | {_cell(h['ld_strength'], '.2f')} | {_cell(h['w2d_pca'], '.4f')} | "
        f"{_cell(h['aa_truth'], '.2f')} / {_cell(h['aa_syn'], '.2f')} | - | - | {h['copies_of_train']} of "
        f"{h['n_haplotypes']} |"
    )
    lines += [
        "",
        "The neural generators' points on the plot, ranges over seeds where a range is given (the "
        "[benchmarks overview](index.md#whole-chromosomes) has their other figures):",
        "",
    ]
    lines += [
        f"- {row['set']}: LD r {_range(row['ld_r'], '.3f')}, PCA W2D {_range(row['w2d_pca'], '.4f')}, privacy "
        f"loss {_range(row['privacy_loss'], '.3f')}; {row['source']}"
        for row in [*section["neural"], *DOCUMENTED_NEURAL]
    ]
    lines += ["", _where(section), ""]
    return lines


def _span_mb(windows: list[str]) -> float:
    """Megabases from the first window's start to the last one's end (regions CHR:START-END)."""
    return (int(windows[-1].rsplit("-", 1)[1]) - int(windows[0].split(":")[1].split("-")[0]) + 1) / 1e6


def _frontier_plot(section: dict[str, Any], folder: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = section["points"]
    panels = (
        ("ld_r", "LD r (pairs within 100 kb)"),
        ("w2d_pca", "PCA W2D (log scale)"),
        ("aa_truth", "AA_truth (target 0.40-0.60)"),
    )
    figure, axes = plt.subplots(1, len(panels), figsize=(14, 4.2))
    x = [p["mosaic"]["privacy_loss"] for p in points]
    knobs = ["∞" if p["max_segment_cm"] is None else f"{p['max_segment_cm']:g}" for p in points]
    for axis, (key, label) in zip(axes, panels):
        y = [p["mosaic"][key] for p in points]
        axis.plot(x, y, "o-", color="tab:blue", label="mosaic, max_segment_cm moving (bench/chromosome_recipe.py)")
        labels: dict[tuple[float, float], list[str]] = {}
        for knob, xi, yi in zip(knobs, x, y):
            labels.setdefault((xi, yi), []).append(knob)
        for (xi, yi), same in labels.items():
            text = same[0] if len(same) == 1 else f"{same[0]}-{same[-1]}"
            axis.annotate(f"{text} cM", (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=7)
        for row, color in zip([*section["neural"], *DOCUMENTED_NEURAL], NEURAL_COLOURS):
            if row.get(key) is not None and row.get("privacy_loss") is not None:
                measured = "seeds' range" if isinstance(row["privacy_loss"], list) else "one seed"
                (x0, x1), (y0, y1) = (_span(row["privacy_loss"]), _span(row[key]))
                axis.errorbar(
                    (x0 + x1) / 2,
                    (y0 + y1) / 2,
                    xerr=(x1 - x0) / 2,
                    yerr=(y1 - y0) / 2,
                    fmt="s",
                    color=color,
                    capsize=3,
                    label=f"{row['set']} (bench/chromosome.py chain, {measured})",
                )
        axis.axhline(points[0]["holdout"][key], color="grey", linestyle=":", label="held-out real haplotypes")
        axis.axvline(0.05, color="tab:red", linestyle="--", label="privacy loss limit 0.05")
        if key == "aa_truth":
            axis.axhspan(0.40, 0.60, color="tab:green", alpha=0.1, label="AA target band")
        axis.set_xlabel("privacy loss (AATS held-out - AATS train)")
        axis.set_ylabel(label)
    axes[1].set_yscale("log")
    handles = {}
    for axis in axes:
        for handle, text in zip(*axis.get_legend_handles_labels()):
            handles.setdefault(text, handle)
    figure.legend(handles.values(), handles.keys(), loc="lower center", ncol=3, fontsize=8)
    figure.suptitle("The mosaic's privacy knob (max_segment_cm) on the chr22 simulation")
    figure.tight_layout(rect=(0, 0.12, 1, 1))
    image = folder / "chromosome-frontier.png"
    figure.savefig(image, dpi=110)
    plt.close(figure)
    return image


def _span(value: Any) -> tuple[float, float]:
    """A figure or a [low, high] range over seeds, as (low, high)."""
    return (value[0], value[1]) if isinstance(value, list) else (value, value)


def _range(value: Any, spec: str) -> str:
    return "-" if value is None else "-".join(_cell(v, spec) for v in dict.fromkeys(_span(value)))


def _scale(section: dict[str, Any], folder: Path) -> list[str]:
    image = _memory_plot(section, folder)
    rows = section["rows"]
    lines = [
        "## A chromosome-sized chain",
        "",
        f"A simulated chromosome of {section['n_sites']:,} sites x {section['n_reference']:,} haplotypes over "
        f"{section['span_bp'] / 1e6:.1f} Mb ("
        + (
            f"`{Path(section['reference']).name}`, the training matrix of the chr22 simulation above"
            if section.get("reference")
            else "OutOfAfrica_3G09, as `bench/vcf_to_matrix.py` simulates it"
        )
        + (f"; simulated in {section['simulated_seconds']:.0f} s" if section.get("simulated_seconds") else "")
        + f"), {section['n_haplotypes']:,} artificial haplotypes sampled along it in a chain of "
        f"{section['windows']} windows, streamed to a bgzipped VCF and to .hapt; the process's resident memory "
        "read after each window."
        + (
            " This is about a tenth of a 1000 Genomes chromosome (about 1M sites): a simulation of that size "
            "(`scale --length 50000000`) did not finish in the time this shared machine gave it. Memory is flat "
            "along the chain, so it does not depend on the length; the time grows linearly with it (the "
            "projection below)."
            if section["n_sites"] < 500_000
            else ""
        ),
        "",
        f"![Memory along the chain]({image.name})",
        "",
        "| output | windows | total time, wall (CPU) | time per window, wall (median) | memory after the first "
        "window | after the last | peak, the file closed | file |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for output, summary in section["outputs"].items():
        mine = [row for row in rows if row["output"] == output]
        times = [b["seconds"] - a["seconds"] for a, b in zip([{"seconds": 0.0}] + mine, mine)]
        lines.append(
            f"| {output} | {len(mine)} | {summary['seconds']:.0f} s ({summary['cpu_seconds']:.0f} s) | "
            f"{sorted(times)[len(times) // 2]:.1f} s | {mine[0]['rss_mib']:.0f} MiB | {mine[-1]['rss_mib']:.0f} MiB | "
            f"{summary['peak_mib']:.0f} MiB | "
            f"{summary['bytes'] / 2**20:.0f} MiB |"
        )
    lines += ["", _where(section), ""]
    lines += _projection(section, _gpu_time_to_target(GPU_JSON))
    return lines


def _gpu_time_to_target(path: Path) -> dict[str, Any] | None:
    """The GPU benchmark's machine and PCA diffusion's seconds to its targets, from its result file."""
    if not path.exists():
        return None
    result = json.loads(path.read_text())
    seconds = result["sections"].get("time_to_target", {}).get("models", {}).get("diffusion_pca", {})
    if not seconds.get("seconds_to_targets"):
        return None
    return {"machine": result["machine"], "seconds_to_targets": seconds["seconds_to_targets"]}


def _projection(section: dict[str, Any], gpu: dict[str, Any] | None) -> list[str]:
    """A whole genome's cost from the measured chain on N cores, and a neural generator's on N GPUs from the GPU
    benchmark's time to the targets (labelled projections)."""
    vcf = section["outputs"]["vcf.gz"]
    density = section["n_sites"] / section["span_bp"]
    genome_sites = density * GENOME_BP
    per_site_haplotype = vcf["cpu_seconds"] / (section["n_sites"] * section["n_haplotypes"])
    lines = [
        "### Projected: a whole genome",
        "",
        f"Projected, not measured. The VCF chain above used {vcf['cpu_seconds']:.0f} CPU seconds for "
        f"{section['n_sites']:,} sites and {section['n_haplotypes']:,} haplotypes, {per_site_haplotype * 1e9:.0f} ns "
        "per site and haplotype on one core; the mosaic's time grows with sites x haplotypes, and 3.1 Gb at the "
        "simulation's density "
        f"({density * 1e6:,.0f} sites per Mb) is {genome_sites / 1e6:.0f} M sites. Chromosomes are independent "
        "jobs (the Nextflow pipeline runs one task per chromosome), so N cores divide the time until the largest "
        "chromosome (chr1, about 8% of the genome) is the whole wall time; each job's memory stays flat (above). "
        "The mosaic has no GPU path: a GPU does not change its figures.",
        "",
        "| haplotypes | 1 core | 8 cores | 24 cores (one chromosome each) |",
        "|---|---|---|---|",
    ]
    for n in sorted({section["n_haplotypes"], 5_000, 100_000, 1_000_000}):
        total = per_site_haplotype * n * genome_sites
        lines.append(f"| {n:,} | {_duration(total)} | {_duration(total / 8)} | {_duration(0.08 * total)} |")
    windows = genome_sites / 1500
    neural = f"A neural generator instead trains every 1500-site window on its own: {windows:,.0f} windows per genome."
    lines += ["", neural]
    if gpu is not None:
        machine, seconds = gpu["machine"], gpu["seconds_to_targets"]
        lines[-1] = (
            f"{neural} The [GPU benchmark](gpu.md) measured PCA diffusion reaching its targets on the 805-SNP split "
            f"after {seconds:.0f} s of training on one {machine['gpu']}; taking that as a window's training time (a "
            "1500-site window is about twice as wide: a lower bound), a genome's windows need:"
        )
        lines += [
            "",
            "| GPUs | 1 | 8 | 64 |",
            "|---|---|---|---|",
            f"| training, projected | {_duration(windows * seconds)} | {_duration(windows * seconds / 8)} | "
            f"{_duration(windows * seconds / 64)} |",
        ]
    lines.append("")
    return lines


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _memory_plot(section: dict[str, Any], folder: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.5))
    for output in section["outputs"]:
        mine = [row for row in section["rows"] if row["output"] == output]
        axis.plot([r["window"] for r in mine], [r["rss_mib"] for r in mine], "o-", markersize=3, label=output)
    axis.set_xlabel("windows sampled")
    axis.set_ylabel("resident memory (MiB)")
    axis.set_ylim(bottom=0)
    axis.legend()
    axis.set_title(f"{section['n_haplotypes']:,} haplotypes along {section['n_sites']:,} sites")
    figure.tight_layout()
    image = folder / "chromosome-memory.png"
    figure.savefig(image, dpi=110)
    plt.close(figure)
    return image
