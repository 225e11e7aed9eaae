"""infer_demography: which of several demographic scenarios the data support, by a CNN over the populations'
haplotype images and by a random forest on summary statistics, for the real haplotypes and for each artificial set
side by side, with a verdict whether each artificial set supports the same scenario as the real one.

The real data are cut into windows of ``window_length`` bp; every scenario is simulated as many windows of that
length with the data's populations and sample sizes (:mod:`~genosynth.downstream.demography.simulate`); both
classifiers learn from the same simulations and are evaluated on the same held-out ones. A set's posterior
probability of each scenario is the classifier's class probability averaged over the set's windows (the CNN's
softmax, the forest's share of trees). An artificial set supports the same scenario as the real data when, for
both classifiers, its most probable scenario is the real data's and the total-variation distance between the two
posteriors (half the sum of absolute differences) is below ``max_distance`` (0.2 by default).

Example
-------
>>> report = infer_demography(real, scenarios=["HomSap/OutOfAfrica_3G09", "HomSap/OutOfAfrica_4J17"],
...                           artificial={"gan": gan_set}, simulations=200)  # doctest: +SKIP
>>> report.posteriors["real"]["cnn"]  # doctest: +SKIP
{'OutOfAfrica_3G09': 0.93, 'OutOfAfrica_4J17': 0.07}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.errors import InputError, OptionError
from genosynth._infra.options import parse_float, parse_int
from genosynth._infra.progress import logger
from genosynth._infra.provenance import make_record
from genosynth.downstream.demography.baseline import ScenarioForest, train_forest
from genosynth.downstream.demography.features import FeatureSettings, data_windows, window_features
from genosynth.downstream.demography.network import (
    DemographyCnnConfig,
    DemographyNetwork,
    train_demography_network,
)
from genosynth.downstream.demography.scenarios import Scenario, parse_scenarios
from genosynth.downstream.demography.simulate import SimulationSettings, simulate_scenario
from genosynth.io.matrix import HaplotypeMatrix, require_same_sites
from genosynth.io.tables import write_columns
from genosynth.reports import Report, ReportParts

MAX_WINDOW_LENGTH = 100_000
MIN_WINDOW_SITES = 10
METHODS = ("cnn", "forest")
METHOD_NAMES = {"cnn": "CNN", "forest": "random forest"}


@dataclass
class DemographyReport(Report):
    """The outcome of :func:`infer_demography`: the ``scenarios`` (described), the ``populations`` used (label ->
    haplotypes), the classifiers' ``evaluation`` on held-out simulations (``"cnn"``, ``"forest"``: accuracy,
    confusion matrix), ``posteriors`` per set (``"real"`` and each artificial set's name) and method (scenario ->
    probability, with the windows scored), ``verdicts`` per artificial set, the ``rule`` they follow, and the
    trained ``network``; ``write(folder)`` writes demography.json, posteriors.tsv, figures and report.html."""

    scenarios: list[dict[str, Any]]
    populations: dict[str, int]
    settings: dict[str, Any]
    evaluation: dict[str, dict[str, Any]]
    posteriors: dict[str, dict[str, Any]]
    verdicts: dict[str, dict[str, Any]]
    rule: str
    training: dict[str, Any]
    provenance: dict[str, Any]
    network: DemographyNetwork = field(repr=False)
    forest: ScenarioForest = field(repr=False)
    json_name = "demography.json"
    step = "infer-demography"
    report_title = "genosynth infer-demography"

    @property
    def names(self) -> list[str]:
        return [scenario["name"] for scenario in self.scenarios]

    def best(self, set_name: str = "real", method: str = "cnn") -> str:
        """The most probable scenario of a set by a method."""
        posterior = self.posteriors[set_name][method]
        return max(posterior, key=posterior.get)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenarios": self.scenarios,
            "populations": self.populations,
            "settings": self.settings,
            "evaluation": self.evaluation,
            "posteriors": self.posteriors,
            "verdicts": self.verdicts,
            "rule": self.rule,
            "training": self.training,
            "provenance": self.provenance,
        }

    def _write_files(self, folder: Path) -> None:
        columns: dict[str, list[Any]] = {"SET": [], "METHOD": [], "WINDOWS": []}
        columns |= {f"P_{name}": [] for name in self.names}
        for set_name, entry in self.posteriors.items():
            for method in METHODS:
                columns["SET"].append(set_name)
                columns["METHOD"].append(method)
                columns["WINDOWS"].append(entry["windows"])
                for name in self.names:
                    columns[f"P_{name}"].append(entry[method][name])
        write_columns(folder / "posteriors.tsv", columns)

    def _report_parts(self, folder: Path) -> ReportParts:
        from genosynth.reports.demography import demography_figures

        rows = [
            ("scenarios", ", ".join(self.names)),
            ("populations", ", ".join(f"{label} ({n} haplotypes)" for label, n in self.populations.items())),
            ("windows", f"{self.settings['window_length']} bp, MAF >= {self.settings['min_maf']:g}"),
            ("simulations per scenario", str(self.settings["simulations"])),
        ]
        for method in METHODS:
            evaluation = self.evaluation[method]
            rows.append(
                (
                    f"{METHOD_NAMES[method]} accuracy (held out)",
                    f"{evaluation['test_accuracy']:.3f} on {evaluation['test_simulations']} simulations",
                )
            )
        for set_name in self.posteriors:
            for method in METHODS:
                best = self.best(set_name, method)
                rows.append(
                    (
                        f"{set_name}: {METHOD_NAMES[method]}",
                        f"{best} (P = {self.posteriors[set_name][method][best]:.3f})",
                    )
                )
        for set_name, verdict in self.verdicts.items():
            rows.append((f"{set_name}: same scenario as real", "yes" if verdict["supports_same_scenario"] else "no"))
        verdict_line = None
        if self.verdicts:
            same = [name for name, v in self.verdicts.items() if v["supports_same_scenario"]]
            verdict_line = (
                f"{len(same)} of {len(self.verdicts)} artificial sets support the real data's scenario "
                f"({self.best()} by the CNN); rule: {self.rule}"
            )
        return rows, verdict_line, demography_figures(folder, self)


def infer_demography(
    real: HaplotypeMatrix,
    *,
    scenarios: Sequence[str] | str,
    artificial: Mapping[str, HaplotypeMatrix] | None = None,
    use_populations: Sequence[str] | None = None,
    window_length: int | None = None,
    min_maf: float | None = None,
    simulations: int = 200,
    mutation_rate: float | None = None,
    recombination_rate: float | None = None,
    image_size: int = 32,
    epochs: int = 30,
    trees: int = 300,
    max_distance: float = 0.2,
    cache: str | Path | None = None,
    threads: int = 1,
    seed: int = 1,
    device: str = "auto",
    shuffle_labels: bool = False,
    progress: bool = True,
) -> DemographyReport:
    """Choose between demographic ``scenarios`` for ``real`` and each ``artificial`` set (name -> matrix).

    Parameters
    ----------
    real
        Real haplotypes with population labels.
    scenarios
        At least two: stdpopsim ``Species/Model`` ids or Demes files, each optionally followed by
        ``:MODELPOP=LABEL,...`` (see :mod:`~genosynth.downstream.demography.scenarios`).
    artificial
        Artificial sets on the real set's sites, labelled with the same populations (each population subsampled to
        the real data's number of haplotypes; fewer is an error).
    use_populations
        The data labels used (default: every label of ``real``).
    window_length
        bp per window (default: the longest chromosome's span, at most 100 kb); windows with fewer than 10 sites
        passing the MAF filter are not scored.
    min_maf
        Sites below this minor allele frequency (over the populations used) are dropped from data and simulations
        (default: the real data's smallest minor allele frequency, i.e. the filter the data went through).
    simulations
        Windows simulated per scenario; a fifth are held out to evaluate the classifiers.
    mutation_rate, recombination_rate
        Per bp per generation (default: each stdpopsim scenario's, else 1.25e-8 and 1e-8).
    image_size, epochs, trees
        CNN image side, most CNN epochs (early stopping), random-forest trees.
    max_distance
        The verdict's bound on the total-variation distance between an artificial and the real posterior.
    cache
        Folder of simulation caches (one file per scenario and settings, reused by later runs).
    threads, seed, device
        Simulation processes, the seed of simulations, splits and training, the CNN's device.
    shuffle_labels
        Train both classifiers on shuffled scenario labels (a control that must fail: the posteriors carry no
        information then).

    Returns
    -------
    DemographyReport
    """
    parsed = parse_scenarios(scenarios)
    parse_int("simulations", simulations, minimum=10)
    parse_float("max_distance", max_distance, exclusive_minimum=0, maximum=1)
    parse_int("trees", trees, minimum=1)
    parse_int("threads", threads, minimum=1)
    say = logger("infer-demography", progress)
    name = real.name("the real set")
    labels = _populations(real, use_populations, name)
    for scenario in parsed:
        scenario.check_labels(labels)
    artificial = dict(artificial or {})
    for set_name in artificial:
        if set_name == "real" or not set_name:
            raise OptionError("artificial", f"{set_name!r}: name artificial sets other than 'real'")
    rng = np.random.default_rng(seed)
    real_rows = {label: np.flatnonzero(real.haplotype_population == label) for label in labels}
    sets = {"real": _rows_in_order(real.haplotypes, real_rows, labels)}
    counts = {label: len(rows) for label, rows in real_rows.items()}
    for set_name, matrix in artificial.items():
        require_same_sites(real.sites, matrix.sites, reference_name=name, other_name=matrix.name(set_name))
        sets[set_name] = _matched(matrix, set_name, counts, labels, rng)
    chromosomes, positions = real.sites.chrom, real.sites.pos
    if window_length is None:
        window_length = _default_length(chromosomes, positions)
    parse_int("window_length", window_length, minimum=100)
    if min_maf is None:
        min_maf = _observed_min_maf(sets["real"])
    features = FeatureSettings(image_size=image_size)
    settings = SimulationSettings(
        samples=tuple(counts.items()),
        length=int(window_length),
        min_maf=float(min_maf),
        simulations=simulations,
        mutation_rate=mutation_rate,
        recombination_rate=recombination_rate,
        features=features,
        seed=seed,
    )
    config = DemographyCnnConfig()
    config = replace(config, fit=replace(config.fit, max_epochs=epochs))
    groups = settings.groups()
    windows = data_windows(chromosomes, positions, length=settings.length, min_sites=MIN_WINDOW_SITES)
    scored = []
    for index, start in windows:
        kept = _kept_count(sets["real"][:, index], settings.min_maf)
        if kept >= MIN_WINDOW_SITES:
            scored.append((index, start))
    if not scored:
        raise InputError(
            f"{name}: no window of {settings.length} bp holds {MIN_WINDOW_SITES} sites with MAF >= {settings.min_maf:g} "
            "(give a longer --window-length, or data with denser sites)"
        )
    say(
        f"{len(scored)} windows of {settings.length} bp; populations "
        + ", ".join(f"{label} {n}" for label, n in counts.items())
        + f"; MAF >= {settings.min_maf:g}; scenarios {', '.join(s.name for s in parsed)}"
    )
    images, statistics, targets, training = _simulate_all(parsed, settings, cache, threads, progress, say)
    names = [s.name for s in parsed]
    if shuffle_labels:
        targets = np.random.default_rng(seed + 1).permutation(targets)
    network = train_demography_network(
        images,
        targets,
        names,
        populations=labels,
        config=config,
        seed=seed,
        device=device,
        simulation=settings.to_dict(),
        progress=progress,
    )
    split = network_split(len(targets), seed, config)
    forest = train_forest(statistics, targets, names, train=split[0], test=split[1], trees=trees, seed=seed)
    evaluation = {"cnn": network.evaluation, "forest": forest.evaluation}
    say(
        f"held-out accuracy: CNN {network.evaluation['test_accuracy']:.3f}, "
        f"random forest {forest.evaluation['test_accuracy']:.3f}"
    )
    posteriors = {}
    for set_name, haplotypes in sets.items():
        set_images, set_statistics = _window_features(haplotypes, positions, scored, groups, settings)
        posteriors[set_name] = {
            "windows": len(scored),
            "cnn": dict(zip(names, network.probabilities(set_images).mean(axis=0).tolist())),
            "forest": dict(zip(names, forest.probabilities(set_statistics).mean(axis=0).tolist())),
        }
    verdicts = {set_name: _verdict(posteriors["real"], posteriors[set_name], max_distance) for set_name in artificial}
    rule = (
        "an artificial set supports the real data's scenario when, for both the CNN and the random forest, its most "
        f"probable scenario is the real data's and the total-variation distance between the posteriors is below "
        f"{max_distance:g}"
    )
    parameters = {
        "scenarios": [s.spec for s in parsed],
        "populations": labels,
        "window_length": settings.length,
        "min_maf": settings.min_maf,
        "simulations": simulations,
        "mutation_rate": mutation_rate,
        "recombination_rate": recombination_rate,
        "image_size": image_size,
        "epochs": epochs,
        "trees": trees,
        "max_distance": max_distance,
        "shuffle_labels": shuffle_labels,
        "device": device,
    }
    record = make_record(
        "infer-demography",
        parameters=parameters,
        seed=seed,
        inputs=[real.describe()] + [matrix.describe() for matrix in artificial.values()],
    )
    network.provenance = [record]
    return DemographyReport(
        scenarios=[s.describe() | {"rates": list(settings.rates(s))} for s in parsed],
        populations=counts,
        settings=parameters,
        evaluation=evaluation,
        posteriors=posteriors,
        verdicts=verdicts,
        rule=rule,
        training=training,
        provenance=record,
        network=network,
        forest=forest,
    )


def network_split(n: int, seed: int, config: DemographyCnnConfig) -> tuple[np.ndarray, np.ndarray]:
    """(training, test) simulations of the forest: the CNN's training and validation ones, and its test ones."""
    from genosynth.downstream.classifier import split_simulations

    train, validation, test = split_simulations(
        n, seed=seed, validation_fraction=config.fit.validation_fraction, test_fraction=config.fit.test_fraction
    )
    return np.concatenate([train, validation]), test


def _simulate_all(
    scenarios: list[Scenario],
    settings: SimulationSettings,
    cache: str | Path | None,
    threads: int,
    progress: bool,
    say: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    images, statistics, targets, training = [], [], [], {}
    for index, scenario in enumerate(scenarios):
        data = simulate_scenario(scenario, settings, cache=cache, threads=threads, progress=progress)
        say(
            f"{scenario.name}: {'reused' if data.reused else 'simulated'} {len(data.sites)} windows, median "
            f"{np.median(data.sites):.0f} sites after the MAF filter"
        )
        images.append(data.images)
        statistics.append(data.statistics)
        targets.append(np.full(len(data.sites), index, dtype=np.int64))
        training[scenario.name] = {
            "reused": data.reused,
            "simulation_seconds": data.seconds,
            "median_sites": float(np.median(data.sites)),
        }
    return np.concatenate(images), np.concatenate(statistics), np.concatenate(targets), training


def _window_features(
    haplotypes: np.ndarray,
    positions: np.ndarray,
    windows: list[tuple[np.ndarray, int]],
    groups: list[np.ndarray],
    settings: SimulationSettings,
) -> tuple[np.ndarray, np.ndarray]:
    images, statistics = [], []
    for index, start in windows:
        image, stats, _ = window_features(
            haplotypes[:, index],
            positions[index] - start,
            groups,
            length=settings.length,
            min_maf=settings.min_maf,
            settings=settings.features,
        )
        images.append(image)
        statistics.append(stats)
    return np.stack(images), np.stack(statistics)


def _verdict(real: dict[str, Any], other: dict[str, Any], max_distance: float) -> dict[str, Any]:
    verdict: dict[str, Any] = {}
    for method in METHODS:
        p, q = real[method], other[method]
        distance = 0.5 * sum(abs(p[name] - q[name]) for name in p)
        same = max(p, key=p.get) == max(q, key=q.get)
        verdict[method] = {
            "best": max(q, key=q.get),
            "same_best": same,
            "total_variation": distance,
            "supports": bool(same and distance < max_distance),
        }
    verdict["supports_same_scenario"] = all(verdict[method]["supports"] for method in METHODS)
    return verdict


def _populations(real: HaplotypeMatrix, populations: Sequence[str] | None, name: str) -> list[str]:
    present = sorted(set(real.populations.tolist()) - {""})
    if not present:
        raise InputError(f"{name}: no population labels (give a sample -> population table with --populations)")
    if populations is None:
        return present
    labels = [str(p) for p in populations]
    if not labels or len(set(labels)) < len(labels):
        raise OptionError("use_populations", f"{','.join(labels)!r}: name distinct data populations")
    for label in labels:
        if label not in present:
            raise OptionError(
                "use_populations", f"{label!r}: not a population of {name} (its populations: {', '.join(present)})"
            )
    return labels


def _rows_in_order(haplotypes: np.ndarray, rows: dict[str, np.ndarray], labels: list[str]) -> np.ndarray:
    return haplotypes[np.concatenate([rows[label] for label in labels])]


def _matched(
    matrix: HaplotypeMatrix, set_name: str, counts: dict[str, int], labels: list[str], rng: np.random.Generator
) -> np.ndarray:
    """The artificial set's haplotypes of each population, subsampled (seeded) to the real data's counts."""
    population = matrix.haplotype_population
    if not (population != "").any():
        raise InputError(
            f"{matrix.name(set_name)}: the artificial set has no population labels; the scenarios need its "
            f"haplotypes of {', '.join(labels)}"
        )
    rows = {}
    for label in labels:
        found = np.flatnonzero(population == label)
        if len(found) < counts[label]:
            raise InputError(
                f"{matrix.name(set_name)}: {len(found)} haplotypes of population {label}, the real data have "
                f"{counts[label]}; generate at least as many"
            )
        rows[label] = np.sort(rng.choice(found, counts[label], replace=False))
    return _rows_in_order(matrix.haplotypes, rows, labels)


def _default_length(chromosomes: np.ndarray, positions: np.ndarray) -> int:
    spans = [
        int(positions[chromosomes == c].max() - positions[chromosomes == c].min() + 1)
        for c in dict.fromkeys(chromosomes.tolist())
    ]
    return max(100, min(max(spans), MAX_WINDOW_LENGTH))


def _observed_min_maf(haplotypes: np.ndarray) -> float:
    frequency = haplotypes.mean(axis=0)
    minor = np.minimum(frequency, 1 - frequency)
    minor = minor[minor > 0]
    return float(np.floor(minor.min() * 1e4) / 1e4) if len(minor) else 0.0


def _kept_count(window: np.ndarray, min_maf: float) -> int:
    frequency = window.mean(axis=0)
    minor = np.minimum(frequency, 1 - frequency)
    return int(((minor > 0) & (minor >= min_maf)).sum())
