"""Training data of the selection CNN: windows simulated with msprime, neutral or with a hard sweep at the centre,
turned into ImaGene images, in parallel, and cached in a pickle-free file that later runs reuse.

Each S = 2Ns class of the grid gets the same number of simulations. The population is either of constant size
(``ne``) or follows a stdpopsim demographic model as seen from one of its populations: its inverse instantaneous
coalescence rate (IICR, the effective size a pair of its lineages experiences, migration and splits included),
as a single population whose size changes over time. msprime runs a sweep only while the population size is
constant, so the recent past, from the present to the latest sweep end time plus the duration of the weakest
sweep with a margin, gets the harmonic mean of the IICR over that span; every class, the neutral one included,
is simulated under this same history, so the classes differ by selection alone. ``s = S / 2N`` with N that
recent size.

Example
-------
>>> settings = SweepSettings(s_grid=(0.0, 400.0), simulations=4, haplotypes=40, length=50_000, image_size=64)  # doctest: +SKIP
>>> data = simulate_training_images(settings, threads=1, progress=False)  # doctest: +SKIP
>>> data.images.shape  # doctest: +SKIP
(8, 64, 64)
"""

from __future__ import annotations

import json
import math
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, fields
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.atomic import atomic_outputs
from genosynth._infra.errors import InputError, OptionError, first_line
from genosynth._infra.options import parse_float, parse_int
from genosynth._infra.progress import Progress
from genosynth._infra.version import __version__
from genosynth.downstream.selection.imagene import MIN_IMAGE_SIZE, parse_s_grid, resize_image, sort_window

FORMAT_NAME = "genosynth-sweep-images"
FORMAT_VERSION = 1
_RETRIES = 20  # a sweep that outlasts the constant-size span is drawn again with the next seed


@dataclass(frozen=True)
class SweepSettings:
    """What the training windows are simulated under; every field is stored with the images and checked on reuse.

    ``s_grid`` are the S = 2Ns classes (0 first), ``simulations`` per class, ``haplotypes`` per window and
    ``length`` in bp with the selected site at the centre (a scan sets both from its data when they are None),
    ``sweep_end_times`` (generations ago) drawn uniformly per simulation, ``demography`` a stdpopsim
    ``Species/Model`` id seen from ``demography_population`` (else constant ``ne``); rates per bp per
    generation, ``None`` taking the model's mutation rate (else 1.25e-8).

    Examples
    --------
    >>> settings = SweepSettings(s_grid=(0, 200), simulations=50)
    >>> settings.s_grid, settings.image_size
    ((0.0, 200.0), 128)
    >>> SweepSettings(s_grid=(100, 200))
    Traceback (most recent call last):
    genosynth.OptionError: s_grid 100,200: needs 0 (neutral) and at least one S > 0
    """

    s_grid: tuple[float, ...] = (0.0, 100.0, 200.0, 300.0, 400.0)
    simulations: int = 1000
    haplotypes: int | None = None
    length: int | None = None
    image_size: int = 128
    min_maf: float = 0.01
    ne: float = 10_000.0
    demography: str | None = None
    demography_population: str | None = None
    sweep_end_times: tuple[float, ...] = (0.0,)
    mutation_rate: float | None = None
    recombination_rate: float = 1e-8
    seed: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "s_grid", tuple(parse_s_grid(list(self.s_grid)).tolist()))
        parse_int("simulations", self.simulations, minimum=2)
        if self.haplotypes is not None:
            parse_int("haplotypes", self.haplotypes, minimum=4)
        if self.length is not None:
            parse_int("length", self.length, minimum=100)
        parse_int("image_size", self.image_size, minimum=MIN_IMAGE_SIZE, maximum=1024)
        parse_float("min_maf", self.min_maf, minimum=0, below=0.5)
        parse_float("ne", self.ne, minimum=100)
        parse_float("recombination_rate", self.recombination_rate, minimum=0, below=1e-3)
        if self.mutation_rate is not None:
            parse_float("mutation_rate", self.mutation_rate, exclusive_minimum=0, below=1e-3)
        parse_int("seed", self.seed, minimum=0)
        object.__setattr__(self, "sweep_end_times", tuple(float(t) for t in self.sweep_end_times))
        if not self.sweep_end_times or any(not math.isfinite(t) or t < 0 for t in self.sweep_end_times):
            raise OptionError(
                "sweep_end_times",
                f"{','.join(f'{t:g}' for t in self.sweep_end_times) or '(none)'}: "
                "give one or more times >= 0, in generations ago",
            )
        if self.demography is not None:
            check_demography(self.demography, self.demography_population)
        elif self.demography_population is not None:
            raise OptionError("demography_population", "needs a demographic model (--demography Species/Model)")

    def to_dict(self) -> dict[str, Any]:
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepSettings:
        names = {f.name for f in fields(cls)}
        return cls(
            **{key: tuple(value) if isinstance(value, list) else value for key, value in data.items() if key in names}
        )


@dataclass(frozen=True)
class SizeHistory:
    """A single population's size: ``recent_size`` from the present to ``recent_until`` (generations), then
    ``sizes[i]`` from ``times[i]`` on; ``mutation_rate`` of the model it comes from."""

    recent_size: float
    recent_until: float
    times: tuple[float, ...]
    sizes: tuple[float, ...]
    mutation_rate: float


@dataclass
class TrainingImages:
    """Simulated windows as images: ``images`` uint8 (n, size, size) of 0/1, ``labels`` class indices into
    ``settings.s_grid``, ``sites`` the segregating sites kept per window, and how long simulating took."""

    images: np.ndarray
    labels: np.ndarray
    sites: np.ndarray
    settings: SweepSettings
    history: SizeHistory
    seconds: float
    reused: bool = False

    @property
    def simulations_per_second(self) -> float:
        return len(self.labels) / self.seconds if self.seconds > 0 else float("nan")


def size_history(settings: SweepSettings) -> SizeHistory:
    """The population size history the simulations follow (see the module's description)."""
    weakest = min(s for s in settings.s_grid if s > 0)

    def recent_span(size: float) -> float:
        sweep = 4 * size * math.log(2 * size) / weakest  # deterministic duration of the weakest sweep
        return max(settings.sweep_end_times) + 2.0 * sweep

    if settings.demography is None:
        return SizeHistory(settings.ne, recent_span(settings.ne), (), (), settings.mutation_rate or 1.25e-8)
    model = _stdpopsim_model(settings.demography)
    debug = model.model.debug()
    grid = np.unique(np.concatenate([[0.0], np.geomspace(1, 1e6, 400)]))
    with warnings.catch_warnings():  # msprime suggests finer steps; 400 log-spaced steps are plenty here
        warnings.simplefilter("ignore")
        rates, _ = debug.coalescence_rate_trajectory(grid, {settings.demography_population: 2})
    iicr = 1.0 / (2.0 * np.maximum(rates, 1e-300))
    size = float(iicr[0])
    for _ in range(5):  # the recent span depends on the recent size, and the size on the span
        until = recent_span(size)
        inside = grid <= until
        # harmonic mean of the size over [0, until]: mean coalescence rate, trapezoids on the grid
        points = np.r_[grid[inside], until]
        values = np.r_[1.0 / iicr[inside], 1.0 / np.interp(until, grid, iicr)]
        size = float((points[-1] - points[0]) / np.trapezoid(values, points))
    until = recent_span(size)
    later = grid > until
    return SizeHistory(
        size,
        until,
        tuple(grid[later].tolist()),
        tuple(iicr[later].tolist()),
        settings.mutation_rate or float(model.mutation_rate),
    )


def simulate_training_images(settings: SweepSettings, *, threads: int = 1, progress: bool = True) -> TrainingImages:
    """Simulate ``settings.simulations`` windows per S class and make their images (deterministic in the seed,
    whatever ``threads``)."""
    if settings.haplotypes is None or settings.length is None:
        raise ValueError("the haplotypes and length of the simulated windows must be set")
    history = size_history(settings)
    tasks = [
        (settings, history, label, replicate)
        for label in range(len(settings.s_grid))
        for replicate in range(settings.simulations)
    ]
    start = time.monotonic()
    meter = Progress("selection-scan", unit="simulations", total=len(tasks), enabled=progress)
    results = []
    if threads <= 1:
        for task in tasks:
            results.append(_simulate_one(task))
            meter.update(1)
    else:
        chunk = max(1, min(50, len(tasks) // (threads * 8)))
        with ProcessPoolExecutor(max_workers=threads, mp_context=get_context("fork")) as pool:
            for result in pool.map(_simulate_one, tasks, chunksize=chunk):
                results.append(result)
                meter.update(1)
    meter.close()
    images = (
        np.stack([image for image, _ in results])
        if results
        else np.zeros((0, settings.image_size, settings.image_size), np.uint8)
    )
    return TrainingImages(
        images=images,
        labels=np.array([task[2] for task in tasks], dtype=np.int64),
        sites=np.array([sites for _, sites in results], dtype=np.int64),
        settings=settings,
        history=history,
        seconds=time.monotonic() - start,
    )


def load_or_simulate(
    path: str | Path | None, settings: SweepSettings, *, threads: int = 1, progress: bool = True
) -> TrainingImages:
    """The training images cached at ``path`` when they were simulated with ``settings``; otherwise simulate them
    and, with a ``path``, write them there. A cache made with other settings is a one-line error (see
    :func:`check_training_images`)."""
    if path is not None and Path(path).exists():
        check_training_images(path, settings)
        return read_training_images(path)
    data = simulate_training_images(settings, threads=threads, progress=progress)
    if path is not None:
        write_training_images(path, data)
    return data


def check_training_images(path: str | Path, settings: SweepSettings) -> None:
    """InputError naming the first setting in which the training data at ``path`` differs from ``settings``."""
    mine, theirs = settings.to_dict(), _read_metadata(path)[0].to_dict()
    for key in mine:
        if mine[key] != theirs.get(key):
            raise InputError(
                f"{path}: training data simulated with {key}={_show(theirs.get(key))}, this scan "
                f"needs {key}={_show(mine[key])}; name another --training-data file or remove it"
            )


def write_training_images(path: str | Path, data: TrainingImages) -> None:
    """Write ``data`` atomically as safetensors: bit-packed images, labels and site counts, settings as JSON."""
    from safetensors.numpy import save_file

    metadata = {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "software": f"genosynth {__version__}",
        "settings": json.dumps(data.settings.to_dict()),
        "history": json.dumps(asdict(data.history)),
        "seconds": repr(data.seconds),
    }
    tensors = {
        "images": np.packbits(data.images, axis=-1),
        "labels": data.labels.astype(np.int64),
        "sites": data.sites.astype(np.int64),
    }
    with atomic_outputs(path) as (temp,):
        save_file(tensors, str(temp), metadata=metadata)


def read_training_images(path: str | Path) -> TrainingImages:
    """Read a file written by :func:`write_training_images`; anything else is a one-line InputError."""
    from safetensors import safe_open

    settings, metadata = _read_metadata(path)
    try:
        with safe_open(str(path), framework="numpy") as handle:
            tensors = {name: handle.get_tensor(name) for name in handle.keys()}
        history = json.loads(metadata["history"])
        images = np.unpackbits(tensors["images"], axis=-1, count=settings.image_size)
        return TrainingImages(
            images=images,
            labels=tensors["labels"],
            sites=tensors["sites"],
            settings=settings,
            history=SizeHistory(**{k: tuple(v) if isinstance(v, list) else v for k, v in history.items()}),
            seconds=float(metadata["seconds"]),
            reused=True,
        )
    except Exception as err:  # safetensors' own errors (truncated data) and missing fields as one line
        raise InputError(f"{path}: damaged genosynth training data file ({first_line(err)[:200]})") from None


def _read_metadata(path: str | Path) -> tuple[SweepSettings, dict[str, str]]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
    except Exception as err:  # not safetensors at all
        raise InputError(f"{path}: not a readable genosynth training data file ({first_line(err)[:200]})") from None
    if metadata.get("format") != FORMAT_NAME or metadata.get("format_version") != str(FORMAT_VERSION):
        raise InputError(
            f"{path}: not a genosynth training data file (format {metadata.get('format')!r} "
            f"version {metadata.get('format_version')!r}, expected {FORMAT_NAME!r} {FORMAT_VERSION})"
        )
    try:
        return SweepSettings.from_dict(json.loads(metadata["settings"])), metadata
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f"{path}: damaged genosynth training data file ({type(err).__name__}: {err})") from None


def _simulate_one(task: tuple[SweepSettings, SizeHistory, int, int]) -> tuple[np.ndarray, int]:
    """One window's image and its number of kept sites (runs in a worker process)."""
    import msprime
    from msprime import _msprime  # its LibraryError: a sweep met a size change

    settings, history, label, replicate = task
    strength = settings.s_grid[label]
    sequence = np.random.SeedSequence([settings.seed, label, replicate])
    rng = np.random.default_rng(sequence)
    end_time = float(rng.choice(settings.sweep_end_times))
    demography = msprime.Demography()
    demography.add_population(name="target", initial_size=history.recent_size)
    for time_ago, size in zip(history.times, history.sizes):
        demography.add_population_parameters_change(time=time_ago, initial_size=size, population="target")
    for attempt in range(_RETRIES):
        seeds = sequence.spawn(1)[0].generate_state(2) % (2**31 - 2) + 1
        model = None
        if strength > 0:
            size = history.recent_size
            sweep = msprime.SweepGenicSelection(
                position=settings.length // 2,
                start_frequency=1 / (2 * size),
                end_frequency=1 - 1 / (2 * size),
                s=strength / (2 * size),
                dt=1e-6,
            )
            model = ([msprime.StandardCoalescent(duration=end_time)] if end_time > 0 else []) + [
                sweep,
                msprime.StandardCoalescent(),
            ]
        try:
            ts = msprime.sim_ancestry(
                samples=[msprime.SampleSet(settings.haplotypes, population="target", ploidy=1)],
                demography=demography,
                sequence_length=settings.length,
                recombination_rate=settings.recombination_rate,
                model=model,
                random_seed=int(seeds[0]),
            )
            break
        except (_msprime.LibraryError, RuntimeError):  # the sweep outlasted the constant-size span
            if attempt == _RETRIES - 1:
                raise
    ts = msprime.sim_mutations(
        ts,
        rate=history.mutation_rate,
        model=msprime.BinaryMutationModel(),
        discrete_genome=False,
        random_seed=int(seeds[1]),
    )
    haplotypes = (
        ts.genotype_matrix().T.astype(np.uint8) if ts.num_sites else np.zeros((settings.haplotypes, 0), np.uint8)
    )
    kept = sort_window(haplotypes, min_maf=settings.min_maf)  # as haplotype_image makes it, its columns counted
    return resize_image(kept, size=settings.image_size), kept.shape[1]


def check_demography(identifier: str, population: str | None) -> None:
    """OptionError unless ``identifier`` is a stdpopsim model with a population named ``population``."""
    model = _stdpopsim_model(identifier)
    names = [p.name for p in model.model.populations]
    if population is None:
        raise OptionError(
            "demography_population",
            "is needed with a demographic model (the population whose history the simulations follow)",
        )
    if population not in names:
        raise OptionError(
            "demography_population", f"{population!r} is not a population of {identifier} ({', '.join(names)})"
        )


def _stdpopsim_model(identifier: str) -> Any:
    import stdpopsim

    species_id, _, model_id = identifier.partition("/")
    try:
        species = stdpopsim.get_species(species_id)
        return species.get_demographic_model(model_id)
    except (ValueError, KeyError) as err:
        raise OptionError(
            "demography",
            f"{identifier!r}: not a stdpopsim Species/Model id such as "
            f"HomSap/OutOfAfrica_3G09 ({str(err).strip()[:120]})",
        ) from None


def _show(value: Any) -> str:
    return ",".join(f"{v:g}" for v in value) if isinstance(value, list) else str(value)
