"""Benchmarks of the generative models on the real 1000 Genomes 805-SNP data (../shared/data/1000G_805).

throughput: epochs per second of train-gan (yelmen2021, wgan-gp) and train-rbm, each in a fresh process for a
    fixed number of epochs, against a yardstick measured in the same run (one 5000 x 805 x 805 float32 matmul
    repeated 100 times), on --device.
fidelity: the data split 80/20 by individual (seed 1); GAN and RBM trained with --max-time each, 5000
    haplotypes sampled from each, then `genosynth evaluate` (with the paper's released AGs beside them) and
    `genosynth privacy-check` against the held-out 20%.

    .venv/bin/python bench/models.py throughput [--device cpu] [--epochs 5]
    .venv/bin/python bench/models.py fidelity [--max-time 20m] [--gan-preset wgan-gp] [--workdir DIR] [--parallel]
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

from genosynth.formats.model_file import load_model_file

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "1000G_805"
TARGETS = {"af_r": (">=", 0.98), "ld_r": (">=", 0.92), "w2d_pca": ("<=", 0.01), "privacy_loss": ("<=", 0.10),
           "exact_copies": ("<=", 0)}


def _genosynth(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "genosynth", *map(str, args)], capture_output=True, text=True,
                          check=True)


def _prepare(workdir: Path) -> tuple[Path, Path]:
    train, holdout = workdir / "train.h5", workdir / "holdout.h5"
    if not train.exists():
        _genosynth("vcf-to-matrix", DATA / "805_SNP_1000G_real.hapt.gz", "--legend", DATA / "805_SNP.legend",
                   "--populations", DATA / "igsr_samples.tsv", "--population-column", "Superpopulation code",
                   "--keep-monomorphic", "--holdout", "0.2", "--holdout-output", holdout, "-o", train, "--seed", "1")
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
    runs = {"train-gan --preset yelmen2021": ("train-gan", "--preset", "yelmen2021"),
            "train-gan --preset wgan-gp": ("train-gan", "--preset", "wgan-gp"),
            "train-rbm (100 relu hidden, PCD-10, 100 chains)": ("train-rbm",)}
    print(f"throughput on {args.device}, 805 sites x {4008} training haplotypes, {args.epochs} epochs each, batch 32")
    print(f"yardstick: 100 x (5000x805 @ 805x805) float32 = {yardstick:.3f} s")
    for name, command in runs.items():
        _genosynth(*command, train, "-o", workdir / "t.safetensors", "--epochs", args.epochs, "--device", args.device,
                   "--monitor-every", 10**6, "--checkpoint-every", 10**6, "--validation-size", 100, "--seed", 1)
        rows = (workdir / "t.training.tsv").read_text().splitlines()
        header = rows[0].split("\t")
        seconds = [float(r.split("\t")[header.index("seconds")]) for r in rows[1:]]
        per_epoch = (seconds[-2] - seconds[0]) / (len(seconds) - 2) if len(seconds) > 2 else seconds[-1]
        print(f"  {name:<50} {1 / per_epoch:7.2f} epochs/s  ({per_epoch:.2f} s/epoch = {per_epoch / yardstick:.1f} x yardstick)")


def fidelity(args: argparse.Namespace, workdir: Path) -> None:
    train, holdout = _prepare(workdir)
    commands = {"gan": ("train-gan", train, "-o", workdir / "gan.safetensors", "--preset", args.gan_preset, "--early-stop", "aats"),
                "rbm": ("train-rbm", train, "-o", workdir / "rbm.safetensors", "--early-stop", "aats")}
    common = ("--max-time", args.max_time, "--epochs", 10**6, "--device", "cpu", "--seed", 1, "--monitor-every", 25,
              "--checkpoint-every", 25)
    env = dict(os.environ, **({"OMP_NUM_THREADS": "1"} if args.parallel else {}))

    def start(name: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "genosynth", *map(str, commands[name] + common)],
                                stderr=open(workdir / f"{name}.log", "w"), env=env)

    running = {name: start(name) for name in commands} if args.parallel else {}
    for name in commands:
        process = running.get(name) or start(name)
        if process.wait() != 0:
            raise SystemExit(f"{name} training failed: see {workdir / name}.log")
    for name in commands:
        _genosynth("sample", workdir / f"{name}.safetensors", "-n", 5000, "-o", workdir / f"{name}_ag.h5", "--seed", 1)
    _genosynth("evaluate", "--real", train, "--holdout", holdout, "--synthetic", f"gan={workdir / 'gan_ag.h5'}",
               "--synthetic", f"rbm={workdir / 'rbm_ag.h5'}", "-o", workdir / "evaluation", "--seed", 1)
    metrics = json.loads((workdir / "evaluation" / "metrics.json").read_text())["sets"]
    paper = workdir / "paper_evaluation"
    _genosynth("evaluate", "--real", DATA / "805_SNP_1000G_real.hapt.gz", "--legend", DATA / "805_SNP.legend",
               "--synthetic", f"paper_gan={DATA / 'paper_GAN_AG_20000epochs.hapt.gz'}",
               "--synthetic", f"paper_rbm={DATA / 'paper_RBM_AG_800epochs.hapt.gz'}", "-o", paper, "--seed", 1)
    metrics.update(json.loads((paper / "metrics.json").read_text())["sets"])
    for name in ("gan", "rbm"):
        out = workdir / f"privacy_{name}"
        _genosynth("privacy-check", "--train", train, "--holdout", holdout, "--synthetic", workdir / f"{name}_ag.h5",
                   "-o", out, "--seed", 1)
        privacy = json.loads((out / "privacy.json").read_text())
        metrics[name].update({k: privacy[k] for k in ("aats_train", "aats_holdout", "privacy_loss", "exact_copies")})
        summary = load_model_file(workdir / f"{name}.safetensors").provenance[-1]["summary"]
        metrics[name]["epochs"] = summary["epochs_trained"]
        metrics[name]["kept_epoch"] = summary["kept_epoch"]
    print(f"fidelity on 805 SNPs, train 80% / holdout 20% (seed 1), --max-time {args.max_time} per model on CPU, "
          f"GAN preset {args.gan_preset}"
          + (" (both at once, 1 thread each)" if args.parallel else ""))
    columns = ("epochs", "kept_epoch", "af_r", "ld_r", "w2d_pca", "fixed_fraction", "aats", "aats_train",
               "aats_holdout", "privacy_loss", "exact_copies")
    print("set".ljust(12) + "".join(c.rjust(16) for c in columns))
    for name, m in metrics.items():
        print(name.ljust(12) + "".join(_cell(m.get(c)).rjust(16) for c in columns))
    print("targets: " + ", ".join(f"{k} {op} {v}" for k, (op, v) in TARGETS.items()) + ", AATS in [0.40, 0.65]"
          " (paper AGs are judged against all 805-SNP real data, not the 80% split; AATS there vs all real)")


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=("throughput", "fidelity"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--max-time", default="20m")
    parser.add_argument("--gan-preset", default="yelmen2021", help="fidelity: the GAN's --preset")
    parser.add_argument("--parallel", action="store_true", help="fidelity: train both models at once, 1 thread each")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        (throughput if args.which == "throughput" else fidelity)(args, workdir)


if __name__ == "__main__":
    main()
