"""Benchmarks of whole chromosomes from window models, on a stdpopsim OutOfAfrica_3G09 segment.

chain: 3 x --individuals individuals over --length bp of chr22, split 80/20 by individual, cut into windows of
    --window-sites sites; the first --windows windows trained per model (rbm; gan, the dense wgan-gp; conv, the
    conv-wgan-gp; diffusion, train-diffusion's U-Net; diffusion_pca, its PCA representation) for --budget each,
    chained (conditioned on --context-sites sites) and independent (no context); and, where it fits, one model
    of all those sites for --windows x --budget. 2000 haplotypes drawn through each, judged on those sites
    against the training haplotypes (AF r, LD r and LD strength over pairs within 100 kb, boundary_ld_r beside
    within_window_ld_r and the two strengths, PCA W2D, AATS, share of polymorphic sites fixed, W1 of the pairwise
    differences) and against the held-out ones (privacy loss, copies, and the held-out haplotypes identical to a
    training one, their reference); the held-out haplotypes themselves judged the same way as a reference; then
    those LD figures of every set and the held-out haplotypes on the sites all of them vary at (one evaluate).
    Two trainings run at once, one thread each; --rbm-train-args passes options to train-rbm, --sample-args to
    every set's sample (e.g. --sample-args=--expected-counts for GANs: a value that is a single option needs the
    `=` form, or argparse reads it as an option). Model files already in --workdir are reused, so a second run
    there with other --sample-args draws and judges the same models again.
throughput: seconds per epoch of 1000 haplotypes and peak memory of one training process for each model at
    1k, 5k, 10k and 65,536 sites (random haplotypes, 2 epochs of 256), against a yardstick measured in the same
    run (100 x a 1000 x 1000 float32 matmul); parameters counted for sizes that do not fit.
sample: haplotypes per second and peak memory of `sample` drawing 5000 haplotypes through the chain of the first
    window, the first half of the windows and all of them (streamed to a VCF): memory should not grow with them.

    .venv/bin/python bench/chromosome.py chain [--length 5500000] [--windows 4] [--window-sites 1500] [--budget 60s]
        [--models rbm gan conv diffusion diffusion_pca] [--modes chained independent one_window] [--seed 1]
        [--rbm-train-args "--k 1"] [--sample-args=--expected-counts] [--workdir DIR]
    .venv/bin/python bench/chromosome.py throughput [--device cpu] [--models ...]
    .venv/bin/python bench/chromosome.py sample --workdir DIR   (after chain, with the same --workdir)
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from models import _cell  # bench/models.py: the same table cells

MODELS = {
    "rbm": ("train-rbm",),
    "gan": ("train-gan", "--preset", "wgan-gp"),
    "conv": ("train-gan", "--preset", "conv-wgan-gp"),
    "diffusion": ("train-diffusion", "--representation", "sites"),
    "diffusion_pca": ("train-diffusion", "--representation", "pca"),
}
ONE_WINDOW_FITS = ("rbm", "conv", "diffusion", "diffusion_pca")  # the dense GAN grows with the square of the sites
MODES = ("chained", "independent", "one_window")
COLUMNS = (
    "af_r",
    "ld_r",
    "ld_strength",
    "boundary_ld_r",
    "within_window_ld_r",
    "boundary_ld_strength",
    "within_window_ld_strength",
    "w2d_pca",
    "aats",
    "aa_truth",
    "aa_syn",
    "fixed_fraction",
    "pairwise_w",
    "privacy_loss",
    "privacy_loss_se",
    "exact_copies",
)


def _genosynth(*args: object, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "genosynth", *map(str, args)], capture_output=True, text=True, env=env
    )
    if result.returncode != 0:
        raise SystemExit(f"genosynth {' '.join(map(str, args))} failed:\n{result.stderr[-2000:]}")
    return result


def _data(args: argparse.Namespace, workdir: Path) -> tuple[Path, Path, list[str]]:
    """The simulated segment as train/holdout matrices and the windows' regions."""
    from genosynth.downstream.simulation import simulate_out_of_africa
    from genosynth.io.regions import read_bed

    train, holdout, bed = workdir / "train.h5", workdir / "holdout.h5", workdir / "windows.bed"
    if not train.exists():
        start = time.perf_counter()
        vcf, populations = simulate_out_of_africa(
            workdir / "segment.vcf.gz", individuals_per_population=args.individuals, length=args.length, seed=1
        )
        simulated = time.perf_counter() - start
        _genosynth(
            "vcf-to-matrix",
            vcf,
            "--populations",
            populations,
            "--holdout",
            "0.2",
            "--holdout-output",
            holdout,
            "--window-sites",
            args.window_sites,
            "--windows-output",
            bed,
            "-o",
            train,
            "--seed",
            1,
        )
        print(f"simulated {args.length} bp x {3 * args.individuals} individuals in {simulated:.0f} s")
    windows = [str(region) for region in read_bed(bed)]
    return train, holdout, windows


def chain(args: argparse.Namespace, workdir: Path) -> None:
    import genosynth
    from genosynth.io.hdf5 import read_sites
    from genosynth.io.regions import Region, write_bed

    train, holdout, all_windows = _data(args, workdir)
    windows = all_windows[: args.windows]
    sites = read_sites(train)
    print(
        f"segment: {len(sites)} polymorphic sites, {len(all_windows)} windows of {args.window_sites}; benchmarked "
        f"on the first {len(windows)} ({windows[0]} to {windows[-1]}), {args.budget} per window and model"
    )
    jobs = []  # (output model file, command)
    for model in args.models:
        command = (*MODELS[model], *shlex.split(args.rbm_train_args)) if model == "rbm" else MODELS[model]
        for mode, context in (("chained", args.context_sites), ("independent", 0)):
            if mode not in args.modes:
                continue
            for index, region in enumerate(windows):
                out = workdir / f"{model}.{mode}.w{index + 1}.safetensors"
                jobs.append(
                    (
                        out,
                        (
                            *command,
                            train,
                            "--region",
                            region,
                            "--context-sites",
                            context,
                            "--max-time",
                            args.budget,
                            "--epochs",
                            10**6,
                            "--holdout",
                            holdout,
                            "--early-stop",
                            "fidelity",
                            "--monitor-every",
                            10,
                            "--device",
                            "cpu",
                            "--seed",
                            args.seed,
                            "-o",
                            out,
                        ),
                    )
                )
        if model in ONE_WINDOW_FITS and "one_window" in args.modes:
            first, last = windows[0].split("-")[0], windows[-1].split("-")[1]
            out = workdir / f"{model}.one_window.w1.safetensors"
            seconds = _seconds(args.budget) * len(windows)
            jobs.append(
                (
                    out,
                    (
                        *command,
                        train,
                        "--region",
                        f"{first}-{last}",
                        "--max-time",
                        f"{seconds}s",
                        "--epochs",
                        10**6,
                        "--holdout",
                        holdout,
                        "--early-stop",
                        "fidelity",
                        "--monitor-every",
                        10,
                        "--device",
                        "cpu",
                        "--seed",
                        args.seed,
                        "-o",
                        out,
                    ),
                )
            )
    _run_two_at_a_time([job for job in jobs if not job[0].exists()], workdir)
    results = {}
    region = f"{windows[0].split('-')[0]}-{windows[-1].split('-')[1]}"
    real, held = workdir / "real_region.h5", workdir / "holdout_region.h5"
    for source, target in ((train, real), (holdout, held)):
        genosynth.write_haplotypes(genosynth.read_haplotypes(source, region=region), target)
    bed = workdir / "benchmarked_windows.bed"
    write_bed(bed, [Region.parse(window) for window in windows])
    samples = {}
    for model in args.models:
        for mode in args.modes:
            files = sorted(
                workdir.glob(f"{model}.{mode}.w*.safetensors"), key=lambda p: int(p.name.split(".w")[-1].split(".")[0])
            )
            if not files:
                continue
            ag = samples[f"{model}_{mode}"] = workdir / f"{model}.{mode}.ag.h5"
            _genosynth(
                "sample",
                *files,
                "-n",
                args.haplotypes,
                "--seed",
                args.seed,
                "--device",
                "cpu",
                *shlex.split(args.sample_args),
                "-o",
                ag,
            )
            results[f"{model} {mode}"] = {
                **_evaluate(real, ag, bed, workdir / f"{model}.{mode}.evaluation"),
                **_privacy(real, held, ag, workdir / f"{model}.{mode}.privacy"),
            }
    # the reference: real haplotypes no model saw, judged the same way (their own sampling noise)
    results["held-out real"] = _evaluate(real, held, bed, workdir / "held_out.evaluation")
    _print_table(results, COLUMNS)
    privacy = next((r for r in results.values() if "n_holdout" in r), None)
    if privacy:  # the reference for exact_copies: a new sample of the population copies training haplotypes too
        print(
            f"held-out haplotypes identical to a training one: {privacy['holdout_copies_of_train']} of "
            f"{privacy['n_holdout']}"
        )
    joint = _ld_on_common_sites(real, held, samples, bed, workdir / "common_sites.evaluation")
    (workdir / "chain.json").write_text(
        json.dumps(
            {
                "windows": windows,
                "budget": args.budget,
                "seed": args.seed,
                "sample_args": args.sample_args,
                "results": results,
                "ld_on_common_sites": joint,
            },
            indent=2,
        )
    )


def _ld_on_common_sites(real: Path, holdout: Path, samples: dict[str, Path], windows_bed: Path, out: Path) -> dict:
    """LD figures of every set and the held-out haplotypes judged in one evaluate: on the sites all of them vary
    at (evaluate drops the sites a set leaves fixed, so each row of the table above is judged on its own sites,
    and a set that loses its rare alleles is judged on fewer, commoner ones). Printed and returned."""
    metrics = _evaluate_sets(real, samples, windows_bed, out, "--holdout", holdout)
    columns = (
        "ld_r",
        "ld_strength",
        "boundary_ld_r",
        "within_window_ld_r",
        "boundary_ld_strength",
        "within_window_ld_strength",
    )
    joint = {name: {c: row.get(c) for c in columns} for name, row in metrics["sets"].items()}
    print(f"LD on the {metrics['ld']['sites']} sites every set and the held-out haplotypes vary at")
    _print_table(joint, columns)
    return joint


def _print_table(rows: dict[str, dict], columns: tuple[str, ...]) -> None:
    """One line per set (its name, then each column's cell, "-" where missing), under a header of the columns."""
    widths = [max(14, len(c) + 2) for c in columns]
    print("set".ljust(22) + "".join(c.rjust(w) for c, w in zip(columns, widths)))
    for name, row in rows.items():
        print(name.ljust(22) + "".join(_cell(row.get(c)).rjust(w) for c, w in zip(columns, widths)))


def _evaluate(real: Path, synthetic: Path, windows_bed: Path, out: Path) -> dict:
    return _evaluate_sets(real, {"set": synthetic}, windows_bed, out)["sets"]["set"]


def _evaluate_sets(real: Path, sets: dict[str, Path], windows_bed: Path, out: Path, *extra: object) -> dict:
    """One `genosynth evaluate` of ``sets`` (name: file) against ``real`` (LD within 100 kb, boundaries of the
    benchmarked windows); its metrics.json."""
    synthetic = [arg for name, path in sets.items() for arg in ("--synthetic", f"{name}={path}")]
    _genosynth(
        "evaluate",
        "--real",
        real,
        *synthetic,
        *extra,
        "--windows",
        windows_bed,
        "--ld-max-distance",
        100000,
        "--seed",
        1,
        "--device",
        "cpu",
        "-o",
        out,
    )
    return json.loads((out / "metrics.json").read_text())


def _privacy(real: Path, holdout: Path, ag: Path, out: Path) -> dict:
    _genosynth("privacy-check", "--train", real, "--holdout", holdout, "--synthetic", ag, "--seed", 1, "-o", out)
    privacy = json.loads((out / "privacy.json").read_text())
    return {
        key: privacy[key]
        for key in ("privacy_loss", "privacy_loss_se", "exact_copies", "holdout_copies_of_train", "n_holdout")
    }


def _run_two_at_a_time(jobs: list[tuple[Path, tuple]], workdir: Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    pending, running = list(jobs), []
    while pending or running:
        while pending and len(running) < 2:
            out, command = pending.pop(0)
            with open(out.with_suffix(".log"), "w") as log:
                running.append(
                    (
                        out,
                        subprocess.Popen([sys.executable, "-m", "genosynth", *map(str, command)], stderr=log, env=env),
                    )
                )
        time.sleep(1)
        for out, process in list(running):
            if process.poll() is not None:
                running.remove((out, process))
                if process.returncode != 0:
                    raise SystemExit(f"training {out.name} failed: see {out.with_suffix('.log')}")


def _seconds(budget: str) -> int:
    from genosynth._infra.options import parse_duration

    return int(parse_duration("budget", budget))


THROUGHPUT_CHILD = r"""
import json, resource, sys, time
import numpy as np, torch
kind, n_sites, device = sys.argv[1], int(sys.argv[2]), sys.argv[3]
from genosynth.generate.models.diffusion import Diffusion, DiffusionConfig
from genosynth.generate.models.gan import Gan, GanConfig
from genosynth.generate.models.rbm import Rbm, RbmConfig
if kind == "rbm":
    generator = Rbm(RbmConfig.for_sites(n_sites), device=device, seed=1, frequencies=np.full(n_sites, 0.3))
elif kind in ("diffusion", "diffusion_pca"):
    representation = "pca" if kind == "diffusion_pca" else "sites"
    generator = Diffusion(DiffusionConfig.for_sites(n_sites, n_haplotypes=256, representation=representation),
                          device=device, seed=1)
else:
    generator = Gan(GanConfig.for_preset("wgan-gp" if kind == "gan" else "conv-wgan-gp", n_sites=n_sites), device=device, seed=1)
parameters = sum(t.numel() for t in generator.model_tensors().values())
data = (torch.rand(256, n_sites, device=device) < 0.3).float()
rng = torch.Generator(device=device).manual_seed(1)
generator.train_epoch(data[:64], None, rng)  # warm-up
start = time.perf_counter()
generator.train_epoch(data, None, rng)
if device == "cuda":
    torch.cuda.synchronize()
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds_per_1000": seconds * 1000 / 256, "peak_mb": peak, "parameters": parameters}))
"""


def throughput(args: argparse.Namespace, workdir: Path) -> None:
    import torch

    a = torch.rand(1000, 1000)
    a @ a
    start = time.perf_counter()
    for _ in range(100):
        a @ a
    yardstick = time.perf_counter() - start
    print(
        f"throughput on {args.device}: one epoch of 1000 haplotypes (batch 32), from 256 timed; peak = the training "
        f"process's maximum resident memory; yardstick 100 x (1000x1000 @ 1000x1000) = {yardstick:.3f} s"
    )
    print(
        "model".ljust(14)
        + "sites".rjust(8)
        + "s/epoch/1000".rjust(14)
        + "x yardstick".rjust(13)
        + "peak MB".rjust(10)
        + "parameters".rjust(14)
    )
    for kind in args.models:
        for n_sites in (1000, 5000, 10000, 65536):
            if kind == "gan" and n_sites > 10000:
                hidden = (round(n_sites / 1.2), round(n_sites / 1.1), round(n_sites / 2), round(n_sites / 3))
                count = (
                    600 * hidden[0]
                    + hidden[0] * hidden[1]
                    + hidden[1] * n_sites
                    + n_sites * hidden[2]
                    + hidden[2] * hidden[3]
                )
                print(
                    f"{kind:<14}{n_sites:>8}" + "does not fit".rjust(37) + f"{count:>14.3g}  "
                    f"({count * 16 / 1e9:.0f} GB of weights and Adam states)"
                )
                continue
            try:
                result = subprocess.run(
                    [sys.executable, "-c", THROUGHPUT_CHILD, kind, str(n_sites), args.device],
                    capture_output=True,
                    text=True,
                    timeout=args.timeout,
                )
                measured = json.loads(result.stdout.strip().splitlines()[-1])
            except subprocess.TimeoutExpired:
                print(f"{kind:<14}{n_sites:>8}" + f"> {args.timeout} s for 320 haplotypes".rjust(37))
                continue
            except (json.JSONDecodeError, IndexError):
                print(f"{kind:<14}{n_sites:>8}  failed: {result.stderr.strip().splitlines()[-1:]}")
                continue
            seconds = measured["seconds_per_1000"]
            print(
                f"{kind:<14}{n_sites:>8}{seconds:>14.2f}{seconds / yardstick:>13.1f}{measured['peak_mb']:>10.0f}"
                f"{measured['parameters']:>14.3g}"
            )


SAMPLE_CHILD = r"""
import json, resource, sys, time
from genosynth.cli import main
start = time.perf_counter()
try:
    main(["sample", *sys.argv[2:], "-n", sys.argv[1], "--seed", "1", "--device", "cpu", "--batch", "1000"])
except SystemExit as exit:
    assert not exit.code, exit.code
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def sample(args: argparse.Namespace, workdir: Path) -> None:
    from genosynth import read_model_header

    n = 5000
    print(f"sampling {n} haplotypes through chains of window models to a bgzipped VCF, one process each")
    for model in MODELS:
        files = sorted(
            workdir.glob(f"{model}.chained.w*.safetensors"), key=lambda p: int(p.name.split(".w")[-1].split(".")[0])
        )
        if not files:
            continue
        for count in sorted({1, max(1, len(files) // 2), len(files)}):
            chosen = files[:count]
            sites = sum(len(read_model_header(f).sites) for f in chosen)
            result = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    SAMPLE_CHILD,
                    str(n),
                    *map(str, chosen),
                    "-o",
                    str(workdir / f"sample_{model}_{count}.vcf.gz"),
                ],
                capture_output=True,
                text=True,
            )
            measured = json.loads(result.stdout.strip().splitlines()[-1])
            print(
                f"  {model:<5} {count} window(s), {sites:>6} sites: {n / measured['seconds']:8.0f} haplotypes/s "
                f"({measured['seconds']:.1f} s), peak {measured['peak_mb']:.0f} MB"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=("chain", "throughput", "sample"))
    parser.add_argument("--length", type=int, default=5_500_000, help="chain: simulated bp")
    parser.add_argument("--individuals", type=int, default=200, help="chain: individuals per population")
    parser.add_argument("--window-sites", type=int, default=1500)
    parser.add_argument("--windows", type=int, default=4, help="chain: windows benchmarked")
    parser.add_argument("--context-sites", type=int, default=100)
    parser.add_argument(
        "--models",
        nargs="+",
        choices=tuple(MODELS),
        default=list(MODELS),
        help="chain: models trained; throughput: models measured",
    )
    parser.add_argument("--budget", default="60s", help="chain: training time per window and model")
    parser.add_argument(
        "--modes",
        nargs="+",
        choices=MODES,
        default=list(MODES),
        help="chain: which sets to train (one_window: one model of all the benchmarked windows' sites)",
    )
    parser.add_argument("--rbm-train-args", default="", help='chain: extra options of train-rbm (e.g. "--k 1")')
    parser.add_argument(
        "--sample-args",
        default="",
        help="chain: extra options of every set's sample, in the = form "
        "(e.g. --sample-args=--expected-counts for GANs)",
    )
    parser.add_argument("--haplotypes", type=int, default=2000, help="chain: haplotypes drawn per set")
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        help="chain: seed of training and sampling (the simulation and its split stay seed 1)",
    )
    parser.add_argument("--device", default="cpu", help="throughput: where to train")
    parser.add_argument("--timeout", type=int, default=600, help="throughput: seconds per measurement")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        {"chain": chain, "throughput": throughput, "sample": sample}[args.which](args, workdir)


if __name__ == "__main__":
    main()
