"""The training loop shared by every generator kind: epochs and a wall-clock budget, atomic checkpoints and
bit-for-bit resume, monitoring on a validation subset (AATS, allele-frequency correlation, fixed sites),
early stopping at the AATS closest to 0.5, and progress.

All training randomness comes from one torch generator whose state is checkpointed; monitoring draws from
its own generator seeded by (seed, epoch), so monitoring and checkpoints never change what is trained.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import fidelity
from .devices import DEVICE_CHOICES, resolve_device
from .errors import InputError, TrainingDiverged
from .formats.model_file import ModelFile, load_model_file, save_model_file
from .matrix import HaplotypeMatrix
from .model import Model
from .models.base import Generator
from .options import parse_choice, parse_duration, parse_float, parse_int
from .privacy import adversarial_accuracy
from .progress import Progress, log
from .provenance import make_record

EARLY_STOP_CHOICES = ("none", "aats")
CONDITIONS = ("population",)


@dataclass(frozen=True)
class TrainingOptions:
    """How long and how to train, whatever the model kind.

    Parameters
    ----------
    epochs
        Epochs to train in total (counting a resumed run's).
    max_time
        Wall-clock budget (``"20m"``, ``"1h30m"`` or seconds): training stops cleanly after the epoch that
        reaches it.
    seed
        Seed of initialisation, batches and noise.
    device
        ``"auto"`` (a CUDA GPU when present), ``"cpu"`` or ``"cuda"``.
    checkpoint
        File of the training state, written every ``checkpoint_every`` epochs and at the end (None: none).
    resume
        Continue from ``checkpoint``; with the same options on CPU a resumed run ends bit for bit where an
        uninterrupted one ends.
    monitor_every, validation_size
        Every ``monitor_every`` epochs (and at the end) ``validation_size`` training haplotypes are compared with
        as many generated ones.
    early_stop, early_stop_tolerance
        ``"aats"``: the model kept is the monitored state whose AATS is closest to 0.5, the latest of those
        within ``early_stop_tolerance`` of the closest; ``"none"``: the last state.
    progress
        Report progress on standard error.
    """

    epochs: int
    max_time: str | float | None = None
    seed: int = 1
    device: str = "auto"
    checkpoint: Path | None = None
    checkpoint_every: int = 50
    resume: bool = False
    monitor_every: int = 50
    validation_size: int = 1000
    early_stop: str = "none"
    early_stop_tolerance: float = 0.01
    progress: bool = True
    budget_seconds: float | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("epochs", "checkpoint_every", "monitor_every", "validation_size"):
            parse_int(name, getattr(self, name), minimum=1)
        parse_float("early_stop_tolerance", self.early_stop_tolerance, minimum=0, below=0.5)
        parse_choice("early_stop", self.early_stop, EARLY_STOP_CHOICES)
        parse_choice("device", self.device, DEVICE_CHOICES)
        if self.resume and self.checkpoint is None:
            raise InputError("resume needs the checkpoint to continue from")
        object.__setattr__(self, "budget_seconds", parse_duration("max_time", self.max_time))

    def parameters(self) -> dict[str, Any]:
        """The options as provenance records them."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "budget_seconds"}


@dataclass
class TrainingData:
    """The training haplotypes on the device, the condition (one-hot labels) if any, and what monitoring compares."""

    matrix: HaplotypeMatrix
    data: Any
    condition: Any
    labels: list[str]
    label_frequencies: list[float]
    validation_index: np.ndarray
    allele_frequencies: np.ndarray


def prepare_data(matrix: HaplotypeMatrix, *, condition_on: str | None, validation_size: int, seed: int,
                 device: str) -> TrainingData:
    """The training haplotypes as a float tensor on ``device``, and the population condition when asked for."""
    import torch

    where = matrix.name("the training matrix")
    if matrix.n_haplotypes < 2:
        raise InputError(f"{where}: at least 2 haplotypes are needed to train, found {matrix.n_haplotypes}")
    data = torch.as_tensor(matrix.haplotypes, device=device).to(torch.float32)
    condition, labels, frequencies = None, [], []
    if condition_on is not None:
        labels = condition_labels(matrix, condition_on)
        codes = np.searchsorted(np.asarray(labels), matrix.haplotype_population)
        frequencies = (np.bincount(codes, minlength=len(labels)) / matrix.n_haplotypes).tolist()
        condition = torch.nn.functional.one_hot(torch.as_tensor(codes), len(labels)).to(torch.float32).to(device)
    size = min(validation_size, matrix.n_haplotypes)
    validation = np.sort(np.random.default_rng(seed).choice(matrix.n_haplotypes, size, replace=False))
    return TrainingData(matrix, data, condition, labels, frequencies, validation, matrix.allele_frequencies())


def condition_labels(matrix: HaplotypeMatrix, condition_on: str) -> list[str]:
    """The sorted labels a model conditioned on ``condition_on`` learns; every haplotype needs one, and there
    must be two or more."""
    parse_choice("condition_on", condition_on, CONDITIONS)
    where = matrix.name("the training matrix")
    populations = matrix.haplotype_population
    if (populations == "").any():
        first = matrix.haplotype_sample[np.flatnonzero(populations == "")[0]]
        raise InputError(f"{where}: sample {first} has no population label; conditioning needs one for every "
                         "sample (vcf-to-matrix --populations)")
    labels = sorted(set(populations.tolist()))
    if len(labels) < 2:
        raise InputError(f"{where}: conditioning on population needs at least 2 populations, found {len(labels)}")
    return labels


def train(generator_class: type[Generator], config: Any, matrix: HaplotypeMatrix, options: TrainingOptions, *,
          step: str, parameters: dict[str, Any], condition_on: str | None = None,
          monitor_sampling: dict[str, Any] | None = None) -> Model:
    """Train (or resume) a generator of ``generator_class`` with ``config`` on ``matrix``.

    ``parameters`` are the kind's own options for the provenance record; ``monitor_sampling`` the sampling
    options monitoring draws with. Checkpoints go to ``options.checkpoint`` when set. The returned model holds
    the kept state (the early-stopping choice, else the last) with its history and a provenance record whose
    summary says how training ended.
    """
    import torch

    device = resolve_device(options.device)
    training = prepare_data(matrix, condition_on=condition_on, validation_size=options.validation_size,
                            seed=options.seed, device=device)
    generator = generator_class(config, device=device, seed=options.seed, frequencies=training.allele_frequencies)
    sampling = generator.parse_sampling_options(matrix.sites, **(monitor_sampling or {}))
    record = make_record(step, parameters={**parameters, **options.parameters()}, seed=options.seed,
                         inputs=[matrix.describe()])

    def model_file(state: dict[str, Any] | None) -> ModelFile:
        return ModelFile(kind=generator.kind, config=config.to_dict(), tensors=generator.model_tensors(),
                         sites=matrix.sites, populations=training.labels,
                         population_frequencies=training.label_frequencies,
                         provenance=matrix.provenance + [dict(record)], training=state)

    rng = torch.Generator(device=device).manual_seed(options.seed)
    history: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    epoch = 0
    if options.resume:
        epoch, history, best = _resume(generator, config, rng, options.checkpoint, device)
        if epoch >= options.epochs:
            raise InputError(f"{options.checkpoint}: already trained {epoch} epochs; ask for more epochs")
        log(step, f"resuming from {options.checkpoint} after epoch {epoch}")
    progress = Progress(step, unit="epochs", total=options.epochs - epoch, time_limit=options.budget_seconds,
                        enabled=options.progress)
    start = time.monotonic()
    stopped_by = "epochs"
    while epoch < options.epochs:
        epoch += 1
        try:
            row: dict[str, Any] = {"epoch": epoch, **generator.train_epoch(training.data, training.condition, rng)}
        except TrainingDiverged as err:
            if best is None:
                raise
            log(step, f"epoch {epoch}: {err}; keeping the early-stopping state of epoch {best['epoch']}")
            epoch -= 1  # the diverged epoch does not count as trained
            stopped_by = "diverged"
            break
        elapsed = time.monotonic() - start
        row["seconds"] = round(elapsed, 3)
        out_of_time = options.budget_seconds is not None and elapsed >= options.budget_seconds
        last = epoch == options.epochs or out_of_time
        if epoch % options.monitor_every == 0 or last:
            row.update(_monitor(generator, training, sampling, seed=options.seed, epoch=epoch, device=device))
            if options.early_stop == "aats":
                best = _keep_closest_to_half(best, row["aats"], epoch, generator,
                                             tolerance=options.early_stop_tolerance)
        history.append(row)
        progress.update(1, **{k: v for k, v in row.items() if k not in ("epoch", "seconds")})
        if options.checkpoint is not None and (epoch % options.checkpoint_every == 0 or last):
            state = {"epoch": epoch, "optimizer": generator.optimizer_state(), "rng": rng.get_state(),
                     "history": history, "best": best}
            save_model_file(options.checkpoint, model_file(state))
        if out_of_time and epoch < options.epochs:
            stopped_by = "max_time"
            log(step, f"time budget {options.max_time} reached after epoch {epoch}; stopping")
            break
    progress.close()
    if best is not None:
        generator.load_model_tensors(best["tensors"])
    record["summary"] = {"epochs_trained": epoch, "stopped_by": stopped_by,
                         "seconds_this_run": round(time.monotonic() - start, 3),
                         "kept_epoch": best["epoch"] if best is not None else epoch,
                         "final": {k: v for k, v in history[-1].items() if k != "epoch"} if history else {}}
    return Model(generator, sites=matrix.sites, populations=training.labels,
                 population_frequencies=training.label_frequencies, provenance=matrix.provenance + [record],
                 history=history)


def _keep_closest_to_half(best: dict[str, Any] | None, aats: float, epoch: int, generator: Generator, *,
                          tolerance: float) -> dict[str, Any]:
    """The state early stopping keeps: this epoch's when its AATS is within ``tolerance`` of the closest to 0.5
    seen so far, else ``best`` unchanged. Ties within the monitoring's sampling noise thus go to the later,
    better trained epoch instead of the first that came near 0.5."""
    distance = abs(aats - 0.5)
    closest = distance if best is None else min(best["closest"], distance)
    if best is not None and distance > closest + tolerance:
        return best
    return {"epoch": epoch, "aats": aats, "closest": closest,
            "tensors": {k: v.detach().clone() for k, v in generator.model_tensors().items()}}


def _resume(generator: Generator, config: Any, rng: Any, checkpoint: Path,
            device: str) -> tuple[int, list[dict[str, Any]], dict | None]:
    saved = load_model_file(checkpoint, device=device)
    if saved.training is None:
        raise InputError(f"{checkpoint}: a model file, not a checkpoint; nothing to resume")
    if saved.kind != generator.kind or saved.config != config.to_dict():
        raise InputError(f"{checkpoint}: was trained with another model or configuration "
                         f"({saved.kind} {saved.config}); resume needs the same options")
    generator.load_model_tensors(saved.tensors)
    generator.load_optimizer_state(saved.training["optimizer"])
    rng.set_state(saved.training["rng"].cpu())
    return int(saved.training["epoch"]), saved.training["history"], saved.training["best"]


def _monitor(generator: Generator, training: TrainingData, sampling: dict[str, Any], *, seed: int, epoch: int,
             device: str) -> dict[str, float | None]:
    import torch

    rng = torch.Generator(device=device).manual_seed(seed * 1_000_003 + epoch)
    index = training.validation_index
    condition = None if training.condition is None else training.condition[torch.as_tensor(index, device=device)]
    generated = generator.generate(len(index), rng, condition=condition, **sampling)
    real = training.matrix.haplotypes[index]
    aats = adversarial_accuracy(real, generated, repeats=1, rng=np.random.default_rng(seed), device=device)
    frequencies = fidelity.allele_frequencies(generated)
    return {"aats": aats.aats, "af_r": fidelity.pearson(training.allele_frequencies, frequencies),
            "fixed_fraction": fidelity.fixed_fraction(training.allele_frequencies, frequencies)}


def train_gan(matrix: HaplotypeMatrix, *, preset: str = "yelmen2021", condition_on: str | None = None,
              lr_discriminator: float | None = None, lr_generator: float | None = None, latent_size: int = 600,
              batch_size: int = 32, epochs: int = 20000, **training: Any) -> Model:
    """Train a GAN on ``matrix``: the fully connected GAN of Yelmen et al. 2021 (``preset="yelmen2021"``) or a
    Wasserstein GAN with gradient penalty (``"wgan-gp"``), optionally conditioned on population
    (``condition_on="population"``). Learning rates and latent size override the preset's; ``training`` takes
    the :class:`TrainingOptions` (``max_time``, ``seed``, ``device``, ``checkpoint``, ``early_stop``, ...).

    Example
    -------
    >>> model = train_gan(train, preset="wgan-gp", epochs=200, max_time="5m", seed=1)  # doctest: +SKIP
    """
    from .models.gan import Gan, GanConfig

    options = TrainingOptions(epochs=epochs, **training)
    n_classes = len(condition_labels(matrix, condition_on)) if condition_on is not None else 0
    config = GanConfig.for_preset(preset, n_sites=matrix.n_sites, n_classes=n_classes, batch_size=batch_size,
                                  lr_discriminator=lr_discriminator, lr_generator=lr_generator, latent_size=latent_size)
    parameters = {"preset": preset, "condition_on": condition_on, "lr_discriminator": lr_discriminator,
                  "lr_generator": lr_generator, "latent_size": latent_size, "batch_size": batch_size}
    return train(Gan, config, matrix, options, step="train-gan", parameters=parameters, condition_on=condition_on)


def train_rbm(matrix: HaplotypeMatrix, *, hidden_units: int | None = None, hidden: str = "relu", k: int = 10,
              chains: int = 100, lr: float = 3e-3, centered: bool = True, batch_size: int = 32,
              monitor_gibbs_steps: int = 200, epochs: int = 800, **training: Any) -> Model:
    """Train the restricted Boltzmann machine of Yelmen et al. 2021 on ``matrix`` by persistent contrastive
    divergence (PCD-``k`` with ``chains`` persistent chains, centred gradient unless ``centered`` is False);
    monitoring samples ``monitor_gibbs_steps`` sweeps from the chains; ``training`` takes the
    :class:`TrainingOptions`.

    Example
    -------
    >>> model = train_rbm(train, epochs=100, seed=1)  # doctest: +SKIP
    """
    from .models.rbm import Rbm, RbmConfig

    options = TrainingOptions(epochs=epochs, **training)
    config = RbmConfig.for_sites(matrix.n_sites, n_hidden=hidden_units, hidden=hidden, k=k, chains=chains, lr=lr,
                                 batch_size=batch_size, centered=centered)
    parse_int("monitor_gibbs_steps", monitor_gibbs_steps, minimum=1)
    parameters = {"hidden_units": config.n_hidden, "hidden": hidden, "k": k, "chains": chains, "lr": lr,
                  "centered": centered, "batch_size": batch_size, "monitor_gibbs_steps": monitor_gibbs_steps}
    return train(Rbm, config, matrix, options, step="train-rbm", parameters=parameters,
                 monitor_sampling={"gibbs_steps": monitor_gibbs_steps})
