"""The CNN method of selection-scan (ImaGene): sliding windows of the target's haplotypes as images, scored by a
network trained on msprime simulations matched to the data (or read from a file), as posterior summaries of S.

Example
-------
>>> options = CnnScanOptions(window_sites=200, simulation=SweepSettings(simulations=500), threads=2)
>>> scan = cnn_scan({"real": ceu}, chromosomes=chrom, positions=pos, options=options)  # doctest: +SKIP
>>> scan.posteriors["real"]["p_selection"].max()  # doctest: +SKIP
0.97...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.errors import OptionError
from genosynth._infra.options import parse_int
from genosynth._infra.progress import Progress
from genosynth._infra.provenance import make_record
from genosynth.downstream.selection.imagene import haplotype_image, kept_sites, posterior_summary
from genosynth.downstream.selection.network import (
    CnnConfig,
    SelectionNetwork,
    load_selection_network,
    train_selection_network,
)
from genosynth.downstream.selection.sweeps import SweepSettings, check_training_images, load_or_simulate


@dataclass(frozen=True)
class CnnScanOptions:
    """Options of the CNN scan (the ``--cnn-*`` and simulation options of selection-scan).

    Windows are ``window_sites`` consecutive sites moved by ``step`` (half a window when None). The network is
    read from ``model`` when given; otherwise it is trained (``epochs`` at most, targets smoothed by
    ``label_sd`` bins, on ``device``) on windows simulated as ``simulation`` says, on as many haplotypes as the
    target has and as many bp as a median window spans, with ``seed``, in ``threads`` processes, read from or
    cached in ``training_data``.

    Example
    -------
    >>> CnnScanOptions(window_sites=100, simulation=SweepSettings(s_grid=(0, 400), simulations=50)).window_step
    50
    """

    window_sites: int = 200
    step: int | None = None
    simulation: SweepSettings = SweepSettings()
    epochs: int = 20
    label_sd: float = 0.0
    training_data: Path | None = None
    model: Path | None = None
    threads: int = 1
    seed: int = 1
    device: str = "auto"

    def __post_init__(self) -> None:
        parse_int("cnn_window_sites", self.window_sites, minimum=10)
        if self.step is not None:
            parse_int("cnn_step", self.step, minimum=1)
        parse_int("threads", self.threads, minimum=1)
        parse_int("seed", self.seed, minimum=0)
        CnnConfig(max_epochs=self.epochs, label_sd=self.label_sd)  # checks both

    @property
    def window_step(self) -> int:
        return self.step if self.step is not None else max(1, self.window_sites // 2)

    def parameters(self) -> dict[str, Any]:
        """The options as provenance records them."""
        simulation = {
            key: value
            for key, value in self.simulation.to_dict().items()
            if key not in ("haplotypes", "length", "seed")
        }
        return {f"cnn_{key}": value for key, value in {**asdict(self), **simulation}.items() if key != "simulation"}


@dataclass
class CnnScan:
    """Windows (arrays (n_windows,): ``chromosomes``, ``starts``/``ends`` positions of the first and last site,
    ``sites`` polymorphic in the real target at ``min_maf``), per set (``"real"``, ``"synthetic"``) the
    posterior summaries of :func:`~genosynth.downstream.selection.imagene.posterior_summary`, the network and how it was trained."""

    chromosomes: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    sites: np.ndarray
    posteriors: dict[str, dict[str, np.ndarray]]
    network: SelectionNetwork
    training: dict[str, Any] = field(default_factory=dict)

    def columns(self) -> dict[str, np.ndarray]:
        """cnn.tsv's columns."""
        columns: dict[str, np.ndarray] = {"CHROM": self.chromosomes, "START": self.starts, "END": self.ends}
        for role, suffix in (("real", ""), ("synthetic", "_SYNTHETIC")):
            if role in self.posteriors:
                summary = self.posteriors[role]
                columns |= {f"{name}{suffix}": summary[key] for name, key in _COLUMNS}
        return columns


_COLUMNS = (
    ("P_SELECTION", "p_selection"),
    ("S_MEAN", "s_mean"),
    ("S_MAP", "s_map"),
    ("S_HPD_LOW", "hpd_low"),
    ("S_HPD_HIGH", "hpd_high"),
    ("BAYES_FACTOR", "bayes_factor"),
)


def scan_windows(runs: list[tuple[str, np.ndarray]], *, window_sites: int, step: int) -> list[np.ndarray]:
    """Site indices of every window: ``window_sites`` consecutive sites of one chromosome, moved by ``step``.

    Example
    -------
    >>> [w.tolist() for w in scan_windows([("1", np.arange(5))], window_sites=3, step=2)]
    [[0, 1, 2], [2, 3, 4]]
    """
    windows = []
    for _, index in runs:
        for start in range(0, len(index) - window_sites + 1, step):
            windows.append(index[start : start + window_sites])
    return windows


@dataclass
class CnnPlan:
    """What a CNN scan will do, settled (and checked) before any work: the windows, and either the network read
    from a file or the simulation settings of the one to train."""

    windows: list[np.ndarray]
    spans: np.ndarray
    network: SelectionNetwork | None
    settings: SweepSettings | None


def plan_cnn_scan(
    real: np.ndarray,
    *,
    positions: np.ndarray,
    runs: list[tuple[str, np.ndarray]],
    options: CnnScanOptions,
    name: str = "haplotypes",
) -> CnnPlan:
    """Check ``options`` against the data (window length, the network file, a cached simulation's settings) and
    settle the windows and the training simulations; every problem is a one-line error before work starts."""
    longest = max(len(index) for _, index in runs)
    if options.window_sites > longest:
        raise OptionError(
            "cnn_window_sites",
            f"{options.window_sites}: longer than the data ({name} has at most {longest} sites on a chromosome)",
        )
    windows = scan_windows(runs, window_sites=options.window_sites, step=options.window_step)
    spans = np.array([positions[w[-1]] - positions[w[0]] + 1 for w in windows])
    if options.model is not None:
        return CnnPlan(windows, spans, load_selection_network(options.model, device=options.device), None)
    settings = replace(options.simulation, haplotypes=len(real), length=int(np.median(spans)), seed=options.seed)
    if options.training_data is not None and Path(options.training_data).exists():
        check_training_images(options.training_data, settings)
    return CnnPlan(windows, spans, None, settings)


def cnn_scan(
    sets: dict[str, np.ndarray],
    *,
    chromosomes: np.ndarray,
    positions: np.ndarray,
    plan: CnnPlan,
    options: CnnScanOptions,
    say: Callable[[str], None] = lambda message: None,
    progress: bool = True,
) -> CnnScan:
    """Score every window of each set's haplotypes (``sets["real"]`` the real target's) with the CNN of ``plan``
    (trained first when it comes from simulations)."""
    windows, real = plan.windows, sets["real"]
    training: dict[str, Any]
    if plan.network is not None:
        network = plan.network
        training = {"model": Path(options.model).name, "simulation": network.simulation}
        say(
            f"CNN read from {Path(options.model).name}: S classes {_grid(network.classes)}, "
            f"{network.image_size}-pixel images"
        )
    else:
        settings = plan.settings
        say(
            f"training data: {settings.simulations} simulations per S class ({_grid(np.array(settings.s_grid))}) of "
            f"{settings.haplotypes} haplotypes over {settings.length} bp"
            + (f", cached in {Path(options.training_data).name}" if options.training_data else "")
        )
        data = load_or_simulate(options.training_data, settings, threads=options.threads, progress=progress)
        say(
            ("reused" if data.reused else "simulated") + f" {len(data.labels)} windows "
            f"({data.simulations_per_second:.1f} simulations per second when simulated); recent size "
            f"{data.history.recent_size:.0f} for {data.history.recent_until:.0f} generations"
        )
        config = CnnConfig(max_epochs=options.epochs, label_sd=options.label_sd)
        network = train_selection_network(
            data.images,
            data.labels,
            np.array(settings.s_grid),
            config=config,
            seed=options.seed,
            device=options.device,
            simulation=settings.to_dict(),
            progress=progress,
        )
        evaluation = network.evaluation
        network.provenance = [
            make_record(
                "selection-scan",
                parameters={**settings.to_dict(), **config.to_dict()},
                seed=options.seed,
                inputs=[],
                summary=evaluation,
            )
        ]
        say(
            f"CNN kept epoch {evaluation['kept_epoch']}: validation accuracy {evaluation['validation_accuracy']:.3f}"
            + (f", test accuracy {evaluation['test_accuracy']:.3f}" if "test_accuracy" in evaluation else "")
        )
        training = {
            "simulations": int(len(data.labels)),
            "reused": data.reused,
            "simulation_seconds": data.seconds,
            "simulations_per_second": data.simulations_per_second,
            "simulated_sites_per_window_median": float(np.median(data.sites)),
            "recent_size": data.history.recent_size,
            "recent_generations": data.history.recent_until,
            "simulation": settings.to_dict(),
        }
    min_maf = float(network.simulation.get("min_maf", options.simulation.min_maf))
    sets = {
        role: _as_trained(role, haplotypes, network.simulation.get("haplotypes"), options.seed, say)
        for role, haplotypes in sets.items()
    }
    posteriors = {}
    for role, haplotypes in sets.items():
        meter = Progress("selection-scan", unit=f"{role} windows", total=len(windows), enabled=progress)
        images = np.empty((len(windows), network.image_size, network.image_size), dtype=np.uint8)
        for i, window in enumerate(windows):
            images[i] = haplotype_image(haplotypes[:, window], size=network.image_size, min_maf=min_maf)
            meter.update(1)
        meter.close()
        posteriors[role] = posterior_summary(network.probabilities(images), network.classes)
    sites = np.array([kept_sites(real[:, w], min_maf=min_maf).sum() for w in windows], dtype=np.int64)
    training |= {
        "classes": network.classes.tolist(),
        "image_size": network.image_size,
        "haplotypes_scanned": {role: int(len(haplotypes)) for role, haplotypes in sets.items()},
        "evaluation": network.evaluation,
        "real_sites_per_window_median": float(np.median(sites)),
        "window_span_median_bp": float(np.median(plan.spans)),
    }
    index_first = np.array([w[0] for w in windows])
    index_last = np.array([w[-1] for w in windows])
    return CnnScan(
        chromosomes=np.array([str(chromosomes[i]) for i in index_first]),
        starts=positions[index_first],
        ends=positions[index_last],
        sites=sites,
        posteriors=posteriors,
        network=network,
        training=training,
    )


def _as_trained(
    role: str, haplotypes: np.ndarray, trained: int | None, seed: int, say: Callable[[str], None]
) -> np.ndarray:
    """A set with more haplotypes than the network's training windows, subsampled to that many (without
    replacement, seeded): images of other sample sizes are stretched differently and score unlike the simulations."""
    if trained is None or len(haplotypes) == trained:
        return haplotypes
    if len(haplotypes) > trained:
        rows = np.sort(np.random.default_rng(seed).choice(len(haplotypes), trained, replace=False))
        say(f"{role} set: {len(haplotypes)} haplotypes, subsampled to the {trained} the CNN was trained on")
        return haplotypes[rows]
    say(
        f"{role} set: {len(haplotypes)} haplotypes, fewer than the {trained} the CNN was trained on: its images "
        "are stretched and its scores less reliable (sample at least as many)"
    )
    return haplotypes


def _grid(classes: np.ndarray) -> str:
    return ",".join(f"{value:g}" for value in classes)
