"""The documentation page of the GPU benchmark (``bench/gpu.py``): Markdown tables and PNG plots made from its JSON.

    .venv/bin/python bench/gpu.py render docs/benchmarks/gpu.json [gpu-tests.json] --docs docs/benchmarks

writes ``gpu.md``, ``gpu-throughput.png`` and ``gpu-time-to-target.png`` into the folder; every figure on the page
comes from the result files (a later file's sections replacing an earlier one's), nothing is typed by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

METRICS = (
    ("af_r", "AF r", ".3f"),
    ("ld_r_all_pairs", "LD r (all pairs)", ".3f"),
    ("w2d_pca", "PCA W2D", ".4f"),
    ("aa_truth", "AA truth", ".2f"),
    ("aa_syn", "AA syn", ".2f"),
    ("privacy_loss", "privacy loss", ".3f"),
    ("exact_copies", "exact copies", "d"),
)


def render_page(results: list[dict[str, Any]], folder: Path, *, sources: list[Path]) -> Path:
    """Write ``gpu.md`` and its plots for ``results`` (runs on one machine, a later run's sections replacing an
    earlier one's) into ``folder``; returns the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    result, source = results[0], sources[0]
    sections = {name: section for run in results for name, section in run["sections"].items()}
    machine = result["machine"]
    names = " ".join(path.name for path in sources)
    lines = [
        "# GPU figures",
        "",
        f"<!-- made by `bench/gpu.py render {names} --docs {folder.name}` from those files; do not edit -->",
        "",
    ]
    if result["scale"] == "tiny":
        lines += [
            '!!! note "Toy sizes"',
            "    These figures come from the benchmark's tiny CPU mode, the check that "
            "the script runs; they measure nothing a user needs.",
            "",
        ]
    where = (
        f"{machine['gpu']} ({machine['gpu_memory_gib']} GiB, compute capability {machine['compute_capability']}, "
        f"driver {machine.get('driver', '?')}, CUDA {machine['cuda']})"
        if "gpu" in machine
        else "the CPU"
    )
    lines += [
        f"Measured with `{_command(result, source)}` on {where}, PyTorch {machine['torch']}, Python {machine['python']}; "
        f"the CPU figures on the same machine's {machine['cpu_threads']} CPU threads. The whole run took "
        f"{result.get('total_seconds', '?')} s of its {result['budget_seconds']:.0f} s budget. "
        f"Every number below is in [`{source.name}`]({source.name})"
        + "".join(
            f", except the sections {', '.join(f'`{s}`' for s in run['sections'])} run again with "
            f"`{_command(run, path)}` ([`{path.name}`]({path.name}))"
            for run, path in zip(results[1:], sources[1:])
        )
        + ".",
        "",
        "To measure again on a machine with a CUDA GPU: `make bench-gpu` (about 9 minutes; it simulates the "
        "10,000-site window first, then runs `bench/gpu.py run` and renders this page). Each section gets a "
        "share of the budget; what a share does not reach is listed as not measured.",
        "",
    ]
    lines += _yardstick(sections.get("yardstick", {}))
    lines += _throughput(sections.get("throughput", {}), sections.get("yardstick", {}), folder)
    lines += _time_to_target(sections.get("time_to_target", {}), folder)
    lines += _conv_window(sections.get("conv_window", {}))
    lines += _scale(sections.get("scale", {}))
    lines += _gpu_tests(sections.get("gpu_tests", {}))
    page = folder / "gpu.md"
    page.write_text("\n".join(lines).rstrip() + "\n")
    return page


def _command(run: dict[str, Any], source: Path) -> str:
    """The command that made a result file, its output named as the file is now (not the machine's folder)."""
    words = run["command"].split(" ")
    for i, word in enumerate(words[:-1]):
        if word in ("-o", "--output"):
            words[i + 1] = source.name
    return " ".join(words)


def _cell(value: Any, spec: str = ".3g") -> str:
    if value is None:
        return "–"
    if spec == "d":
        return f"{int(value):d}"
    return format(value, spec)


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _bytes(value: int | None) -> str:
    return "–" if value is None else f"{value / 2**30:.2f} GiB" if value >= 2**30 else f"{value / 2**20:.0f} MiB"


def _failed(section: dict[str, Any]) -> list[str]:
    return [f"This section failed: `{section['error']}`.", ""] if "error" in section else []


def _yardstick(section: dict[str, Any]) -> list[str]:
    if not section:
        return []
    lines = [
        "## Yardstick",
        "",
        "Square matrix products on random operands (median of repeats after a warm-up): the "
        "ceilings the figures below are read against.",
        "",
        "| product | size | TFLOP/s |",
        "|---|---:|---:|",
    ]
    names = {"gpu_fp32": "GPU float32", "gpu_tf32": "GPU TF32", "gpu_bf16": "GPU bf16", "cpu_fp32": "CPU float32"}
    lines += [
        f"| {names[key]} | {value['n']} | {value['tflops']:.3g} |" for key, value in section.items() if key in names
    ]
    if "gpu_fp32" in section and "cpu_fp32" in section:
        lines += [
            "",
            f"A float32 product runs {section['gpu_fp32']['tflops'] / section['cpu_fp32']['tflops']:.0f} "
            "times faster on the GPU than on the CPU: the most a generator whose time is all matrix "
            "products could gain.",
        ]
    return lines + [""] + _failed(section)


def _throughput(section: dict[str, Any], yardstick: dict[str, Any], folder: Path) -> list[str]:
    if not section or "rows" not in section:
        return _failed(section)
    rows = section["rows"]
    primary = [r for r in rows if r.get("group") == "device"]
    by = {(r.get("group"), r["generator"], r.get("sites")): r for r in rows}
    gpu = any(r.get("device") == "cuda" for r in primary)
    lines = [
        "## Throughput",
        "",
        f"Training and sampling throughput at batch 32 (every generator's default) on random haplotypes "
        f"({section['data_haplotypes']['gpu' if gpu else 'cpu']:,} on the {'GPU' if gpu else 'CPU'}, "
        f"{section['data_haplotypes']['cpu']:,} on the CPU), each timed call about "
        f"{section['timed_seconds']['gpu' if gpu else 'cpu']} s after a warm-up. Training counts the "
        "haplotypes that pass through the critic or network per second (a GAN's generator steps once every "
        "5 critic batches); sampling counts generated haplotypes (the diffusion models with their default 20 "
        "solver steps, the RBM with its default 20 Gibbs sweeps from the persistent chains). The selection "
        "CNN's row counts images (its default image size) trained on and scored. Peak memory is PyTorch's "
        "allocated peak, the training data on the device included (haplotypes x sites x 4 bytes).",
        "",
        "| generator | sites | GPU train /s | CPU train /s | GPU/CPU | GPU sample /s | CPU sample /s | GPU/CPU "
        f"| GPU peak (train / sample) | bf16 autocast | batch {section['large_batch']} |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in primary:
        key = (row["generator"], row.get("sites"))
        cpu = by.get(("cpu", *key), {}) if gpu else row
        bf16, large = by.get(("bf16", *key), {}), by.get(("large_batch", *key), {})
        note = row.get("skipped") or row.get("error")
        if note:
            lines.append(f"| {key[0]} | {_sites(key[1])} | {note} |||||||||")
            continue
        lines.append(
            f"| {key[0]} | {_sites(key[1])} | {_rate(row.get('train_haplotypes_per_s'))} | "
            f"{_rate(cpu.get('train_haplotypes_per_s')) if gpu else '–'} | "
            f"{_ratio(row.get('train_haplotypes_per_s'), cpu.get('train_haplotypes_per_s')) if gpu else '–'} | "
            f"{_rate(row.get('sample_haplotypes_per_s'))} | "
            f"{_rate(cpu.get('sample_haplotypes_per_s')) if gpu else '–'} | "
            f"{_ratio(row.get('sample_haplotypes_per_s'), cpu.get('sample_haplotypes_per_s')) if gpu else '–'} | "
            f"{_bytes(row.get('train_peak_bytes'))} / {_bytes(row.get('sample_peak_bytes'))} | "
            f"{_ratio(bf16.get('train_haplotypes_per_s'), row.get('train_haplotypes_per_s'))} | "
            f"{_ratio(large.get('train_haplotypes_per_s'), row.get('train_haplotypes_per_s'))} |"
        )
    lines += [
        "",
        f"GPU/CPU, bf16 autocast and batch {section['large_batch']} are ratios of throughputs measured in this "
        f"run (bf16 autocast and batch {section['large_batch']} against batch 32 in float32 on the same device); "
        "– where one of the pair was not measured.",
    ]
    skipped = [r for r in rows if r.get("group") != "device" and (r.get("skipped") or r.get("error"))]
    if skipped:
        lines += [
            "",
            "Not measured: "
            + "; ".join(
                f"{r['group']} {r['generator']} at {_sites(r.get('sites'))} ({r.get('skipped') or r.get('error')})"
                for r in skipped
            )
            + ".",
        ]
    lines += _speedup_summary(rows, by, section["large_batch"])
    plot = _throughput_plot(primary, by, gpu, folder)
    return lines + ["", f"![Training throughput by generator and sites]({plot.name})", ""]


def _sites(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _ratio(a: float | None, b: float | None) -> str:
    return "–" if not a or not b else f"{a / b:.2f}x"


def _speedup_summary(rows: list[dict[str, Any]], by: dict[tuple, dict[str, Any]], large_batch: int) -> list[str]:
    lines = []
    for group, label in (("bf16", "bf16 autocast"), ("large_batch", f"a batch of {large_batch}")):
        gains = [
            (
                r["train_haplotypes_per_s"] / by[("device", r["generator"], r.get("sites"))]["train_haplotypes_per_s"],
                r["generator"],
                r.get("sites"),
            )
            for r in rows
            if r.get("group") == group
            and r.get("train_haplotypes_per_s")
            and by.get(("device", r["generator"], r.get("sites")), {}).get("train_haplotypes_per_s")
        ]
        if gains:
            best = max(gains)
            lines.append(
                f"With {label}, training throughput changes by {min(gains)[0]:.2f}x to {best[0]:.2f}x "
                f"(most for {best[1]} at {_sites(best[2])} sites)."
            )
    return ["", *lines] if lines else []


def _throughput_plot(primary: list[dict[str, Any]], by: dict[tuple, dict[str, Any]], gpu: bool, folder: Path) -> Path:
    from matplotlib.figure import Figure

    path = folder / "gpu-throughput.png"
    measured = [r for r in primary if r.get("train_haplotypes_per_s") and isinstance(r.get("sites"), int)]
    generators = list(dict.fromkeys(r["generator"] for r in measured))
    sizes = sorted({r["sites"] for r in measured})
    figure = Figure(figsize=(9, 3.6), layout="constrained")
    axes = figure.subplots(1, max(1, len(sizes)), sharey=True, squeeze=False)[0]
    for axis, size in zip(axes, sizes):
        x = np.arange(len(generators))
        for offset, (group, label, colour) in enumerate(
            ((None, "GPU" if gpu else "CPU", "tab:green"), ("cpu", "CPU", "tab:grey"))
        ):
            if group == "cpu" and not gpu:
                continue
            values = [
                (by.get(("device", g, size)) if group is None else by.get((group, g, size)) or {}).get(
                    "train_haplotypes_per_s"
                )
                or 0
                for g in generators
            ]
            axis.bar(x + (offset - 0.5) * 0.4 if gpu else x, values, width=0.4, label=label, color=colour)
        axis.set_yscale("log")
        axis.set_title(f"{size:,} sites")
        axis.set_xticks(np.arange(len(generators)), generators, rotation=60, ha="right", fontsize=8)
    axes[0].set_ylabel("training haplotypes / s (batch 32)")
    axes[0].legend(fontsize=8)
    figure.savefig(path, dpi=110)
    return path


def _time_to_target(section: dict[str, Any], folder: Path) -> list[str]:
    if not section or "models" not in section:
        return _failed(section)
    lines = [
        "## Time to the fidelity targets (805 SNPs)",
        "",
        f"The 805-SNP data split 80/20 by individual within superpopulations ({section['train_haplotypes']:,} "
        f"training and {section['holdout_haplotypes']:,} held-out haplotypes, seed 1). Each model is trained on "
        "the GPU with `--early-stop fidelity` against the held-out set in growing slices (resumed from its "
        "checkpoint); after each slice its kept state is judged as the CPU benchmark judges it: "
        f"{section['judged_haplotypes']:,} sampled haplotypes, `evaluate` against the training set and "
        "`privacy-check`, against the targets of `bench/models.py`. Training seconds include monitoring and "
        "exclude judging.",
        "",
        "| model | training s | epochs | epochs/s | " + " | ".join(label for _, label, _ in METRICS) + " | targets |",
        "|---|---:|---:|---:|" + "---:|" * len(METRICS) + "---|",
    ]
    curves = {}
    for name, model in section["models"].items():
        if "skipped" in model:
            lines.append(f"| {name} | {model['skipped']} |" + "|" * (len(METRICS) + 3))
            continue
        if name == "paper_gan":
            continue
        curves[name] = model["stages"]
        for stage in model["stages"]:
            verdict = (
                "all met" if not stage["missed"] else "missed " + ", ".join(m.split(" ")[0] for m in stage["missed"])
            )
            lines.append(
                f"| {name} | {stage['training_seconds']:.0f} | {stage['epochs']} | "
                f"{stage['epochs'] / max(stage['training_seconds'], 1e-9):.2f} | "
                + " | ".join(_cell(stage.get(key), spec) for key, _, spec in METRICS)
                + f" | {verdict} |"
            )
    paper = section["models"].get("paper_gan")
    if paper and "skipped" not in paper:
        lines += [
            "",
            f"The paper's GAN (`--preset yelmen2021`, batch 32) trained {paper['epochs']:,} epochs in "
            f"{paper['training_seconds']:.0f} s ({paper['epochs_per_second']:.2f} epochs/s): its "
            f"{paper['paper_epochs']:,} epochs would take {paper['projected_paper_seconds'] / 60:.0f} "
            f"minutes on this GPU. Then: AF r {_cell(paper.get('af_r'), '.3f')}, LD r "
            f"{_cell(paper.get('ld_r_all_pairs'), '.3f')}, W2D {_cell(paper.get('w2d_pca'), '.4f')}, "
            f"AA truth / syn {_cell(paper.get('aa_truth'), '.2f')} / {_cell(paper.get('aa_syn'), '.2f')}, "
            f"privacy loss {_cell(paper.get('privacy_loss'), '.3f')}.",
        ]
    holdout = next((s["holdout"] for m in section["models"].values() for s in m.get("stages", [])), None)
    if holdout:
        lines += [
            "",
            f"The held-out real haplotypes themselves score AF r {_cell(holdout.get('af_r'), '.3f')}, LD r "
            f"{_cell(holdout.get('ld_r_all_pairs'), '.3f')}, W2D {_cell(holdout.get('w2d_pca'), '.4f')}.",
        ]
    if curves:
        plot = _curves_plot(curves, folder)
        lines += ["", f"![Fidelity against training time]({plot.name})"]
    return lines + [""]


def _curves_plot(curves: dict[str, list[dict[str, Any]]], folder: Path) -> Path:
    from matplotlib.figure import Figure

    path = folder / "gpu-time-to-target.png"
    shown = (
        ("af_r", "AF r"),
        ("ld_r_all_pairs", "LD r (all pairs)"),
        ("w2d_pca", "PCA W2D"),
        ("privacy_loss", "privacy loss"),
    )
    figure = Figure(figsize=(10, 2.8), layout="constrained")
    axes = figure.subplots(1, len(shown))
    for axis, (key, label) in zip(axes, shown):
        for name, stages in curves.items():
            points = [(s["training_seconds"], s[key]) for s in stages if s.get(key) is not None]
            if points:
                axis.plot(*zip(*points), marker="o", label=name)
        axis.set_title(label, fontsize=9)
        axis.set_xlabel("training s (GPU)", fontsize=8)
    axes[0].legend(fontsize=7)
    figure.savefig(path, dpi=110)
    return path


def _conv_window(section: dict[str, Any]) -> list[str]:
    if not section or "sets" not in section:
        return _failed(section)
    lines = [
        "## The convolutional GAN on a 10,000-site window"
        if section["sites"] == 10_000
        else f"## The convolutional GAN on a {section['sites']:,}-site window",
        "",
        f"`--preset conv-wgan-gp` trained {section['training_seconds']:.0f} s ({section['epochs']} epochs, kept "
        f"epoch {section['kept_epoch']}) on {section['train_haplotypes']:,} haplotypes of a stdpopsim "
        "OutOfAfrica_3G09 simulation of chr22 (sites with minor allele frequency at least 1%), judged against "
        "the training set beside a Bernoulli baseline (independent sites: no LD) and the "
        f"{section['holdout_haplotypes']:,} held-out haplotypes.",
        "",
        "| set | AF r | LD r | LD strength | W2D | AATS |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, metrics in section["sets"].items():
        lines.append(
            f"| {name} | {_cell(metrics.get('af_r'), '.3f')} | {_cell(metrics.get('ld_r'), '.3f')} | "
            f"{_cell(metrics.get('ld_strength'), '.2f')} | {_cell(metrics.get('w2d_pca'), '.4f')} | "
            f"{_cell(metrics.get('aats'), '.2f')} |"
        )
    monitored = [m for m in section.get("monitored", []) if m.get("ld_r") is not None]
    if monitored:
        lines += [
            "",
            "Monitored LD r by epoch: " + ", ".join(f"{m['epoch']}: {m['ld_r']:.2f}" for m in monitored) + ".",
        ]
    return lines + [""]


def _scale(section: dict[str, Any]) -> list[str]:
    if not section:
        return []
    lines = ["## At scale", "", "| work | size | seconds | per second | GPU peak memory |", "|---|---|---:|---:|---:|"]
    for name, row in section.get("sampling", {}).items():
        if "skipped" in row:
            lines.append(f"| sample {name} | {row['skipped']} ||||")
            continue
        lines.append(
            f"| sample from {name} | {row['haplotypes']:,} haplotypes x {row['sites']:,} sites | "
            f"{row['seconds']:.1f} | {row['haplotypes_per_s']:,.0f} | {_bytes(row.get('peak_bytes'))} |"
        )
    evaluation = section.get("evaluate")
    if evaluation:
        lines.append(
            f"| evaluate | {evaluation['real']:,} real x {evaluation['synthetic']:,} artificial x "
            f"{evaluation['sites']:,} sites | {evaluation['seconds']:.1f} | – | "
            f"{_bytes(evaluation.get('peak_bytes'))} |"
        )
    return lines + [""] + _failed(section)


def _gpu_tests(section: dict[str, Any]) -> list[str]:
    if not section:
        return []
    lines = ["## The `gpu`-marked tests", "", f"`{section['command']}`: {section.get('summary', '')}", ""]
    for test, outcome in section.get("tests", {}).items():
        lines.append(f"- `{test}`: {outcome.lower()}")
    return lines + [""] + _failed(section)
