"""Benchmarks of selection-scan's CNN (ImaGene) on simulations.

accuracy: windows simulated under a constant size (N = 10,000, 80 kb, --haplotypes) for 11 classes of
    S = 2Ns (0, 40, ..., 400), --simulations per class; networks trained on three subsets of the classes and
    judged on their held-out simulations: neutral vs S = 400 (ImaGene reports 0.94-0.99 with sorted images),
    the 0/200/400 confusion matrix, and the RMSE of the posterior mean of S over the 11 bins. Simulations per
    second, training seconds and the peak memory of this process are reported.
roc: fresh windows of a population A (neutral, or a sweep with S = 400) simulated with a second population B
    that split from it 4,000 generations ago; each window scored by the CNN trained on the 0/400 classes
    (P_SELECTION of A's image), by iHS (the largest |standardised iHS| of A in the window) and by XP-EHH (the
    largest standardised XP-EHH of A against B); the area under the ROC curve and the true positive rate at a
    5% false positive rate of each.
sweep: the paper's question. simulate_sweep's three populations with a sweep of S = 400 in A (500 kb), a GAN
    conditioned on population trained on them for --max-time, 60 artificial A haplotypes sampled, and
    selection-scan --method cnn --synthetic over real and artificial A: the estimate of S in the window over
    the sweep for both, and how the two scans agree.

    .venv/bin/python bench/selection.py [accuracy roc sweep] [--simulations 500] [--threads 2] [--max-time 10m]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from genosynth.downstream.selection.imagene import haplotype_image, posterior_summary
from genosynth.downstream.selection.network import CnnConfig, SelectionNetwork, train_selection_network
from genosynth.downstream.selection.sweeps import SweepSettings, simulate_training_images

GRID = tuple(float(s) for s in range(0, 401, 40))
SIZE, LENGTH, SPLIT = 10_000, 80_000, 4_000


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def _subset(images: np.ndarray, labels: np.ndarray, keep: list[int]) -> tuple[np.ndarray, np.ndarray]:
    mask = np.isin(labels, keep)
    return images[mask], np.searchsorted(np.array(keep), labels[mask])


def accuracy(args: argparse.Namespace) -> tuple[dict, SelectionNetwork]:
    settings = SweepSettings(
        s_grid=GRID, simulations=args.simulations, haplotypes=args.haplotypes, length=LENGTH, ne=SIZE, seed=args.seed
    )
    data = simulate_training_images(settings, threads=args.threads, progress=True)
    result = {
        "simulations": int(len(data.labels)),
        "simulation_seconds": round(data.seconds, 1),
        "simulations_per_second": round(data.simulations_per_second, 1),
        "sites_per_window_median": float(np.median(data.sites)),
        "haplotypes": args.haplotypes,
    }
    networks = {}
    for name, keep in (("binary_0_400", [0, 10]), ("three_0_200_400", [0, 5, 10]), ("eleven_bins", list(range(11)))):
        images, labels = _subset(data.images, data.labels, keep)
        start = time.perf_counter()
        network = train_selection_network(
            images,
            labels,
            np.array(GRID)[keep],
            config=CnnConfig(max_epochs=30),
            seed=args.seed,
            device=args.device,
            progress=True,
        )
        evaluation = network.evaluation
        result[name] = {
            "training_seconds": round(time.perf_counter() - start, 1),
            "epochs": len(network.history),
            "kept_epoch": evaluation["kept_epoch"],
            "test_simulations": evaluation["test_simulations"],
            "test_accuracy": round(evaluation["test_accuracy"], 4),
            "neutral_vs_strongest_accuracy": round(evaluation["neutral_vs_strongest_accuracy"], 4),
            "s_mean_rmse": round(evaluation["s_mean_rmse"], 1),
            "confusion_matrix": evaluation["confusion_matrix"],
        }
        networks[name] = network
        print(name, json.dumps(result[name]), flush=True)
    result["peak_memory_gb"] = round(_peak_gb(), 2)
    return result, networks["binary_0_400"]


def _two_population_window(seed: int, strength: float, haplotypes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A (swept when ``strength`` > 0) and B haplotypes and positions of one window (see the module's description):
    A's lineages alone up to half the split time (the sweep is over by then), then with B's."""
    import msprime
    import tskit

    model = None
    if strength > 0:
        model = [
            msprime.SweepGenicSelection(
                position=LENGTH // 2,
                start_frequency=1 / (2 * SIZE),
                end_frequency=1 - 1 / (2 * SIZE),
                s=strength / (2 * SIZE),
                dt=1e-6,
            ),
            msprime.StandardCoalescent(),
        ]
    for attempt in range(20):  # a sweep still running at half the split time is drawn again
        try:
            recent = msprime.sim_ancestry(
                samples=[msprime.SampleSet(haplotypes, ploidy=1)],
                population_size=SIZE,
                sequence_length=LENGTH,
                recombination_rate=1e-8,
                model=model,
                end_time=SPLIT // 2,
                random_seed=seed + 7919 * attempt,
            )
            break
        except RuntimeError:
            continue
    demography = msprime.Demography()
    for name in ("A", "B", "AB"):
        demography.add_population(name=name, initial_size=SIZE)
    demography.add_population_split(time=SPLIT, derived=["A", "B"], ancestral="AB")
    tables = recent.dump_tables()
    tables.populations.clear()
    tables.populations.metadata_schema = tskit.MetadataSchema.permissive_json()
    for population in demography.populations:
        tables.populations.add_row(metadata={"name": population.name})
    for _ in range(haplotypes):
        tables.nodes.add_row(flags=tskit.NODE_IS_SAMPLE, time=0, population=1)
    ts = msprime.sim_ancestry(
        initial_state=tables, demography=demography, recombination_rate=1e-8, random_seed=seed + 1
    )
    ts = msprime.sim_mutations(
        ts, rate=1.25e-8, model=msprime.BinaryMutationModel(), discrete_genome=False, random_seed=seed + 2
    )
    genotypes = ts.genotype_matrix().T.astype(np.uint8)
    positions = ts.tables.sites.position.astype(np.int64) + 1
    keep = np.r_[True, np.diff(positions) > 0]  # scikit-allel wants strictly increasing positions
    return genotypes[:haplotypes, keep], genotypes[haplotypes:, keep], positions[keep]


def roc(args: argparse.Namespace, network: SelectionNetwork) -> dict:
    import allel

    windows = []
    for i in range(args.roc_windows):
        for label, strength in ((0, 0.0), (1, 400.0)):
            a, b, pos = _two_population_window(args.seed * 100_000 + 3 * (2 * i + label), strength, args.haplotypes)
            windows.append((label, a, b, pos))
    labels = np.array([w[0] for w in windows])
    images = np.stack([haplotype_image(a, size=network.image_size) for _, a, _, _ in windows])
    cnn = posterior_summary(network.probabilities(images), network.classes)["p_selection"]
    raw_ihs, raw_xpehh, counts, owner = [], [], [], []
    for index, (_, a, b, pos) in enumerate(windows):
        with np.errstate(all="ignore"):
            raw_ihs.append(allel.ihs(a.T, pos, min_maf=0.05, include_edges=True, use_threads=False))
            raw_xpehh.append(allel.xpehh(a.T, b.T, pos, include_edges=True, use_threads=False))
        counts.append(a.sum(axis=0))
        owner.append(np.full(len(pos), index))
    owner = np.concatenate(owner)
    ihs, _ = allel.standardize_by_allele_count(np.concatenate(raw_ihs), np.concatenate(counts), diagnostics=False)
    xpehh = allel.standardize(np.concatenate(raw_xpehh))
    scores = {
        "cnn": cnn,
        "ihs": np.array([np.nanmax(np.abs(ihs[owner == i]), initial=0) for i in range(len(windows))]),
        "xpehh": np.array([np.nanmax(xpehh[owner == i], initial=-10) for i in range(len(windows))]),
    }
    return {
        "windows_per_class": args.roc_windows,
        **{
            name: {"auc": round(_auc(score, labels), 4), "tpr_at_5pct_fpr": round(_tpr(score, labels), 4)}
            for name, score in scores.items()
        },
    }


def _auc(score: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve: P(a selected window outscores a neutral one), ties counted half."""
    positive, negative = score[labels == 1], score[labels == 0]
    return float(
        ((positive[:, None] > negative[None, :]).sum() + 0.5 * (positive[:, None] == negative[None, :]).sum())
        / (len(positive) * len(negative))
    )


def _tpr(score: np.ndarray, labels: np.ndarray) -> float:
    threshold = np.quantile(score[labels == 0], 0.95)
    return float((score[labels == 1] > threshold).mean())


def sweep(args: argparse.Namespace) -> dict:
    from genosynth.downstream.simulation import simulate_sweep

    def genosynth(*words: object) -> str:
        return subprocess.run(
            [sys.executable, "-m", "genosynth", *map(str, words)], check=True, capture_output=True, text=True
        ).stderr

    with tempfile.TemporaryDirectory() as name:
        work = Path(name)
        vcf, populations = simulate_sweep(
            work / "sweep.vcf",
            individuals_per_population=30,
            length=500_000,
            selection=400 / (2 * SIZE),
            seed=args.seed,
        )
        genosynth("vcf-to-matrix", vcf, "--populations", populations, "--min-maf", "0.01", "-o", work / "m.h5")
        start = time.perf_counter()
        genosynth(
            "train-gan",
            work / "m.h5",
            "--preset",
            "wgan-gp",
            "--condition-on",
            "population",
            "--max-time",
            args.max_time,
            "--seed",
            args.seed,
            "-o",
            work / "gan.safetensors",
        )
        training = time.perf_counter() - start
        genosynth(
            "sample",
            work / "gan.safetensors",
            "-n",
            "60",
            "--population",
            "A",
            "--seed",
            args.seed,
            "-o",
            work / "ag.h5",
        )
        genosynth(
            "selection-scan",
            work / "m.h5",
            "--target",
            "A",
            "--method",
            "cnn",
            "--synthetic",
            work / "ag.h5",
            "--cnn-window-sites",
            "100",
            "--simulations",
            str(args.simulations),
            "--threads",
            args.threads,
            "--seed",
            args.seed,
            "-o",
            work / "scan",
        )
        summary = json.loads((work / "scan" / "summary.json").read_text())["cnn"]
        table = np.genfromtxt(work / "scan" / "cnn.tsv", delimiter="\t", names=True, dtype=None, encoding=None)
    sweep_site = 250_001
    over = (table["START"] <= sweep_site) & (sweep_site <= table["END"])
    far = (table["END"] < 100_000) | (table["START"] > 400_000)
    row = {
        role: {
            key: round(float(table[column][over].mean()), 3)
            for key, column in (
                ("p_selection", f"P_SELECTION{suffix}"),
                ("s_mean", f"S_MEAN{suffix}"),
                ("hpd_low", f"S_HPD_LOW{suffix}"),
                ("hpd_high", f"S_HPD_HIGH{suffix}"),
            )
        }
        for role, suffix in (("real", ""), ("synthetic", "_SYNTHETIC"))
    }
    for role, suffix in (("real", ""), ("synthetic", "_SYNTHETIC")):
        row[role]["s_mean_far_from_sweep"] = round(float(table[f"S_MEAN{suffix}"][far].mean()), 1)
    return {
        "true_s": 400,
        "gan_training_seconds": round(training),
        "windows": int(len(table)),
        "windows_over_sweep": int(over.sum()),
        "sweep_window": row,
        "p_selection_pearson": summary["p_selection"]["synthetic"]["pearson"],
        "s_mean_pearson": summary["s_mean"]["synthetic"]["pearson"],
        "network_test_accuracy": summary["training"]["evaluation"]["test_accuracy"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", default=["accuracy", "roc", "sweep"], choices=["accuracy", "roc", "sweep"])
    parser.add_argument("--simulations", type=int, default=500, help="simulations per S class")
    parser.add_argument("--haplotypes", type=int, default=100)
    parser.add_argument("--roc-windows", type=int, default=150, help="windows per class in the ROC comparison")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-time", default="10m", help="GAN training time in the sweep part")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    results: dict = {"device": args.device, "threads": args.threads}
    network = None
    if "accuracy" in args.parts or "roc" in args.parts:
        results["accuracy"], network = accuracy(args)
    if "roc" in args.parts:
        results["roc"] = roc(args, network)
        print("roc", json.dumps(results["roc"]), flush=True)
    if "sweep" in args.parts:
        results["sweep"] = sweep(args)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
