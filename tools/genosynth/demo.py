"""The end-to-end demo behind ``make demo``: simulate realistic data, then run every step that exists.

Each step runs through its real command line, printed before it runs, so the demo doubles as a
worked example. Outputs land in one folder (default ``demo-output/``).

    python -m genosynth.demo [--output demo-output] [--individuals 50] [--length 1000000] [--seed 1]
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

from .matrix import read_matrix, write_matrix
from .simulation import simulate_out_of_africa


def _step(*args: object, expect_exit: int = 0) -> None:
    command = [sys.executable, "-m", "genosynth", *map(str, args)]
    print("$ genosynth " + shlex.join(map(str, args)), flush=True)
    code = subprocess.run(command).returncode
    if code != expect_exit:
        raise SystemExit(f"demo: step exited {code}, expected {expect_exit}")
    if code:
        print(f"(exit {code}, as expected: a generator that copies its training set must fail the privacy gate)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run genosynth end to end on simulated data.")
    parser.add_argument("--output", type=Path, default=Path("demo-output"))
    parser.add_argument("--individuals", type=int, default=50, help="diploid individuals per population (3 populations)")
    parser.add_argument("--length", type=int, default=1_000_000, help="simulated base pairs of chr22")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    print(f"simulating OutOfAfrica_3G09: 3 populations x {args.individuals} individuals, {args.length:,} bp", flush=True)
    vcf, populations = simulate_out_of_africa(out / "simulated.vcf", individuals_per_population=args.individuals,
                                              length=args.length, seed=args.seed)
    _step("vcf-to-matrix", vcf, "--populations", populations, "--holdout", "0.4", "--seed", args.seed,
          "-o", out / "train.h5", "--holdout-output", out / "not_trained.h5")
    # Half of the individuals not trained on become the held-out set; the other half stand for what an ideal
    # generator would produce (new individuals of the same populations): a privacy report that should pass.
    not_trained = read_matrix(out / "not_trained.h5")
    order = np.random.default_rng(args.seed).permutation(len(not_trained.samples))
    for name, index in (("holdout", order[: len(order) // 2]), ("ideal_generator", order[len(order) // 2:])):
        write_matrix(out / f"{name}.h5", not_trained.select_samples(np.sort(index)))
    (out / "not_trained.h5").unlink()
    _step("export", out / "train.h5", "-o", out / "train.vcf.gz")
    _step("export", out / "holdout.h5", "-o", out / "holdout.hapt.gz")
    _step("evaluate", "--real", out / "train.h5", "--holdout", out / "holdout.h5", "--synthetic",
          f"ideal_generator={out / 'ideal_generator.h5'}", "-o", out / "evaluation", "--seed", args.seed)
    _step("privacy-check", "--train", out / "train.h5", "--holdout", out / "holdout.h5", "--synthetic",
          out / "ideal_generator.h5", "-o", out / "privacy_ideal_generator", "--seed", args.seed)
    _step("privacy-check", "--train", out / "train.h5", "--holdout", out / "holdout.h5", "--synthetic",
          out / "train.h5", "-o", out / "privacy_copying_generator", "--seed", args.seed, "--max-exact-copies", "0",
          expect_exit=2)
    print(f"demo finished: outputs in {out}/", flush=True)


if __name__ == "__main__":
    main()
