"""The training loop shared by every generator kind: epochs and a wall-clock budget, atomic checkpoints and
bit-for-bit resume, monitoring against a validation subset and the held-out haplotypes, early stopping
(:mod:`genosynth.generate.monitoring`), and progress.

All training randomness comes from one torch generator whose state is checkpointed; monitoring draws from
its own generator seeded by (seed, epoch), so monitoring and checkpoints never change what is trained.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.devices import DEVICE_CHOICES, resolve_device
from genosynth._infra.errors import InputError, OptionError, TrainingDiverged
from genosynth._infra.options import check_options, option, parse_choice, parse_duration, parse_int
from genosynth._infra.progress import Progress, log
from genosynth._infra.provenance import make_record
from genosynth.generate.models.base import DEFAULT_BATCH_SIZE, Generator
from genosynth.generate.models.diffusion import DEFAULT_STEPS
from genosynth.generate.monitoring import EARLY_STOP_CHOICES, EarlyStopping, Monitor, judge_state
from genosynth.generate.private import PrivacyOptions, PrivateTraining
from genosynth.generate.trained import Model
from genosynth.io.matrix import HaplotypeMatrix, Sites, require_same_sites
from genosynth.io.model_file import ModelFile, load_model_file, save_model_file
from genosynth.io.regions import Region
from genosynth.io.windows import Window, split_window

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
    batch_size
        Haplotypes per training batch (at most the training haplotypes).
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
        Every ``monitor_every`` epochs (and at the end) ``validation_size`` training haplotypes (and as many
        held-out ones) are compared with as many generated ones.
    holdout
        Held-out haplotypes (individuals never trained on, on the same sites): monitoring measures the privacy
        loss against them.
    early_stop, early_stop_tolerance, max_privacy_loss
        ``"aats"``: keep the monitored state whose worse AA half is nearest 0.5; ``"fidelity"`` (needs
        ``holdout``): the best state by AA balance, AF r and LD r among those whose privacy loss plus its
        standard error is at most ``max_privacy_loss`` (judged afresh at privacy-check's size, with a margin for
        choosing among many states), else the one with the lowest privacy loss; ``"none"``: the last state. Of states
        within ``early_stop_tolerance`` of the best, the latest is kept (see :mod:`genosynth.generate.monitoring`).
    dp_epsilon, dp_delta, dp_max_grad_norm
        Differentially private training (:mod:`genosynth.generate.private`): the (epsilon, delta) guarantee per
        individual and the clipping norm of an individual's gradient; None (the default): not private.
    progress
        Report progress on standard error.

    Raises
    ------
    OptionError
        A value out of its bounds or choices, named by its keyword.

    Examples
    --------
    >>> options = TrainingOptions(epochs=100, max_time="20m", batch_size=64)
    >>> options.budget_seconds, options.batch_size, options.checkpoint_every
    (1200.0, 64, 50)
    >>> TrainingOptions(epochs=100, early_stop="fidelity")
    Traceback (most recent call last):
    genosynth.OptionError: early_stop fidelity needs held-out haplotypes (holdout): the privacy loss it keeps within its limit is measured against them
    """

    # each option is written here once: its default, bounds and help are what the checks, the command line
    # (steps/_training.py builds the train-* options from them) and the tests of Galaxy's and Nextflow's
    # parameters read (genosynth._infra.options.option)
    epochs: int = option(help="epochs to train (in total, counting a resumed run's)", kind=int, minimum=1)
    max_time: str | float | None = option(
        None, kind=str, help="wall-clock budget such as 90s, 20m or 1h30m: stop cleanly after the epoch that reaches it"
    )
    batch_size: int = option(DEFAULT_BATCH_SIZE, help="haplotypes per training batch", minimum=1)
    seed: int = option(1, help="seed of initialisation, batches and noise")
    device: str = "auto"
    checkpoint: Path | None = None
    checkpoint_every: int = option(50, help="epochs between checkpoints (and one at the end)", minimum=1)
    resume: bool = False
    monitor_every: int = option(50, help="epochs between monitoring rows (and one at the end)", minimum=1)
    validation_size: int = option(
        1000, help="training haplotypes (and as many held-out and generated ones) monitoring compares", minimum=1
    )
    holdout: HaplotypeMatrix | None = field(default=None, repr=False)
    early_stop: str = option(
        "none",
        choices=EARLY_STOP_CHOICES,
        help="which monitored state the model file keeps: aats, the one whose worse AA half is nearest 0.5; "
        "fidelity (needs --holdout), the best by AA balance, AF r and LD r among those whose privacy loss plus "
        "its standard error is within --max-privacy-loss, else the one with the lowest privacy loss; none, the last",
    )
    early_stop_tolerance: float = option(
        0.01,
        minimum=0,
        below=0.5,
        help="score differences treated as ties, won by the later epoch (about the standard error of AATS on "
        "1000 validation haplotypes)",
    )
    max_privacy_loss: float = option(
        0.05,
        minimum=-1,
        maximum=1,
        help="--early-stop fidelity keeps only states whose privacy loss (plus its standard error) is at most this",
    )
    dp_epsilon: float | None = option(
        None,
        kind=float,
        above=0,
        help="train with differential privacy (DP-SGD, Opacus) to this epsilon per individual; training stops when "
        "it is spent (the GAN only with --preset yelmen2021, the diffusion model only with --representation sites)",
    )
    dp_delta: float | None = option(
        None,
        kind=float,
        above=0,
        below=1,
        help="the delta of --dp-epsilon, below 1 / the training individuals (default: 1 / (10 x the training "
        "individuals))",
    )
    dp_max_grad_norm: float | None = option(
        None,
        kind=float,
        above=0,
        help="the clipping norm of each individual's gradient under --dp-epsilon (default: 1 for the GAN's critic "
        "and the diffusion denoiser, the square root of the sites for the RBM)",
    )
    progress: bool = True
    budget_seconds: float | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        check_options(self)
        if self.early_stop == "fidelity" and self.holdout is None:
            raise OptionError(
                "early_stop",
                "fidelity needs held-out haplotypes (holdout): the privacy loss it keeps "
                "within its limit is measured against them",
            )
        parse_choice("device", self.device, DEVICE_CHOICES)
        if self.resume and self.checkpoint is None:
            raise InputError("resume needs the checkpoint to continue from")
        object.__setattr__(self, "budget_seconds", parse_duration("max_time", self.max_time))

    def parameters(self) -> dict[str, Any]:
        """The options as provenance records them (the holdout by name; its digest is among the inputs)."""
        values = {
            name: getattr(self, name) for name in self.__dataclass_fields__ if name not in ("budget_seconds", "holdout")
        }
        values["holdout"] = None if self.holdout is None else self.holdout.name("in memory")
        return values


@dataclass
class TrainingData:
    """The training haplotypes on the device, the condition (one-hot labels, then the context's alleles) if any,
    and what monitoring compares."""

    window: Window
    data: Any
    condition: Any
    labels: list[str]
    label_frequencies: list[float]
    validation_index: np.ndarray
    allele_frequencies: np.ndarray
    condition_means: np.ndarray | None
    monitor: Monitor | None
    holdout_condition: Any = None
    private: bool = False


def prepare_data(
    window: Window,
    *,
    condition_on: str | None,
    validation_size: int,
    seed: int,
    device: str,
    holdout: Window | None = None,
    private: bool = False,
) -> TrainingData:
    """The window's training haplotypes as a float tensor on ``device``, with the condition: the population label
    when asked for, and the context sites before the window. ``private`` (differentially private training):
    monitoring and the initial allele frequencies read the held-out haplotypes only, and without them there is
    neither."""
    import torch

    matrix = window.matrix
    where = matrix.name("the training matrix")
    if matrix.n_haplotypes < 2:
        raise InputError(f"{where}: at least 2 haplotypes are needed to train, found {matrix.n_haplotypes}")
    data = torch.as_tensor(matrix.haplotypes, device=device).to(torch.float32)
    labels, frequencies = [], []
    if condition_on is not None:
        labels = condition_labels(matrix, condition_on)
        frequencies = (
            np.bincount(np.searchsorted(np.asarray(labels), matrix.haplotype_population), minlength=len(labels))
            / matrix.n_haplotypes
        ).tolist()
    condition = _condition(window, labels, device)
    rng = np.random.default_rng(seed)
    size = min(validation_size, matrix.n_haplotypes, holdout.matrix.n_haplotypes if holdout else validation_size)
    validation = np.sort(rng.choice(matrix.n_haplotypes, size, replace=False))
    held_out, holdout_condition = None, None
    if holdout is not None:
        require_same_sites(
            matrix.sites, holdout.matrix.sites, reference_name=where, other_name=holdout.matrix.name("the holdout")
        )
        require_same_sites(
            window.context.sites,
            holdout.context.sites,
            reference_name=f"{where} (context)",
            other_name=f"{holdout.matrix.name('the holdout')} (context)",
        )
        rows = np.sort(rng.choice(holdout.matrix.n_haplotypes, size, replace=False))
        held_out = holdout.matrix.haplotypes[rows]
        if window.context.n_sites:  # a window's model is judged on held-out contexts too
            holdout_condition = _condition(holdout, labels, device)[torch.as_tensor(rows, device=device)]
    frequencies_training, condition_means, monitor = None, None, None
    if not private or holdout is not None:
        reference, reference_condition = (
            (holdout, _condition(holdout, labels, device)) if private else (window, condition)
        )
        frequencies_training = reference.matrix.allele_frequencies()
        if reference_condition is not None:
            condition_means = reference_condition.mean(0).cpu().numpy().astype(np.float64)
        monitor = Monitor(
            held_out if private else matrix.haplotypes[validation],
            frequencies_training,
            holdout=None if private else held_out,
            privacy_sets=None if holdout is None or private else (matrix.haplotypes, holdout.matrix.haplotypes),
            positions=matrix.sites.pos,
            chromosomes=matrix.sites.chrom,
            device=device,
        )
    return TrainingData(
        window,
        data,
        condition,
        labels,
        frequencies,
        validation,
        frequencies_training,
        condition_means,
        monitor,
        holdout_condition,
        private,
    )


def _condition(window: Window, labels: list[str], device: str) -> Any:
    """The condition of every haplotype of the window: one-hot population (when ``labels``), then the context's
    alleles; None when there is neither."""
    import torch

    parts = []
    if labels:
        codes = np.searchsorted(np.asarray(labels), window.matrix.haplotype_population)
        if not np.isin(window.matrix.haplotype_population, labels).all():
            unknown = sorted(set(window.matrix.haplotype_population.tolist()) - set(labels))
            raise InputError(
                f"{window.matrix.name('the holdout')}: population {unknown[0]} is not among the "
                f"training populations ({', '.join(labels)})"
            )
        parts.append(torch.nn.functional.one_hot(torch.as_tensor(codes), len(labels)).to(torch.float32))
    if window.context.n_sites:
        parts.append(torch.as_tensor(window.context.haplotypes).to(torch.float32))
    return torch.cat(parts, dim=1).to(device) if parts else None


def condition_labels(matrix: HaplotypeMatrix, condition_on: str) -> list[str]:
    """The sorted labels a model conditioned on ``condition_on`` learns; every haplotype needs one, and there
    must be two or more."""
    parse_choice("condition_on", condition_on, CONDITIONS)
    where = matrix.name("the training matrix")
    populations = matrix.haplotype_population
    if (populations == "").any():
        first = matrix.haplotype_sample[np.flatnonzero(populations == "")[0]]
        raise InputError(
            f"{where}: sample {first} has no population label; conditioning needs one for every "
            "sample (vcf-to-matrix --populations)"
        )
    labels = sorted(set(populations.tolist()))
    if len(labels) < 2:
        raise InputError(f"{where}: conditioning on population needs at least 2 populations, found {len(labels)}")
    return labels


def parse_batch_size(batch_size: int, window: Window) -> int:
    """``batch_size`` when the window has at least that many training haplotypes: a larger batch would train no
    optimiser step at all (an OptionError saying how many there are).

    Example
    -------
    >>> parse_batch_size(32, split_window(train, None))  # doctest: +SKIP
    32
    """
    batch_size = parse_int("batch_size", batch_size, minimum=1)
    if batch_size > window.matrix.n_haplotypes:
        raise OptionError(
            "batch_size",
            f"{batch_size} is more than the {window.matrix.n_haplotypes} training "
            f"haplotypes; ask for at most {window.matrix.n_haplotypes}",
        )
    return batch_size


def train(
    generator_class: type[Generator],
    config: Any,
    window: Window,
    options: TrainingOptions,
    *,
    step: str,
    parameters: dict[str, Any],
    condition_on: str | None = None,
    monitor_sampling: dict[str, Any] | None = None,
) -> Model:
    """Train (or resume) a generator of ``generator_class`` with ``config`` on ``window`` (a window of the
    training matrix with its context, from :func:`~genosynth.io.windows.split_window`).

    ``parameters`` are the kind's own options for the provenance record; ``monitor_sampling`` the sampling
    options monitoring draws with. Checkpoints go to ``options.checkpoint`` when set. The returned model holds
    the kept state (the early-stopping choice, else the last) with its history and a provenance record whose
    summary says how training ended. With ``options.dp_epsilon`` the generator is trained by DP-SGD
    (:mod:`genosynth.generate.private`) until its budget is spent, nothing else reads the training haplotypes
    (see :func:`_check_private`), and the guarantee goes into the model's ``extra["privacy"]`` and the training
    record's summary.
    """
    import torch

    if condition_on is not None and not generator_class.conditions_on_populations:
        raise OptionError("condition_on", f"{generator_class.kind} models are not conditioned on populations")
    privacy = PrivacyOptions.from_options(options)
    if privacy is not None:
        _check_private(options, condition_on)
    matrix = window.matrix
    device = resolve_device(options.device)
    holdout = (
        None
        if options.holdout is None
        else split_window(options.holdout, window.region, context_sites=window.context.n_sites)
    )
    training = prepare_data(
        window,
        condition_on=condition_on,
        validation_size=options.validation_size,
        seed=options.seed,
        device=device,
        holdout=holdout,
        private=privacy is not None,
    )
    generator = generator_class(
        config,
        device=device,
        seed=options.seed,
        frequencies=training.allele_frequencies,
        condition_means=training.condition_means,
    )
    sampling = generator.parse_sampling_options(matrix.sites, **(monitor_sampling or {}))
    engine = None
    if privacy is not None:
        engine = PrivateTraining(
            privacy,
            individuals=matrix.haplotype_sample,
            batch_size=config.batch_size,
            epochs=options.epochs,
            default_max_grad_norm=generator.default_max_grad_norm(),
            device=device,
        )
        generator.make_private(engine)
    record = make_record(
        step,
        parameters={**parameters, **options.parameters()},
        seed=options.seed,
        inputs=[matrix.describe()] + ([options.holdout.describe()] if options.holdout else []),
    )
    extra = {"window": window.record()}

    def model_file(state: dict[str, Any] | None) -> ModelFile:
        return ModelFile(
            kind=generator.kind,
            config=config.to_dict(),
            tensors=generator.model_tensors(),
            sites=matrix.sites,
            populations=training.labels,
            population_frequencies=training.label_frequencies,
            provenance=matrix.provenance + [dict(record)],
            extra=extra,
            training=state,
        )

    rng = torch.Generator(device=device).manual_seed(options.seed)
    history: list[dict[str, Any]] = []
    stopper = EarlyStopping(
        options.early_stop, tolerance=options.early_stop_tolerance, max_privacy_loss=options.max_privacy_loss
    )
    epoch = 0
    if options.resume:
        epoch, history = _resume(generator, config, matrix.sites, rng, stopper, options.checkpoint, device, engine)
        if epoch >= options.epochs:
            raise InputError(f"{options.checkpoint}: already trained {epoch} epochs; ask for more epochs")
        log(step, f"resuming from {options.checkpoint} after epoch {epoch}")
    progress = Progress(
        step, unit="epochs", total=options.epochs - epoch, time_limit=options.budget_seconds, enabled=options.progress
    )
    start = time.monotonic()
    stopped_by = "epochs"
    while epoch < options.epochs:
        if engine is not None and not engine.can_train_epoch():
            stopped_by = "privacy_budget"
            log(
                step,
                f"privacy budget epsilon {engine.epsilon:g} spent after epoch {epoch} (accountant "
                f"{engine.record()['accountant']}: epsilon {engine.epsilon_spent:.3f}); stopping",
            )
            break
        epoch += 1
        try:
            row: dict[str, Any] = {"epoch": epoch, **generator.train_epoch(training.data, training.condition, rng)}
        except TrainingDiverged as err:
            if stopper.kept is None:
                raise
            log(step, f"epoch {epoch}: {err}; keeping the early-stopping state of epoch {stopper.kept.epoch}")
            epoch -= 1  # the diverged epoch does not count as trained
            stopped_by = "diverged"
            break
        if engine is not None:
            row["epsilon"] = round(engine.epsilon_spent, 4)
        elapsed = time.monotonic() - start
        row["seconds"] = round(elapsed, 3)
        out_of_time = options.budget_seconds is not None and elapsed >= options.budget_seconds
        last = epoch == options.epochs or out_of_time
        if training.monitor is not None and (epoch % options.monitor_every == 0 or last):
            row.update(_monitor(generator, training, sampling, seed=options.seed, epoch=epoch, device=device))
            judge = functools.partial(
                judge_state,
                generator,
                training.monitor,
                condition=training.condition,
                holdout_condition=training.holdout_condition,
                sampling=sampling,
                seed=options.seed,
                epoch=epoch,
                device=device,
            )
            stopper.offer(epoch, row, generator.model_tensors, judge=judge)
        history.append(row)
        progress.update(1, **{k: v for k, v in row.items() if k not in ("epoch", "seconds")})
        if options.checkpoint is not None and (epoch % options.checkpoint_every == 0 or last):
            state = {
                "epoch": epoch,
                "optimizer": generator.optimizer_state(),
                "rng": rng.get_state(),
                "history": history,
                "early_stopping": stopper.state(),
                "privacy": None if engine is None else engine.state(),
            }
            save_model_file(options.checkpoint, model_file(state))
        if out_of_time and epoch < options.epochs:
            stopped_by = "max_time"
            log(step, f"time budget {options.max_time} reached after epoch {epoch}; stopping")
            break
    progress.close()
    kept = stopper.kept
    if kept is not None:
        generator.load_model_tensors(kept.tensors)
    record["summary"] = {
        "epochs_trained": epoch,
        "stopped_by": stopped_by,
        "seconds_this_run": round(time.monotonic() - start, 3),
        "kept_epoch": kept.epoch if kept is not None else epoch,
        **stopper.summary(),
        "kept": next((row for row in history if row["epoch"] == (kept.epoch if kept else epoch)), {}),
        "final": {k: v for k, v in history[-1].items() if k != "epoch"} if history else {},
    }
    if engine is not None:
        record["summary"]["privacy"] = extra["privacy"] = guarantee = engine.record()
        log(
            step,
            f"differential privacy: epsilon {guarantee['epsilon_spent']:.3f} spent of {guarantee['epsilon']:g} "
            f"(delta {guarantee['delta']:.3g}, {guarantee['accountant']} accountant, clipping "
            f"{guarantee['max_grad_norm']:.3g}, noise multiplier {guarantee['noise_multiplier']:.3g}, sampling "
            f"rate {guarantee['sample_rate']:.3g}, {guarantee['steps']} steps, per individual)",
        )
    if "note" in record["summary"]:
        log(step, record["summary"]["note"])
    return Model(
        generator,
        sites=matrix.sites,
        populations=training.labels,
        population_frequencies=training.label_frequencies,
        provenance=matrix.provenance + [record],
        history=history,
        extra=extra,
    )


def _check_private(options: TrainingOptions, condition_on: str | None) -> None:
    """Refuses what would read the training haplotypes outside the private steps: conditioning on population
    (a model keeps the training individuals' label counts), early stopping by privacy loss (it compares
    generated haplotypes with the training ones) and any early stopping without held-out haplotypes (monitoring
    then has nothing else to read)."""
    if condition_on is not None:
        raise OptionError(
            "dp_epsilon", "cannot be given with condition_on: a model keeps its training individuals' label counts"
        )
    if options.early_stop == "fidelity":
        raise OptionError(
            "dp_epsilon",
            "cannot be given with early_stop fidelity: it compares generated haplotypes with the training ones; "
            "use early_stop aats (judged on the held-out haplotypes) or none",
        )
    if options.early_stop != "none" and options.holdout is None:
        raise OptionError(
            "dp_epsilon",
            f"early_stop {options.early_stop} needs held-out haplotypes (holdout) in private training: "
            "monitoring reads no training haplotypes",
        )


def _resume(
    generator: Generator,
    config: Any,
    sites: Sites,
    rng: Any,
    stopper: EarlyStopping,
    checkpoint: Path,
    device: str,
    engine: PrivateTraining | None,
) -> tuple[int, list[dict[str, Any]]]:
    saved = load_model_file(checkpoint, device=device)
    if saved.training is None:
        raise InputError(f"{checkpoint}: a model file, not a checkpoint; nothing to resume")
    if saved.kind != generator.kind or saved.config != config.to_dict():
        raise InputError(
            f"{checkpoint}: was trained with another model or configuration "
            f"({saved.kind} {saved.config}); resume needs the same options"
        )
    # another window of the same size has the same configuration: only its sites tell them apart
    require_same_sites(sites, saved.sites, reference_name="the training data", other_name=str(checkpoint))
    generator.load_model_tensors(saved.tensors)
    generator.load_optimizer_state(saved.training["optimizer"])
    rng.set_state(saved.training["rng"].cpu())
    stopper.load_state(saved.training["early_stopping"])
    saved_privacy = saved.training.get("privacy")
    if engine is not None:
        engine.load_state(saved_privacy, where=str(checkpoint))
    elif saved_privacy is not None:
        raise InputError(f"{checkpoint}: was trained with differential privacy; resume needs dp_epsilon too")
    return int(saved.training["epoch"]), saved.training["history"]


def _monitor(
    generator: Generator, training: TrainingData, sampling: dict[str, Any], *, seed: int, epoch: int, device: str
) -> dict[str, float | None]:
    import torch

    rng = torch.Generator(device=device).manual_seed(seed * 1_000_003 + epoch)
    if training.private:  # the held-out haplotypes stand in for the validation ones, with their contexts
        generated = generator.generate(training.monitor.size, rng, condition=training.holdout_condition, **sampling)
        return training.monitor.measure(generated)
    index = training.validation_index
    condition = None if training.condition is None else training.condition[torch.as_tensor(index, device=device)]
    generated = generator.generate(len(index), rng, condition=condition, **sampling)
    for_holdout = (
        None
        if training.holdout_condition is None
        else generator.generate(len(index), rng, condition=training.holdout_condition, **sampling)
    )
    return training.monitor.measure(generated, for_holdout=for_holdout)


def train_gan(
    matrix: HaplotypeMatrix,
    *,
    preset: str = "wgan-gp",
    condition_on: str | None = None,
    region: str | Region | None = None,
    context_sites: int = 0,
    lr_discriminator: float | None = None,
    lr_generator: float | None = None,
    latent_size: int | None = None,
    epochs: int = 20000,
    **training: Any,
) -> Model:
    """Train a GAN on ``matrix``: a Wasserstein GAN with gradient penalty (``preset="wgan-gp"``) or the fully
    connected GAN of Yelmen et al. 2021 (``"yelmen2021"``), optionally conditioned on population
    (``condition_on="population"``). With ``region`` only that window of ``matrix`` is trained on, conditioned
    on the ``context_sites`` sites before it (see :mod:`genosynth.io.windows`). Learning rates and latent size
    override the preset's; ``training`` takes the :class:`TrainingOptions` (``max_time``, ``seed``, ``device``,
    ``checkpoint``, ``early_stop``, ...).

    Parameters
    ----------
    matrix
        The training haplotypes.
    preset
        ``"wgan-gp"``, ``"yelmen2021"`` or ``"conv-wgan-gp"`` (the convolutional WGAN-GP for windows of 1,000 to
        65,536 sites).
    condition_on
        ``"population"``: one model conditioned on the population labels (sample with ``population=``).
    region, context_sites
        Train on this window of ``matrix`` only, conditioned on this many sites before it.
    lr_discriminator, lr_generator, latent_size
        Override the preset's values.
    epochs
        Epochs to train in total.
    **training
        The :class:`TrainingOptions` (``batch_size``, ``max_time``, ``seed``, ``device``, ``checkpoint``,
        ``early_stop``, ...).

    Returns
    -------
    Model
        The kept state (the early-stopping choice, else the last) with its training history and provenance.

    Raises
    ------
    OptionError
        A bad option, named by its keyword.

    Examples
    --------
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> model = train_gan(train, epochs=3, seed=1, validation_size=20, progress=False)
    >>> model.kind, model.training_summary["epochs_trained"]
    ('gan', 3)
    """
    from genosynth.generate.models.gan import Gan, GanConfig

    options = TrainingOptions(epochs=epochs, **training)
    window = split_window(matrix, region, context_sites=context_sites)
    batch_size = parse_batch_size(options.batch_size, window)
    n_classes = len(condition_labels(window.matrix, condition_on)) if condition_on is not None else 0
    config = GanConfig.for_preset(
        preset,
        n_sites=window.matrix.n_sites,
        n_classes=n_classes,
        context_sites=window.context.n_sites,
        batch_size=batch_size,
        lr_discriminator=lr_discriminator,
        lr_generator=lr_generator,
        latent_size=latent_size,
    )
    parameters = {
        "preset": preset,
        "condition_on": condition_on,
        "region": None if region is None else str(region),
        "context_sites": context_sites,
        "lr_discriminator": lr_discriminator,
        "lr_generator": lr_generator,
        "latent_size": latent_size,
        "batch_size": batch_size,
    }
    return train(
        Gan,
        config,
        window,
        options,
        step="train-gan",
        parameters=parameters,
        condition_on=condition_on,
    )


def train_rbm(
    matrix: HaplotypeMatrix,
    *,
    region: str | Region | None = None,
    context_sites: int = 0,
    hidden_units: int | None = None,
    hidden: str = "relu",
    k: int = 10,
    chains: int = 100,
    lr: float = 3e-3,
    centered: bool = True,
    monitor_gibbs_steps: int = 20,
    epochs: int = 800,
    **training: Any,
) -> Model:
    """Train the restricted Boltzmann machine of Yelmen et al. 2021 on ``matrix`` by persistent contrastive
    divergence (PCD-``k`` with ``chains`` persistent chains, centred gradient unless ``centered`` is False);
    monitoring samples ``monitor_gibbs_steps`` sweeps from the chains. With ``region`` only that window is
    trained on, with the ``context_sites`` sites before it as a block of visible units (the conditional RBM of
    Yelmen et al. 2023); ``training`` takes the :class:`TrainingOptions`.

    Parameters
    ----------
    matrix
        The training haplotypes.
    region, context_sites
        Train on this window of ``matrix`` only, with this many sites before it as visible units.
    hidden_units, hidden
        Hidden units (default: 100 up to 1000 sites, 500 above) and their type (``"relu"`` or ``"sigmoid"``).
    k, chains, lr, centered
        Gibbs sweeps per batch, persistent chains, learning rate, centred gradient.
    monitor_gibbs_steps
        Gibbs sweeps monitoring samples with.
    epochs
        Epochs to train in total.
    **training
        The :class:`TrainingOptions` (``batch_size``, ``max_time``, ``seed``, ``device``, ...).

    Returns
    -------
    Model
        The kept state with its training history and provenance.

    Raises
    ------
    OptionError
        A bad option, named by its keyword.

    Examples
    --------
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> model = train_rbm(train, epochs=3, seed=1, validation_size=20, progress=False)
    >>> model.sample(10, seed=1, progress=False).n_haplotypes
    10
    """
    from genosynth.generate.models.rbm import Rbm, RbmConfig

    options = TrainingOptions(epochs=epochs, **training)
    window = split_window(matrix, region, context_sites=context_sites)
    batch_size = parse_batch_size(options.batch_size, window)
    config = RbmConfig.for_sites(
        window.matrix.n_sites,
        n_hidden=hidden_units,
        hidden=hidden,
        k=k,
        chains=chains,
        lr=lr,
        batch_size=batch_size,
        centered=centered,
        context_sites=window.context.n_sites,
    )
    parse_int("monitor_gibbs_steps", monitor_gibbs_steps, minimum=1)
    parameters = {
        "region": None if region is None else str(region),
        "context_sites": context_sites,
        "hidden_units": config.n_hidden,
        "hidden": hidden,
        "k": k,
        "chains": chains,
        "lr": lr,
        "centered": centered,
        "batch_size": batch_size,
        "monitor_gibbs_steps": monitor_gibbs_steps,
    }
    return train(
        Rbm,
        config,
        window,
        options,
        step="train-rbm",
        parameters=parameters,
        monitor_sampling={"gibbs_steps": monitor_gibbs_steps},
    )


def train_diffusion(
    matrix: HaplotypeMatrix,
    *,
    representation: str | None = None,
    condition_on: str | None = None,
    region: str | Region | None = None,
    context_sites: int = 0,
    channels: tuple[int, int] = (32, 128),
    patch: int = 8,
    pca_components: int | None = None,
    mlp_width: int = 1024,
    lr: float = 1e-3,
    self_conditioning: bool = True,
    monitor_steps: int = DEFAULT_STEPS,
    epochs: int = 2000,
    **training: Any,
) -> Model:
    """Train a denoising diffusion model on ``matrix`` (see :mod:`genosynth.generate.models.diffusion`): ±1 alleles
    denoised by a 1-D convolutional U-Net (``representation="sites"``) or principal components denoised by a
    residual MLP (``"pca"``, as Kenneweg et al. 2024; None: the benchmarks' recommendation,
    :func:`~genosynth.generate.models.diffusion.default_representation`), optionally conditioned on population
    (``condition_on="population"``, sampled with classifier-free guidance) and, with ``region``, on the
    ``context_sites`` sites before the window; ``self_conditioning`` feeds the denoiser its own previous
    estimate. Monitoring samples with ``monitor_steps`` sampler steps; ``training`` takes the
    :class:`TrainingOptions`.

    Parameters
    ----------
    matrix
        The training haplotypes.
    representation
        ``"sites"`` (a U-Net over the sites) or ``"pca"`` (an MLP over principal components); default: chosen
        from the matrix's size.
    condition_on
        ``"population"``: one model conditioned on the population labels.
    region, context_sites
        Train on this window of ``matrix`` only, conditioned on this many sites before it.
    channels, patch
        ``sites``: the U-Net's channels at its finest and coarsest levels, and sites per position.
    pca_components, mlp_width
        ``pca``: principal components kept, and the MLP's width.
    lr, self_conditioning
        Learning rate; whether the denoiser sees its own previous estimate.
    monitor_steps
        Sampler steps monitoring samples with.
    epochs
        Epochs to train in total.
    **training
        The :class:`TrainingOptions` (``batch_size``, ``max_time``, ``seed``, ``device``, ...).

    Returns
    -------
    Model
        The kept state with its training history and provenance.

    Raises
    ------
    OptionError
        A bad option, named by its keyword.

    Examples
    --------
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> model = train_diffusion(train, epochs=2, seed=1, validation_size=20, monitor_steps=5, progress=False)
    >>> model.sample(10, steps=5, seed=1, progress=False).n_sites
    40
    """
    from genosynth.generate.models.diffusion import Diffusion, DiffusionConfig, default_representation

    if representation is None:
        representation = default_representation(private=training.get("dp_epsilon") is not None)
    options = TrainingOptions(epochs=epochs, **training)
    window = split_window(matrix, region, context_sites=context_sites)
    batch_size = parse_batch_size(options.batch_size, window)
    n_classes = len(condition_labels(window.matrix, condition_on)) if condition_on is not None else 0
    config = DiffusionConfig.for_sites(
        window.matrix.n_sites,
        n_haplotypes=window.matrix.n_haplotypes,
        n_classes=n_classes,
        context_sites=window.context.n_sites,
        representation=representation,
        channels=tuple(channels),
        patch=patch,
        pca_components=pca_components,
        mlp_width=mlp_width,
        lr=lr,
        batch_size=batch_size,
        self_conditioning=self_conditioning,
    )
    parse_int("monitor_steps", monitor_steps, minimum=1)
    parameters = {
        "representation": representation,
        "condition_on": condition_on,
        "region": None if region is None else str(region),
        "context_sites": context_sites,
        "channels": list(config.channels),
        "patch": patch,
        "pca_components": config.pca_components,
        "mlp_width": mlp_width,
        "lr": lr,
        "batch_size": batch_size,
        "self_conditioning": self_conditioning,
        "monitor_steps": monitor_steps,
    }
    return train(
        Diffusion,
        config,
        window,
        options,
        step="train-diffusion",
        parameters=parameters,
        condition_on=condition_on,
        monitor_sampling={"steps": monitor_steps},
    )
