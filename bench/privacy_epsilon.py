"""Fidelity and privacy of differentially private training against epsilon, on the 805-SNP 1000 Genomes data.

run: for each of --seeds, the data split 80/20 by individual with that seed (as bench/models.py splits it); each
    of --models (the GAN with preset yelmen2021, the only one Opacus can train privately; the RBM; the diffusion
    model over sites) trained with that seed for its --epochs on one CPU thread at each of --epsilons and without
    privacy ("unbounded"), each in a fresh process (its peak memory is that process's; --jobs of them at a
    time); --samples haplotypes are sampled from each and judged by evaluate (AF r, LD r, W2D, AA halves against
    the training haplotypes) and check_privacy (every attack's figure against the training and held-out
    haplotypes). The JSON (--output) is rewritten after each run, so a run cut short keeps what it measured.
render: docs/benchmarks/privacy-epsilon.md and its plot (fidelity against epsilon) from the JSON.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/privacy_epsilon.py run [--seeds 1 2 3] [--epsilons 1 3 10]
        [--models gan rbm diffusion] [--epochs gan=2 rbm=2 diffusion=1] [--samples 1000] [--jobs 4] [--workdir DIR]
        [--output docs/benchmarks/privacy-epsilon.json]
    .venv/bin/python bench/privacy_epsilon.py render [--output docs/benchmarks/privacy-epsilon.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from models import _prepare
from results import machine

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE.parent / "docs" / "benchmarks" / "privacy-epsilon.json"
MODELS = ("gan", "rbm", "diffusion")
FIDELITY = ("af_r", "ld_r_all_pairs", "w2d_pca", "aa_truth", "aa_syn", "aats")


def _train(kind: str, train, *, epochs: int, seed: int, epsilon: float | None):
    from genosynth.generate.training import train_diffusion, train_gan, train_rbm

    options = {
        "epochs": epochs,
        "seed": seed,
        "device": "cpu",
        "progress": False,
        "monitor_every": 10**6,
        "validation_size": 200,
        "dp_epsilon": epsilon,
    }
    if kind == "gan":
        return train_gan(train, preset="yelmen2021", **options)
    if kind == "rbm":
        return train_rbm(train, **options)
    return train_diffusion(train, representation="sites", **options)


def one(args: argparse.Namespace) -> None:
    """One training run in this process, judged; prints one JSON line."""
    import torch
    from genosynth import check_privacy, evaluate
    from genosynth.io.hdf5 import read_matrix

    torch.set_num_threads(1)
    train, holdout = read_matrix(args.train), read_matrix(args.holdout)
    start, start_cpu = time.perf_counter(), time.process_time()
    model = _train(args.kind, train, epochs=args.epochs, seed=args.seed, epsilon=args.epsilon)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    synthetic = model.sample(args.samples, seed=args.seed, progress=False)
    fidelity = evaluate(train, {"synthetic": synthetic}, seed=args.seed, device="cpu", progress=False)
    privacy = check_privacy(train, holdout, synthetic, seed=args.seed, device="cpu", progress=False)
    result = {
        "train_seconds": round(seconds, 2),
        "train_cpu_seconds": round(cpu_seconds, 2),
        "epochs": model.training_summary["epochs_trained"],
        "stopped_by": model.training_summary["stopped_by"],
        "privacy": model.extra.get("privacy"),
        "fidelity": {k: fidelity.sets["synthetic"].get(k) for k in FIDELITY},
        "attacks": {k: v for k, v in privacy.metrics.items() if isinstance(v, (int, float))},
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result))


def _child(kind: str, folder: Path, seed: int, epochs: int, epsilon: float | None, samples: int) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "one", "--kind", kind, "--seed", str(seed)]
    command += ["--train", str(folder / "train.h5"), "--holdout", str(folder / "holdout.h5")]
    command += ["--epochs", str(epochs), "--samples", str(samples)]
    if epsilon is not None:
        command += ["--epsilon", str(epsilon)]
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    if done.returncode != 0:
        raise SystemExit(f"{kind} seed {seed} epsilon {epsilon} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(args: argparse.Namespace) -> None:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="genosynth-dp-"))
    epochs = {kind: int(value) for kind, value in (item.split("=") for item in args.epochs)}
    record = {
        "command": "python " + shlex.join(["bench/privacy_epsilon.py"] + sys.argv[1:]),
        "machine": "",
        "epochs": epochs,
        "samples": args.samples,
        "runs": [],
    }
    for seed in args.seeds:
        (workdir / f"seed_{seed}").mkdir(parents=True, exist_ok=True)
        _prepare(workdir / f"seed_{seed}", seed=seed)
    cells = [(seed, kind, e) for seed in args.seeds for kind in args.models for e in [*args.epsilons, None]]
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {
            pool.submit(_child, kind, workdir / f"seed_{seed}", seed, epochs[kind], e, args.samples): (seed, kind, e)
            for seed, kind, e in cells
        }
        for future in as_completed(futures):
            seed, kind, epsilon = futures[future]
            result = future.result()
            record["runs"].append({"model": kind, "seed": seed, "epsilon": epsilon, **result})
            record["machine"] = machine()
            _write_json(args.output, record)
            print(kind, seed, epsilon, json.dumps(result["fidelity"]), flush=True)


def _write_json(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    temp.write_text(json.dumps(record, indent=2) + "\n")
    temp.replace(path)


def _median(values: list) -> float | None:
    import numpy as np

    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def render(args: argparse.Namespace) -> None:
    """The Markdown page and the plot from the JSON: medians over the seeds for each model and epsilon."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    record = json.loads(args.output.read_text())
    runs = record["runs"]
    seeds = sorted({r["seed"] for r in runs})
    epsilons = sorted({r["epsilon"] for r in runs if r["epsilon"] is not None}) + [None]
    models = [m for m in MODELS if any(r["model"] == m for r in runs)]
    rows = []
    for model in models:
        baseline = [r for r in runs if r["model"] == model and r["epsilon"] is None]
        base_seconds = _median([_cpu_seconds(r) for r in baseline])
        base_memory = _median([r["peak_rss_mib"] for r in baseline])
        for epsilon in epsilons:
            cell = [r for r in runs if r["model"] == model and r["epsilon"] == epsilon]
            if not cell:
                continue
            seconds = _median([_cpu_seconds(r) for r in cell])
            memory = _median([r["peak_rss_mib"] for r in cell])
            spent = _median([(r["privacy"] or {}).get("epsilon_spent") for r in cell])
            noise = _median([(r["privacy"] or {}).get("noise_multiplier") for r in cell])
            rows.append(
                [
                    model,
                    _epsilon_label(epsilon),
                    len(cell),
                    _median([r["epochs"] for r in cell]),
                    spent,
                    noise,
                    *(_median([r["fidelity"][k] for r in cell]) for k in FIDELITY),
                    *(_median([r["attacks"].get(k) for r in cell]) for k in ("privacy_loss", "mia_auc")),
                    seconds,
                    None if not base_seconds else seconds / base_seconds,
                    memory,
                    None if not base_memory else memory / base_memory,
                ]
            )
    columns = [
        "model",
        "epsilon",
        "runs",
        "epochs",
        "epsilon spent",
        "noise multiplier",
        *FIDELITY,
        "privacy loss",
        "MIA AUC",
        "train CPU s",
        "time x",
        "peak MiB",
        "memory x",
    ]
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    positions = {e: i for i, e in enumerate(epsilons)}
    for axis, metric in zip(axes, ("af_r", "ld_r_all_pairs", "aats")):
        for model in models:
            points = [
                (
                    positions[e],
                    _median([r["fidelity"][metric] for r in runs if r["model"] == model and r["epsilon"] == e]),
                )
                for e in epsilons
            ]
            points = [(x, y) for x, y in points if y is not None]
            axis.plot([x for x, _ in points], [y for _, y in points], marker="o", label=model)
        axis.set_xticks(range(len(epsilons)), [_epsilon_label(e) for e in epsilons])
        axis.set_xlabel("epsilon")
        axis.set_title(metric)
    axes[0].legend()
    figure.suptitle(f"805 SNPs, median of seeds {seeds}: fidelity against the privacy budget")
    figure.tight_layout()
    plot = args.output.with_suffix(".png")
    figure.savefig(plot, dpi=110)
    table = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        table.append("| " + " | ".join(_cell(v) for v in row) + " |")
    missing = [
        f"{model} at epsilon {_epsilon_label(e)}"
        for model in MODELS
        for e in epsilons
        if not any(r["model"] == model and r["epsilon"] == e for r in runs)
    ]
    gaps = f"Not measured (the run was stopped before them): {', '.join(missing)}.\n\n" if missing else ""
    page = args.output.with_suffix(".md")
    page.write_text(
        "# Differentially private training: fidelity against epsilon\n\n"
        "What a privacy budget costs each generator on the 805-SNP 1000 Genomes data, split 80/20 by individual "
        "(as the [model benchmark](index.md#models-on-the-papers-805-snps) splits it). Each generator is trained for a fixed number of epochs "
        f"({', '.join(f'{k} {v}' for k, v in record['epochs'].items())}) on one CPU thread, at each epsilon (delta 1 / (10 x the "
        "training individuals), Opacus's RDP accountant, the default clipping norm) and without privacy "
        f"(unbounded) for the same epochs; {record['samples']} sampled haplotypes are judged by `evaluate` "
        "against the training haplotypes and by `privacy-check` against the training and held-out ones. "
        "Medians over the runs (seeds "
        f"{seeds}). The GAN is the yelmen2021 preset throughout (the WGAN presets' gradient penalty cannot be "
        "trained privately); the diffusion model denoises sites (the PCA representation is refused). "
        "Time x and memory x are private training's time and peak memory (of the whole process: training, "
        "sampling and judging) over the unbounded run's; train CPU s counts the CPU time of training alone, so "
        "that runs sharing a busy machine compare. What the guarantee covers is in "
        "[differential privacy](../concepts/differential-privacy.md).\n\n"
        + "\n".join(table)
        + f"\n\n{gaps}![fidelity against epsilon]({plot.name})\n\n"
        f"Made by `{record['command']}` then `python bench/privacy_epsilon.py render`, on {record['machine']}.\n"
    )


def _epsilon_label(epsilon: float | None) -> str:
    return "unbounded" if epsilon is None else f"{epsilon:g}"


def _cpu_seconds(run: dict) -> float:
    """The CPU seconds a run trained."""
    return run["train_cpu_seconds"]


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run")
    run_parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    run_parser.add_argument("--epochs", nargs="+", default=["gan=2", "rbm=2", "diffusion=1"])
    run_parser.add_argument("--samples", type=int, default=1000)
    run_parser.add_argument("--jobs", type=int, default=4)
    run_parser.add_argument("--epsilons", type=float, nargs="+", default=[1, 3, 10])
    run_parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    run_parser.add_argument("--workdir")
    run_parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    render_parser = sub.add_parser("render")
    render_parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    one_parser = sub.add_parser("one")
    for name in ("--kind", "--train", "--holdout"):
        one_parser.add_argument(name, required=True)
    one_parser.add_argument("--seed", type=int, required=True)
    one_parser.add_argument("--epochs", type=int, required=True)
    one_parser.add_argument("--samples", type=int, required=True)
    one_parser.add_argument("--epsilon", type=float)
    args = parser.parse_args()
    {"run": run, "render": render, "one": one}[args.command](args)


if __name__ == "__main__":
    main()
