"""Simulations of each candidate scenario matched to the data, turned into features, and cached on disk.

Every simulation is one window of the data's length: as many haplotypes of each population as the data have
(sampled at time 0 from the scenario's population each data label maps to), msprime's ancestry with the
recombination rate, infinite-sites binary mutations with the mutation rate (both given, else the scenario's
stdpopsim rates, else 1.25e-8 and 1e-8), the data's MAF filter; then the images and statistics of
:mod:`~genosynth.downstream.demography.features`. The features of a scenario are written to a cache folder as a
safetensors file named by a hash of everything they depend on (the scenario's content, the settings, the format),
and a later run with the same settings reads them instead of simulating again.

Example
-------
>>> settings = SimulationSettings(samples=(("YRI", 20), ("CEU", 20)), length=50_000, min_maf=0.05,
...                               simulations=50)  # doctest: +SKIP
>>> features = simulate_scenario(parse_scenario("HomSap/OutOfAfrica_3G09"), settings, cache="sims")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.atomic import atomic_outputs
from genosynth._infra.errors import InputError, OptionError, first_line
from genosynth._infra.options import parse_float, parse_int
from genosynth._infra.progress import Progress
from genosynth._infra.version import __version__
from genosynth.downstream.demography.features import (
    FeatureSettings,
    image_channels,
    statistics_size,
    window_features,
)
from genosynth.downstream.demography.scenarios import (
    DEFAULT_MUTATION_RATE,
    DEFAULT_RECOMBINATION_RATE,
    Scenario,
)

FORMAT_NAME = "genosynth-demography-simulations"
FORMAT_VERSION = 3


@dataclass(frozen=True)
class SimulationSettings:
    """What every scenario's simulations share: ``samples`` (data label, haplotypes) in data order, the window
    ``length`` in bp, ``min_maf``, ``simulations`` per scenario, the rates (None: the scenario's), the
    ``features`` and the ``seed``."""

    samples: tuple[tuple[str, int], ...]
    length: int
    min_maf: float
    simulations: int = 200
    mutation_rate: float | None = None
    recombination_rate: float | None = None
    features: FeatureSettings = field(default_factory=FeatureSettings)
    seed: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "samples", tuple((str(label), int(n)) for label, n in self.samples))
        if not self.samples:
            raise OptionError("populations", "none to simulate")
        for label, n in self.samples:
            parse_int(f"haplotypes of {label}", n, minimum=2)
        parse_int("window_length", self.length, minimum=100)
        parse_float("min_maf", self.min_maf, minimum=0, below=0.5)
        parse_int("simulations", self.simulations, minimum=5)
        if self.mutation_rate is not None:
            parse_float("mutation_rate", self.mutation_rate, exclusive_minimum=0, below=1e-3)
        if self.recombination_rate is not None:
            parse_float("recombination_rate", self.recombination_rate, minimum=0, below=1e-3)
        parse_int("seed", self.seed, minimum=0)

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.samples]

    def groups(self) -> list[np.ndarray]:
        """The rows of each population in a simulated window (populations one after another, in data order)."""
        starts = np.cumsum([0] + [n for _, n in self.samples])
        return [np.arange(a, b) for a, b in zip(starts[:-1], starts[1:])]

    def rates(self, scenario: Scenario) -> tuple[float, float]:
        """(mutation, recombination) rate of ``scenario``'s simulations."""
        mutation = self.mutation_rate or scenario.mutation_rate or DEFAULT_MUTATION_RATE
        recombination = self.recombination_rate
        if recombination is None:
            recombination = scenario.recombination_rate or DEFAULT_RECOMBINATION_RATE
        return float(mutation), float(recombination)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["samples"] = [list(pair) for pair in self.samples]
        return data


@dataclass
class ScenarioFeatures:
    """One scenario's simulated windows: ``images`` uint8 (n, channels, size, size), ``statistics`` (n, d),
    kept ``sites`` per window, the seconds simulating took and whether they were read from the cache."""

    images: np.ndarray
    statistics: np.ndarray
    sites: np.ndarray
    seconds: float
    reused: bool = False


def cache_path(folder: str | Path, scenario: Scenario, settings: SimulationSettings) -> Path:
    """The cache file of ``scenario``'s simulations under ``settings`` in ``folder``."""
    key = json.dumps(
        {
            "format": [FORMAT_NAME, FORMAT_VERSION],
            "scenario": [scenario.fingerprint, list(scenario.renames)],
            "rates": settings.rates(scenario),
            "settings": settings.to_dict(),
        },
        sort_keys=True,
    )
    return Path(folder) / f"{scenario.name}-{hashlib.sha256(key.encode()).hexdigest()[:20]}.safetensors"


def simulate_scenario(
    scenario: Scenario,
    settings: SimulationSettings,
    *,
    cache: str | Path | None = None,
    threads: int = 1,
    progress: bool = True,
) -> ScenarioFeatures:
    """The features of ``settings.simulations`` windows simulated under ``scenario`` (read from ``cache`` when it
    holds them, else simulated, in ``threads`` processes, and written there). Deterministic in the seed and the
    scenario, whatever ``threads``."""
    path = cache_path(cache, scenario, settings) if cache is not None else None
    if path is not None and path.exists():
        return read_features(path, settings)
    tasks = [(scenario, settings, replicate) for replicate in range(settings.simulations)]
    start = time.monotonic()
    meter = Progress("infer-demography", unit=f"{scenario.name} simulations", total=len(tasks), enabled=progress)
    results = []
    try:
        if threads <= 1:
            for task in tasks:
                results.append(_simulate_one(task))
                meter.update(1)
        else:
            chunk = max(1, min(20, len(tasks) // (threads * 8)))
            with ProcessPoolExecutor(max_workers=threads, mp_context=get_context("fork")) as pool:
                for result in pool.map(_simulate_one, tasks, chunksize=chunk):
                    results.append(result)
                    meter.update(1)
    except Exception as err:  # msprime refusing a scenario's demography (e.g. sampling an ancient population)
        if isinstance(err, InputError):
            raise
        raise InputError(f"scenario {scenario.spec}: msprime cannot simulate it ({first_line(err)[:200]})") from None
    finally:
        meter.close()
    features = ScenarioFeatures(
        images=np.stack([image for image, _, _ in results]),
        statistics=np.stack([stats for _, stats, _ in results]),
        sites=np.array([sites for _, _, sites in results], dtype=np.int64),
        seconds=time.monotonic() - start,
    )
    if path is not None:
        write_features(path, features, settings)
    return features


def _simulate_one(task: tuple[Scenario, SimulationSettings, int]) -> tuple[np.ndarray, np.ndarray, int]:
    """One window's features (runs in a worker process)."""
    import msprime

    scenario, settings, replicate = task
    scenario_seed = int(hashlib.sha256(scenario.fingerprint.encode()).hexdigest()[:8], 16)
    seeds = np.random.SeedSequence([settings.seed, scenario_seed, replicate]).generate_state(2) % (2**31 - 2) + 1
    mutation_rate, recombination_rate = settings.rates(scenario)
    samples = [
        msprime.SampleSet(n, population=scenario.population_of(label), ploidy=1, time=0)
        for label, n in settings.samples
    ]
    ts = msprime.sim_ancestry(
        samples=samples,
        demography=scenario.demography,
        sequence_length=settings.length,
        recombination_rate=recombination_rate,
        random_seed=int(seeds[0]),
    )
    ts = msprime.sim_mutations(
        ts, rate=mutation_rate, model=msprime.BinaryMutationModel(), discrete_genome=False, random_seed=int(seeds[1])
    )
    n = sum(count for _, count in settings.samples)
    haplotypes = ts.genotype_matrix().T.astype(np.uint8) if ts.num_sites else np.zeros((n, 0), np.uint8)
    positions = ts.tables.sites.position
    return window_features(
        haplotypes,
        positions,
        settings.groups(),
        length=settings.length,
        min_maf=settings.min_maf,
        settings=settings.features,
    )


def write_features(path: Path, features: ScenarioFeatures, settings: SimulationSettings) -> None:
    """Write ``features`` atomically as safetensors (uint8 images), with the settings as JSON metadata."""
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "software": f"genosynth {__version__}",
        "settings": json.dumps(settings.to_dict(), sort_keys=True),
        "seconds": repr(features.seconds),
    }
    tensors = {
        "images": features.images.astype(np.uint8),
        "statistics": features.statistics.astype(np.float64),
        "sites": features.sites.astype(np.int64),
    }
    with atomic_outputs(path) as (temp,):
        save_file(tensors, str(temp), metadata=metadata)


def read_features(path: Path, settings: SimulationSettings) -> ScenarioFeatures:
    """Read a cache file written by :func:`write_features` for ``settings``; anything else is a one-line error."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
            tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    except Exception as err:  # not safetensors, or truncated
        raise InputError(f"{path}: not a readable genosynth simulation cache ({first_line(err)[:200]})") from None
    if metadata.get("format") != FORMAT_NAME or metadata.get("format_version") != str(FORMAT_VERSION):
        raise InputError(f"{path}: not a genosynth demography simulation cache (remove it)")
    size = settings.features.image_size
    shape = (settings.simulations, image_channels(len(settings.samples)), size, size)
    try:
        if json.loads(metadata["settings"]) != json.loads(json.dumps(settings.to_dict(), sort_keys=True)):
            raise ValueError("made with other settings")
        images = tensors["images"]
        statistics = tensors["statistics"]
        if images.shape != shape or statistics.shape != (
            shape[0],
            statistics_size(len(settings.samples), settings.features),
        ):
            raise ValueError(f"images {images.shape}, statistics {statistics.shape}")
        return ScenarioFeatures(images, statistics, tensors["sites"], float(metadata["seconds"]), reused=True)
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f"{path}: damaged genosynth simulation cache ({first_line(err)[:200]}; remove it)") from None
