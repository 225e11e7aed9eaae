"""Benchmark of infer-demography: demographic model choice among four scenarios of the human out-of-Africa family,
and whether artificial genomes support the same scenario as the real ones.

A chromosome stretch (--length bp) of YRI, CEU and CHB is simulated under stdpopsim's HomSap/OutOfAfrica_3G09
(--individuals per population); YRI and CEU are modelled. Half of the individuals are the "real" set, the other
half a held-out set that stands for a perfect generator; the Li-Stephens mosaic generator and two quick baselines
fitted on the real set per population (independent sites at the real allele frequencies, and a Markov chain over
the 10 previous sites) are artificial sets. infer_demography chooses between OutOfAfrica_3G09, OutOfAfrica_4J17, OutOfAfrica_2T12 and
AmericanAdmixture_4B18 (the last two with AFR=YRI, EUR=CEU), --simulations per scenario, with the recombination
rate of the simulated chr22 stretch (2.1e-8, stdpopsim's; the species' mean, 1.25e-8, is what the step takes
without --recombination-rate).

Writes docs/benchmarks/demography-accuracy.json (held-out accuracy of the CNN and the random forest, per
scenario), docs/benchmarks/demography-posteriors.json (each set's posteriors and verdict) and
docs/benchmarks/demography.png (the posterior bars).

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/demography.py [--simulations 300] [--length 2000000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_result  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
SCENARIOS = [
    "HomSap/OutOfAfrica_3G09",
    "HomSap/OutOfAfrica_4J17",
    "HomSap/OutOfAfrica_2T12:AFR=YRI,EUR=CEU",
    "HomSap/AmericanAdmixture_4B18:AFR=YRI,EUR=CEU",
]
POPULATIONS = ["YRI", "CEU"]


def _labelled_baseline(real, method: str, seed: int):
    """A baseline fitted on each population of ``real`` apart, as many haplotypes as it has, labelled."""
    from genosynth import HaplotypeMatrix, sample_baseline

    parts, labels = [], []
    for population in POPULATIONS:
        samples = np.flatnonzero(real.populations == population)
        reference = real.select_samples(samples)
        artificial = sample_baseline(
            reference, reference.n_haplotypes, method=method, window=10, seed=seed, progress=False
        )
        parts.append(artificial.haplotypes)
        labels += [population] * artificial.n_haplotypes
    return HaplotypeMatrix.artificial(np.vstack(parts), real.sites, populations=np.array(labels))


def _mosaic(real, seed: int):
    """The Li-Stephens mosaic generator (default settings), as many haplotypes of each population as the real set."""
    from genosynth import HaplotypeMatrix, sample_mosaic

    parts = [
        sample_mosaic(
            real, int((real.haplotype_population == population).sum()), population=population, seed=seed, progress=False
        )
        for population in POPULATIONS
    ]
    return HaplotypeMatrix.artificial(
        np.vstack([part.haplotypes for part in parts]),
        real.sites,
        populations=np.concatenate([part.haplotype_population for part in parts]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--simulations", type=int, default=300, help="simulated windows per scenario")
    parser.add_argument("--individuals", type=int, default=50, help="simulated individuals per population")
    parser.add_argument("--length", type=int, default=2_000_000, help="bp of the simulated chromosome stretch")
    parser.add_argument(
        "--recombination-rate",
        type=float,
        default=2.1057e-8,
        help="of the simulations (default: the simulated stretch of chr22's, as stdpopsim's contig has it)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, help="folder of simulation caches (default: a temporary one)")
    args = parser.parse_args()

    import genosynth
    from genosynth.downstream.simulation import simulate_out_of_africa

    work = Path(tempfile.mkdtemp(prefix="bench-demography-"))
    try:
        vcf, populations = simulate_out_of_africa(
            work / "ooa.vcf", individuals_per_population=args.individuals, length=args.length, seed=args.seed + 100
        )
        everyone = genosynth.read_haplotypes(vcf, populations=populations)
        keep = np.isin(everyone.populations, POPULATIONS)
        rng = np.random.default_rng(args.seed)
        halves = {"real": [], "held-out real": []}
        for population in POPULATIONS:
            members = rng.permutation(np.flatnonzero(everyone.populations == population))
            halves["real"] += members[: len(members) // 2].tolist()
            halves["held-out real"] += members[len(members) // 2 :].tolist()
        assert keep.sum() == len(halves["real"]) + len(halves["held-out real"])
        real = everyone.select_samples(np.sort(halves["real"]))
        held_out = everyone.select_samples(np.sort(halves["held-out real"]))
        artificial = {
            "held-out real": held_out,
            "mosaic": _mosaic(real, args.seed),
            "bernoulli": _labelled_baseline(real, "bernoulli", args.seed),
            "markov": _labelled_baseline(real, "markov", args.seed),
        }
        start = time.monotonic()
        report = genosynth.infer_demography(
            real,
            scenarios=SCENARIOS,
            artificial=artificial,
            use_populations=POPULATIONS,
            simulations=args.simulations,
            recombination_rate=args.recombination_rate,
            cache=args.cache or work / "cache",
            seed=args.seed,
            device="cpu",
            threads=1,
        )
        seconds = time.monotonic() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)

    names = report.names
    rows = []
    for method, title in (("cnn", "CNN"), ("forest", "random forest")):
        evaluation = report.evaluation[method]
        confusion = np.array(evaluation["confusion_matrix"])
        per_class = np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)
        rows.append([title, round(evaluation["test_accuracy"], 3), *[round(float(v), 3) for v in per_class]])
    notes = (
        f"{args.simulations} simulations per scenario of {report.settings['window_length']} bp windows, "
        f"{', '.join(f'{k} {v}' for k, v in report.populations.items())} haplotypes, a fifth held out; "
        f"recombination rate {args.recombination_rate:g}, each scenario's own mutation rate; "
        f"{seconds / 60:.1f} minutes in all"
    )
    write_result(
        DOCS / "demography-accuracy.json",
        title="Held-out accuracy of demographic model choice (overall, then per simulated scenario)",
        columns=["classifier", "accuracy", *names],
        rows=rows,
        notes=notes,
    )
    rows = []
    for set_name, entry in report.posteriors.items():
        verdict = report.verdicts.get(set_name)
        for method, title in (("cnn", "CNN"), ("forest", "random forest")):
            best = report.best(set_name, method)
            rows.append(
                [
                    set_name,
                    title,
                    *[round(entry[method][name], 3) for name in names],
                    best,
                    "-" if verdict is None else round(verdict[method]["total_variation"], 3),
                    "-" if verdict is None else ("yes" if verdict["supports_same_scenario"] else "no"),
                ]
            )
    write_result(
        DOCS / "demography-posteriors.json",
        title=(
            "Posterior probability of each scenario for data simulated under OutOfAfrica_3G09 (real), a held-out half "
            "of the same simulation, the mosaic generator and two baselines fitted on the real half"
        ),
        columns=["set", "classifier", *[f"P({name})" for name in names], "most probable", "TV to real", "supports"],
        rows=rows,
        notes=f"{report.posteriors['real']['windows']} windows; rule: {report.rule}. " + notes,
    )
    _plot(report, DOCS / "demography.png")
    print(report.posteriors, report.verdicts, sep="\n")


def _plot(report, path: Path) -> None:
    from genosynth.reports.html import new_figure

    names, sets = report.names, list(report.posteriors)
    fig = new_figure(10, 3.8)
    axes = fig.subplots(1, 2, sharey=True)
    width = 0.8 / len(sets)
    for ax, (method, title) in zip(axes, (("cnn", "CNN"), ("forest", "random forest"))):
        for i, set_name in enumerate(sets):
            ax.bar(
                np.arange(len(names)) + (i - (len(sets) - 1) / 2) * width,
                [report.posteriors[set_name][method][name] for name in names],
                width=width,
                label=set_name,
                color="black" if set_name == "real" else f"C{i}",
            )
        ax.set_xticks(range(len(names)), names, rotation=15, ha="right", fontsize=8)
        ax.set_title(f"{title} (held-out accuracy {report.evaluation[method]['test_accuracy']:.2f})")
        ax.set_ylim(0, 1)
    axes[0].set_ylabel("posterior probability")
    axes[1].legend(fontsize=8)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
