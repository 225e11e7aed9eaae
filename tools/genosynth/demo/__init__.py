"""The end-to-end demo behind ``make demo``: simulate realistic data, then run every step: matrix and holdout,
GAN, RBM and diffusion training, sampling (with the Markov baseline and the mosaic, the recommended chromosome
recipe), the chromosome as a chain of window models,
evaluation, privacy checks, a selection scan and reference-panel augmentation for imputation (Beagle 5).

Each step runs through its real command line, printed before it runs, so the demo doubles as a
worked example. Outputs land in one folder (default ``demo-output/``).

    python -m genosynth.demo [--output demo-output] [--individuals 50] [--length 500000] [--epochs 600] [--seed 1]
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

from genosynth.downstream.simulation import simulate_out_of_africa
from genosynth.io.hdf5 import read_matrix, write_matrix
from genosynth.io.regions import read_bed


def _step(*args: object, expect_exit: int = 0) -> None:
    command = [sys.executable, "-m", "genosynth", *map(str, args)]
    print("$ genosynth " + shlex.join(map(str, args)), flush=True)
    code = subprocess.run(command).returncode
    if code != expect_exit:
        raise SystemExit(f"demo: step exited {code}, expected {expect_exit}")
    if code:
        print(
            f"(exit {code}, as expected: a generator that copies its training set must fail the privacy gate)",
            flush=True,
        )


def run_demo(out: Path, *, individuals: int = 50, length: int = 500_000, epochs: int = 600, seed: int = 1) -> None:
    """Every step on a simulation of ``individuals`` per population over ``length`` bp, outputs into ``out``;
    the GAN trains ``epochs`` epochs, the diffusion model and each window's RBM half of them, the RBM of the whole
    matrix a sixth."""
    out.mkdir(parents=True, exist_ok=True)
    print(f"simulating OutOfAfrica_3G09: 3 populations x {individuals} individuals, {length:,} bp", flush=True)
    vcf, populations = simulate_out_of_africa(
        out / "simulated.vcf", individuals_per_population=individuals, length=length, seed=seed
    )
    # common sites only (--min-maf 0.05) keep the paper's fully connected networks small enough for a laptop;
    # --window-sites plans the windows the chromosome is also trained in, as one sequence (here two of about 500)
    _step(
        "vcf-to-matrix",
        vcf,
        "--populations",
        populations,
        "--min-maf",
        "0.05",
        "--holdout",
        "0.4",
        "--seed",
        seed,
        "-o",
        out / "train.h5",
        "--holdout-output",
        out / "not_trained.h5",
        "--window-sites",
        "500",
        "--windows-output",
        out / "windows.bed",
    )
    # Half of the individuals not trained on become the held-out set; the other half stand for what an ideal
    # generator would produce (new individuals of the same populations), the reference row of the evaluation.
    not_trained = read_matrix(out / "not_trained.h5")
    order = np.random.default_rng(seed).permutation(len(not_trained.samples))
    for name, index in (("holdout", order[: len(order) // 2]), ("ideal_generator", order[len(order) // 2 :])):
        write_matrix(out / f"{name}.h5", not_trained.select_samples(np.sort(index)))
    (out / "not_trained.h5").unlink()
    n = read_matrix(out / "train.h5").n_haplotypes
    # On 180 training haplotypes the paper's preset collapses (most sites fixed after 600 epochs); WGAN-GP learns
    # the allele frequencies within those epochs (r 0.98). The paper's preset wants thousands of haplotypes.
    _step(
        "train-gan",
        out / "train.h5",
        "-o",
        out / "gan.safetensors",
        "--preset",
        "wgan-gp",
        "--epochs",
        epochs,
        "--max-time",
        "3m",
        "--monitor-every",
        "100",
        "--seed",
        seed,
    )
    _step(
        "train-rbm",
        out / "train.h5",
        "-o",
        out / "rbm.safetensors",
        "--epochs",
        epochs // 6,
        "--max-time",
        "2m",
        "--monitor-every",
        "50",
        "--seed",
        seed,
    )
    _step(
        "train-diffusion",
        out / "train.h5",
        "-o",
        out / "diffusion.safetensors",
        "--epochs",
        epochs // 2,
        "--max-time",
        "2m",
        "--monitor-every",
        "100",
        "--seed",
        seed,
    )
    _step("sample", out / "gan.safetensors", "-n", n, "--ploidy", "2", "-o", out / "gan_ag.vcf.gz", "--seed", seed)
    _step("sample", out / "rbm.safetensors", "-n", n, "-o", out / "rbm_ag.h5", "--seed", seed)
    _step("sample", out / "diffusion.safetensors", "-n", n, "-o", out / "diffusion_ag.h5", "--seed", seed)
    # the chromosome as one sequence: an RBM per window, each conditioned on the 100 sites before it, chained by
    # sample (each haplotype drawn window by window); evaluate judges every set's linkage across the boundary
    windows = read_bed(out / "windows.bed")
    chain = [out / f"rbm.w{i}.safetensors" for i in range(1, len(windows) + 1)]
    for model, window in zip(chain, windows):
        _step(
            "train-rbm",
            out / "train.h5",
            "--region",
            window,
            "--context-sites",
            "100",
            "-o",
            model,
            "--epochs",
            epochs // 2,
            "--max-time",
            "1m",
            "--seed",
            seed,
        )
    _step("sample", *chain, "-n", n, "-o", out / "rbm_chain_ag.h5", "--seed", seed)
    _step(
        "sample",
        "--baseline",
        "markov",
        "--reference",
        out / "train.h5",
        "-n",
        n,
        "-o",
        out / "markov_ag.h5",
        "--seed",
        seed,
    )
    # the recommended recipe for a chromosome: the mosaic of the training haplotypes, nothing trained
    _step(
        "sample",
        "--baseline",
        "mosaic",
        "--reference",
        out / "train.h5",
        "-n",
        n,
        "--ploidy",
        "2",
        "-o",
        out / "mosaic_ag.vcf.gz",
        "--seed",
        seed,
    )
    sets = {
        "gan": "gan_ag.vcf.gz",
        "rbm": "rbm_ag.h5",
        "diffusion": "diffusion_ag.h5",
        "rbm_chain": "rbm_chain_ag.h5",
        "markov": "markov_ag.h5",
        "mosaic": "mosaic_ag.vcf.gz",
        "ideal": "ideal_generator.h5",
    }
    _step(
        "evaluate",
        "--real",
        out / "train.h5",
        "--holdout",
        out / "holdout.h5",
        "--windows",
        out / "windows.bed",
        *(option for name, file in sets.items() for option in ("--synthetic", f"{name}={out / file}")),
        "-o",
        out / "evaluation",
        "--seed",
        seed,
    )
    _step(
        "privacy-check",
        "--train",
        out / "train.h5",
        "--holdout",
        out / "holdout.h5",
        "--synthetic",
        out / "gan_ag.vcf.gz",
        "-o",
        out / "privacy_gan",
        "--seed",
        seed,
    )
    _step(
        "privacy-check",
        "--train",
        out / "train.h5",
        "--holdout",
        out / "holdout.h5",
        "--synthetic",
        out / "mosaic_ag.vcf.gz",
        "-o",
        out / "privacy_mosaic",
        "--seed",
        seed,
    )
    _step(
        "privacy-check",
        "--train",
        out / "train.h5",
        "--holdout",
        out / "holdout.h5",
        "--synthetic",
        out / "train.h5",
        "-o",
        out / "privacy_copying_generator",
        "--seed",
        seed,
        "--max-exact-copies",
        "0",
        expect_exit=2,
    )
    # the ideal generator's CEU haplotypes (unseen real individuals) stand in for artificial CEU genomes; the CNN is
    # trained on 100 simulations per S class (a real scan wants about 1000) of the data's own model and MAF filter
    _step(
        "selection-scan",
        out / "train.h5",
        "--target",
        "CEU",
        "--versus",
        "YRI",
        "--outgroup",
        "CHB",
        "--method",
        "xpehh,pbs,cnn",
        "--demography",
        "HomSap/OutOfAfrica_3G09",
        "--demography-population",
        "CEU",
        "--cnn-min-maf",
        "0.05",
        "--simulations",
        "100",
        "--image-size",
        "64",
        "--cnn-window-sites",
        "100",
        "--threads",
        "2",
        "--seed",
        seed,
        "--synthetic",
        out / "ideal_generator.h5",
        "-o",
        out / "selection_scan",
    )
    _step("export", out / "rbm_ag.h5", "-o", out / "rbm_ag.hapt.gz")
    _step("export", out / "train.h5", "-o", out / "panel.vcf.gz")
    _step("export", out / "holdout.h5", "-o", out / "holdout.vcf.gz")
    _step(
        "impute-augment",
        "--panel",
        out / "panel.vcf.gz",
        "--synthetic",
        out / "gan_ag.vcf.gz",
        "--target",
        out / "holdout.vcf.gz",
        "--memory",
        "1g",
        "--seed",
        seed,
        "-o",
        out / "imputation",
    )
    print(
        f"demo finished: outputs in {out}/; open {out / 'evaluation' / 'report.html'} and "
        f"{out / 'privacy_gan' / 'report.html'} in a browser",
        flush=True,
    )
