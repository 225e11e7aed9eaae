"""Benchmark: genosynth evaluate on 5000 real x 5000 synthetic haplotypes x 10,000 sites (target: under 2
minutes on 2 CPU cores), with the time of each stage, against a yardstick measured in the same run.

Data: one msprime simulation of 10,000 haplotypes (Ne 10,000, 3 Mb, binary mutations); the first 10,000
sites; haplotypes 0-4999 are "real", 5000-9999 the "synthetic" set (a perfect generator). evaluate runs in a
fresh process; each stage's time is taken from the arrival of its log line. The yardstick is one float32
product (5000 x 10,000) @ (10,000 x 5000) in torch on the same device, so the ratio tells how the tool does
on this machine whatever its speed.

    .venv/bin/python bench/evaluate.py [--device cpu|cuda] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_HAPLOTYPES = 5000
N_SITES = 10_000


def _simulate(workdir: Path) -> tuple[Path, Path]:
    import msprime
    from genosynth.io.hdf5 import write_matrix
    from genosynth.io.matrix import HaplotypeMatrix, Sites

    real_path, synthetic_path = workdir / "real.h5", workdir / "synthetic.h5"
    if real_path.exists() and synthetic_path.exists():
        return real_path, synthetic_path
    ts = msprime.sim_ancestry(
        samples=N_HAPLOTYPES,
        ploidy=2,
        population_size=10_000,
        sequence_length=3_000_000,
        recombination_rate=1e-8,
        random_seed=5,
    )
    ts = msprime.sim_mutations(ts, rate=1.25e-8, model=msprime.BinaryMutationModel(), random_seed=5)
    genotypes = ts.genotype_matrix()[:N_SITES]
    if len(genotypes) < N_SITES:
        raise SystemExit(f"simulation gave only {len(genotypes)} sites")
    positions = ts.tables.sites.position[:N_SITES].astype(np.int64) + 1
    n = N_SITES
    sites = Sites(np.array(["1"] * n), positions, np.array(["."] * n), np.array(["A"] * n), np.array(["G"] * n))
    haplotypes = np.ascontiguousarray(genotypes.T.astype(np.uint8))
    for path, rows in ((real_path, slice(0, N_HAPLOTYPES)), (synthetic_path, slice(N_HAPLOTYPES, None))):
        samples = np.array([f"s{i}" for i in range(N_HAPLOTYPES // 2)])
        write_matrix(
            path,
            HaplotypeMatrix(
                haplotypes[rows], sites, samples, np.full(len(samples), 2, dtype=np.int8), np.array([""] * len(samples))
            ),
        )
    return real_path, synthetic_path


def _yardstick(device: str) -> float:
    import torch

    a = torch.rand(N_HAPLOTYPES, N_SITES, device=device)
    b = torch.rand(N_SITES, N_HAPLOTYPES, device=device)
    a @ b  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    a @ b
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        real, synthetic = _simulate(workdir)
        yardstick = _yardstick(args.device)
        command = [
            sys.executable,
            "-m",
            "genosynth",
            "evaluate",
            "--real",
            str(real),
            "--synthetic",
            f"perfect={synthetic}",
            "-o",
            str(workdir / "out"),
            "--seed",
            "1",
            "--device",
            args.device,
        ]
        start = time.perf_counter()
        stages: list[tuple[str, float]] = []
        with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as process:
            for line in process.stderr:
                stages.append((line.strip(), time.perf_counter() - start))
        total = time.perf_counter() - start
        if process.returncode != 0:
            raise SystemExit("evaluate failed:\n" + "\n".join(s for s, _ in stages))
        metrics = json.loads((workdir / "out" / "metrics.json").read_text())["sets"]["perfect"]
    print(f"evaluate: {N_HAPLOTYPES} real x {N_HAPLOTYPES} synthetic haplotypes x {N_SITES} sites on {args.device}")
    previous = 0.0
    for text, at in stages:
        print(f"  {at - previous:7.1f} s  until: {text[:110]}")
        previous = at
    print(
        f"total {total:.1f} s (target < 120 s); yardstick matmul {yardstick:.2f} s; total = {total / yardstick:.0f} x yardstick"
    )
    print("metrics: " + ", ".join(f"{k} {metrics[k]:.4f}" for k in ("af_r", "ld_r", "w2d_pca", "pairwise_w", "aats")))


if __name__ == "__main__":
    main()
