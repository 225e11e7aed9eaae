"""Benchmarks of the generative models on the real 1000 Genomes 805-SNP data shipped with genosynth.

throughput: epochs per second of train-gan (yelmen2021, wgan-gp) and train-rbm, each in a fresh process for a
    fixed number of epochs, against a yardstick measured in the same run (one 5000 x 805 x 805 float32 matmul
    repeated 100 times), on --device.
fidelity: for each of --seeds, the data split 80/20 by individual with that seed; each of --models (GAN, RBM,
    diffusion over sites, diffusion over principal components) trained with that seed for --max-time each,
    keeping the monitored state chosen by --early-stop fidelity within the privacy limit (measured against the
    held-out 20%); 5000 haplotypes sampled from each (timed), then `genosynth evaluate` and
    `genosynth privacy-check`; the median and range over the seeds against the benchmark's targets,
    beside the paper's released AGs.
pca-round-trip: the ceiling of train-diffusion's PCA representation: the training haplotypes of --seeds' split
    mapped through their top --components principal components and back, each allele then rounded to the
    expected counts (what `sample --no-bernoulli` does) or drawn with the reconstructed probability
    (`--bernoulli`), judged by
    `genosynth evaluate` against the training haplotypes.

    .venv/bin/python bench/models.py throughput [--device cpu] [--epochs 5]
    .venv/bin/python bench/models.py fidelity [--max-time 20m] [--seeds 1 2 3] [--models gan rbm diffusion ...]
        [--workdir DIR] [--parallel] [--reuse] [--diffusion-sample-args '--steps 50']
    .venv/bin/python bench/models.py pca-round-trip [--seeds 1] [--components 128 256 400]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from genosynth.datasets import data_805
from genosynth.generate.models.decoding import round_to_expected_counts
from genosynth.io.model_file import load_model_file

DATA = data_805().folder


def _genosynth(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "genosynth", *map(str, args)], capture_output=True, text=True, check=True
    )


def _prepare(workdir: Path, *, seed: int = 1) -> tuple[Path, Path]:
    train, holdout = workdir / "train.h5", workdir / "holdout.h5"
    if not train.exists():
        _genosynth(
            "vcf-to-matrix",
            DATA / "805_SNP_1000G_real.hapt.gz",
            "--legend",
            DATA / "805_SNP.legend",
            "--populations",
            DATA / "igsr_samples.tsv",
            "--population-column",
            "Superpopulation code",
            "--keep-monomorphic",
            "--holdout",
            "0.2",
            "--holdout-output",
            holdout,
            "-o",
            train,
            "--seed",
            seed,
        )
    return train, holdout


def _yardstick(device: str) -> float:
    import torch

    a = torch.rand(5000, 805, device=device)
    b = torch.rand(805, 805, device=device)
    a @ b
    start = time.perf_counter()
    for _ in range(100):
        a @ b
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def throughput(args: argparse.Namespace, workdir: Path) -> None:
    train, _ = _prepare(workdir)
    yardstick = _yardstick(args.device)
    runs = {
        "train-gan --preset yelmen2021": ("train-gan", "--preset", "yelmen2021"),
        "train-gan --preset wgan-gp": ("train-gan", "--preset", "wgan-gp"),
        "train-rbm (100 relu hidden, PCD-10, 100 chains)": ("train-rbm",),
    }
    print(f"throughput on {args.device}, 805 sites x {4008} training haplotypes, {args.epochs} epochs each, batch 32")
    print(f"yardstick: 100 x (5000x805 @ 805x805) float32 = {yardstick:.3f} s")
    rows_for_docs = []
    for name, command in runs.items():
        _genosynth(
            *command,
            train,
            "-o",
            workdir / "t.safetensors",
            "--epochs",
            args.epochs,
            "--device",
            args.device,
            "--monitor-every",
            10**6,
            "--checkpoint-every",
            10**6,
            "--validation-size",
            100,
            "--seed",
            1,
        )
        rows = (workdir / "t.training.tsv").read_text().splitlines()
        header = rows[0].split("\t")
        seconds = [float(r.split("\t")[header.index("seconds")]) for r in rows[1:]]
        per_epoch = (seconds[-2] - seconds[0]) / (len(seconds) - 2) if len(seconds) > 2 else seconds[-1]
        print(
            f"  {name:<50} {1 / per_epoch:7.2f} epochs/s  ({per_epoch:.2f} s/epoch = {per_epoch / yardstick:.1f} x yardstick)"
        )
        rows_for_docs.append([name, round(1 / per_epoch, 2), round(per_epoch, 2), round(per_epoch / yardstick, 1)])
    if args.json:
        from results import write_result

        write_result(
            args.json,
            title=f"training throughput on {args.device}, 805 sites x 4008 training haplotypes",
            columns=["model", "epochs per second", "seconds per epoch", "epoch / yardstick"],
            rows=rows_for_docs,
            notes=f"{args.epochs} epochs each in a fresh process, batch 32, the first epoch not counted; "
            f"yardstick: 100 float32 matmuls of 5000x805 by 805x805, {yardstick:.3f} s in the same run",
        )


# the GAN's and the RBM's targets: the median over the seeds must meet them. LD r is the paper's definition, r² correlated over
# every pair of sites (ld_r_all_pairs) (the paper's AGs: GAN 0.923, RBM 0.977;
# over same-chromosome pairs only, ld_r, they score 0.901 and 0.862)
TARGETS_BY_MODEL = {
    "rbm": {
        "af_r": (">=", 0.99),
        "ld_r_all_pairs": (">=", 0.97),
        "w2d_pca": ("<=", 0.006),
        "aa_truth": ("in", (0.35, 0.65)),
        "aa_syn": ("in", (0.35, 0.65)),
        "privacy_loss": ("<=", 0.05),
        "exact_copies": ("<=", 0),
    },
    "gan": {
        "af_r": (">=", 0.98),
        "ld_r_all_pairs": (">=", 0.92),
        "w2d_pca": ("<=", 0.01),
        "aa_truth": (">=", 0.2),
        "aa_syn": ("<=", 0.95),
        "privacy_loss": ("<=", 0.05),
        "exact_copies": ("<=", 0),
    },
}
# the diffusion models' targets, AATS in 0.45-0.60 and 5000 haplotypes sampled within a minute
TARGETS_BY_MODEL["diffusion"] = TARGETS_BY_MODEL["diffusion_pca"] = {
    "af_r": (">=", 0.99),
    "ld_r_all_pairs": (">=", 0.95),
    "w2d_pca": ("<=", 0.006),
    "aats": ("in", (0.45, 0.60)),
    "privacy_loss": ("<=", 0.05),
    "exact_copies": ("<=", 0),
    "sample_seconds": ("<=", 60),
}
MODELS = tuple(TARGETS_BY_MODEL)
FIDELITY_COLUMNS = (
    "epochs",
    "kept_epoch",
    "af_r",
    "ld_r_all_pairs",
    "ld_r",
    "ld_strength",
    "w2d_pca",
    "fixed_fraction",
    "aa_truth",
    "aa_syn",
    "aats",
    "privacy_loss",
    "mia_auc",
    "exact_copies",
    "sample_seconds",
)


def fidelity(args: argparse.Namespace, workdir: Path) -> None:
    """For each seed: split 80/20 by individual with that seed, train each model with that seed for --max-time
    (fidelity early stopping within the privacy limit, against the holdout), sample 5000 haplotypes each, judge
    them with evaluate and privacy-check; then the median and range over the seeds against the targets."""
    runs: dict[str, list] = {name: [] for name in args.models}
    for seed in args.seeds:
        folder = workdir / f"seed_{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        train, holdout = _prepare(folder, seed=seed)
        for name, metrics in _fidelity_run(args, folder, train, holdout, seed).items():
            runs[name].append(metrics)
    paper = _paper_metrics(workdir)
    print(
        f"fidelity on 805 SNPs: train 80% / holdout 20% split by individual with seeds {args.seeds} (each model "
        f"trained with the same seed), --max-time {args.max_time} per model on CPU"
        + (", all models at once, 1 thread each" if args.parallel else "")
        + f"; GAN preset {args.gan_preset}"
    )
    print("run".ljust(14) + "".join(c.rjust(14) for c in FIDELITY_COLUMNS))
    for name, results in runs.items():
        for seed, metrics in zip(args.seeds, results):
            print(f"{name} seed {seed}".ljust(14) + "".join(_cell(metrics.get(c)).rjust(14) for c in FIDELITY_COLUMNS))
    for name, metrics in paper.items():
        print(name.ljust(14) + "".join(_cell(metrics.get(c)).rjust(14) for c in FIDELITY_COLUMNS))
    summary = {}
    for name, results in runs.items():
        summary[name] = {}
        line = []
        for column in FIDELITY_COLUMNS:
            values = [r[column] for r in results if r.get(column) is not None]
            if not values:
                continue
            median = float(np.median(values))
            summary[name][column] = {"median": median, "min": float(min(values)), "max": float(max(values))}
            line.append(f"{column} {_cell(median)} [{_cell(min(values))}-{_cell(max(values))}]")
        missed = [
            f"{column} {op} {bound}"
            for column, (op, bound) in TARGETS_BY_MODEL[name].items()
            if not _meets(summary[name][column]["median"], op, bound)
        ]
        print(f"{name} median [range]: " + ", ".join(line))
        print(f"{name} targets: " + ("all met" if not missed else "missed " + "; ".join(missed)))
    (workdir / "fidelity.json").write_text(
        json.dumps(
            {"runs": runs, "summary": summary, "paper": paper, "seeds": args.seeds, "max_time": args.max_time}, indent=2
        )
    )


def _meets(value: float, op: str, bound) -> bool:
    if op == "in":
        return bound[0] <= value <= bound[1]
    return value >= bound if op == ">=" else value <= bound


def _fidelity_run(args: argparse.Namespace, folder: Path, train: Path, holdout: Path, seed: int) -> dict[str, dict]:
    common = (
        "--max-time",
        args.max_time,
        "--epochs",
        10**6,
        "--device",
        "cpu",
        "--seed",
        seed,
        "--monitor-every",
        args.monitor_every,
        "--checkpoint-every",
        10**6,
        "--holdout",
        holdout,
        "--early-stop",
        "fidelity",
    )
    every = {
        "gan": ("train-gan", "--preset", args.gan_preset),
        "rbm": ("train-rbm",),
        "diffusion": ("train-diffusion", "--representation", "sites"),
        "diffusion_pca": ("train-diffusion", "--representation", "pca"),
    }
    commands = {name: (*every[name], train, "-o", folder / f"{name}.safetensors") for name in args.models}
    env = dict(os.environ, **({"OMP_NUM_THREADS": "1"} if args.parallel else {}))

    def start(name: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "genosynth", *map(str, commands[name] + common)],
            stderr=open(folder / f"{name}.log", "w"),
            env=env,
        )

    if not args.reuse or not all((folder / f"{name}.safetensors").exists() for name in commands):
        running = {name: start(name) for name in commands} if args.parallel else {}
        for name in commands:
            process = running.get(name) or start(name)
            if process.wait() != 0:
                raise SystemExit(f"{name} training failed: see {folder / name}.log")
    sample_args = {
        "gan": args.gan_sample_args.split(),
        "rbm": args.rbm_sample_args.split(),
        "diffusion": args.diffusion_sample_args.split(),
        "diffusion_pca": args.diffusion_sample_args.split(),
    }
    sample_seconds = {}
    for name in commands:
        start_time = time.perf_counter()
        _genosynth(
            "sample",
            folder / f"{name}.safetensors",
            "-n",
            5000,
            "-o",
            folder / f"{name}_ag.h5",
            "--seed",
            seed,
            "--device",
            "cpu",
            *sample_args.get(name, ()),
        )
        sample_seconds[name] = round(time.perf_counter() - start_time, 1)
    sets = [arg for name in commands for arg in ("--synthetic", f"{name}={folder / f'{name}_ag.h5'}")]
    _genosynth("evaluate", "--real", train, "--holdout", holdout, *sets, "-o", folder / "evaluation", "--seed", seed)
    metrics = json.loads((folder / "evaluation" / "metrics.json").read_text())["sets"]
    for name in commands:
        out = folder / f"privacy_{name}"
        _genosynth(
            "privacy-check",
            "--train",
            train,
            "--holdout",
            holdout,
            "--synthetic",
            folder / f"{name}_ag.h5",
            "-o",
            out,
            "--seed",
            seed,
        )
        privacy = json.loads((out / "privacy.json").read_text())
        metrics[name].update({k: privacy[k] for k in ("privacy_loss", "mia_auc", "exact_copies")})
        summary = load_model_file(folder / f"{name}.safetensors").provenance[-1]["summary"]
        metrics[name].update(
            epochs=summary["epochs_trained"],
            kept_epoch=summary["kept_epoch"],
            privacy_limit_met=summary.get("privacy_limit_met"),
            sample_seconds=sample_seconds[name],
        )
    return {name: metrics[name] for name in commands}


ROUND_TRIP_COLUMNS = ("af_r", "ld_r_all_pairs", "ld_r", "w2d_pca", "fixed_fraction")


def pca_round_trip(args: argparse.Namespace, workdir: Path) -> None:
    """Real haplotypes through k principal components, rounded and drawn: what the PCA representation keeps."""
    import genosynth
    import torch

    print("pca-round-trip: training haplotypes through k components (fitted on them) and back, judged against them")
    print("set".ljust(22) + "".join(c.rjust(16) for c in ROUND_TRIP_COLUMNS))
    for seed in args.seeds:
        folder = workdir / f"seed_{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        train, holdout = _prepare(folder, seed=seed)
        real = genosynth.read_haplotypes(train)
        x = torch.tensor(real.haplotypes, dtype=torch.float64)
        mean = x.mean(0)
        components = torch.linalg.svd(x - mean, full_matrices=False).Vh
        rng = np.random.default_rng(seed)
        sets = []
        for k in args.components:
            expected = (x - mean) @ components[:k].T @ components[:k] + mean
            rounded = round_to_expected_counts(expected).numpy()
            drawn = rng.random(expected.shape) < expected.clamp(0, 1).numpy()
            for decoding, alleles in (("rounded", rounded), ("drawn", drawn)):
                name = f"{decoding}_{k}"
                genosynth.write_haplotypes(
                    genosynth.HaplotypeMatrix.artificial(alleles.astype(np.uint8), real.sites), folder / f"{name}.h5"
                )
                sets += ["--synthetic", f"{name}={folder / f'{name}.h5'}"]
        _genosynth("evaluate", "--real", train, *sets, "-o", folder / "round_trip", "--seed", seed)
        metrics = json.loads((folder / "round_trip" / "metrics.json").read_text())["sets"]
        for name, row in metrics.items():
            print(f"seed {seed} {name}".ljust(22) + "".join(_cell(row.get(c)).rjust(16) for c in ROUND_TRIP_COLUMNS))


def _paper_metrics(workdir: Path) -> dict[str, dict]:
    """The paper's released AGs judged against all 805-SNP real haplotypes (they were trained on all of them)."""
    paper = workdir / "paper_evaluation"
    if not (paper / "metrics.json").exists():
        _genosynth(
            "evaluate",
            "--real",
            DATA / "805_SNP_1000G_real.hapt.gz",
            "--legend",
            DATA / "805_SNP.legend",
            "--synthetic",
            f"paper_gan={DATA / 'paper_GAN_AG_20000epochs.hapt.gz'}",
            "--synthetic",
            f"paper_rbm={DATA / 'paper_RBM_AG_800epochs.hapt.gz'}",
            "-o",
            paper,
            "--seed",
            1,
        )
    return json.loads((paper / "metrics.json").read_text())["sets"]


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=("throughput", "fidelity", "pca-round-trip"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--max-time", default="20m")
    parser.add_argument("--gan-preset", default="wgan-gp", help="fidelity: the GAN's --preset")
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[1, 2, 3],
        help="fidelity: split and training seeds; pca-round-trip: split seeds",
    )
    parser.add_argument("--monitor-every", type=int, default=10, help="fidelity: epochs between monitored states")
    parser.add_argument("--gan-sample-args", default="", help="fidelity: extra options of sample for the GAN")
    parser.add_argument("--rbm-sample-args", default="", help="fidelity: extra options of sample for the RBM")
    parser.add_argument(
        "--diffusion-sample-args",
        default="",
        help="fidelity: extra options of sample for both diffusion models (e.g. '--steps 50')",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=MODELS,
        default=list(MODELS),
        help="fidelity: the models to train (diffusion_pca: train-diffusion --representation pca)",
    )
    parser.add_argument("--reuse", action="store_true", help="fidelity: reuse models already in --workdir")
    parser.add_argument("--parallel", action="store_true", help="fidelity: train all models at once, 1 thread each")
    parser.add_argument(
        "--components",
        type=int,
        nargs="+",
        default=[128, 256, 400],
        help="pca-round-trip: numbers of principal components",
    )
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--json", type=Path, help="throughput: also write the table here for the docs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        {"throughput": throughput, "fidelity": fidelity, "pca-round-trip": pca_round_trip}[args.which](args, workdir)


if __name__ == "__main__":
    main()
