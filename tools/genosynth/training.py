"""The training loop shared by train-gan and train-rbm: epochs and a wall-clock budget, atomic checkpoints and
bit-for-bit resume, monitoring on a validation subset (AATS, allele-frequency correlation, fixed sites),
early stopping at the AATS closest to 0.5, progress, a history TSV and loss/metric curves.

All training randomness comes from one torch generator whose state is checkpointed; monitoring draws from
its own generator seeded by (seed, epoch), so monitoring and checkpoints never change what is trained.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np

from . import fidelity
from .atomic import atomic_outputs
from .devices import DEVICE_CHOICES
from .errors import InputError, TrainingDiverged
from .matrix import HaplotypeMatrix
from .model_files import ModelFile, load_model_file, save_model_file
from .privacy import adversarial_accuracy
from .progress import Progress, log
from .report import format_value, new_figure, save_figure_beside

EARLY_STOP_CHOICES = ("none", "aats")


class Trainable(Protocol):
    kind: str
    config: dict[str, Any]

    def train_epoch(self, data: Any, onehot: Any, rng: Any) -> dict[str, float]: ...
    def weights(self) -> dict[str, Any]: ...
    def load_weights(self, weights: dict[str, Any]) -> None: ...
    def optimizer_state(self) -> dict[str, Any]: ...
    def load_optimizer_state(self, state: dict[str, Any]) -> None: ...


def add_training_arguments(parser: argparse.ArgumentParser, *, default_epochs: int) -> None:
    """The options every trainer shares."""
    parser.add_argument("matrix", type=Path, help="training haplotype matrix (from vcf-to-matrix)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="model file to write")
    parser.add_argument("--epochs", type=int, default=default_epochs, help="epochs to train (in total, counting a resumed run's)")
    parser.add_argument("--max-time", help="wall-clock budget such as 90s, 20m or 1h30m: stop cleanly after the epoch that reaches it")
    parser.add_argument("--batch-size", type=int, default=32, help="haplotypes per training batch")
    parser.add_argument("--seed", type=int, default=1, help="seed of initialisation, batches and noise")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="where to train")
    parser.add_argument("--checkpoint", type=Path, help="checkpoint file (default: OUTPUT with suffix .ckpt)")
    parser.add_argument("--checkpoint-every", type=int, default=50, help="epochs between checkpoints (and one at the end)")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    parser.add_argument("--monitor-every", type=int, default=50, help="epochs between monitoring rows (and one at the end)")
    parser.add_argument("--validation-size", type=int, default=1000, help="training haplotypes (and as many generated ones) monitoring compares")
    parser.add_argument("--early-stop", choices=EARLY_STOP_CHOICES, default="none",
                        help="aats: the model file keeps the monitored state whose AATS is closest to 0.5 (the latest "
                             "of those within --early-stop-tolerance of the closest)")
    parser.add_argument("--early-stop-tolerance", type=float, default=0.01,
                        help="AATS differences treated as ties, won by the later epoch (about the standard error of "
                             "AATS on 1000 validation haplotypes)")
    parser.add_argument("--history", type=Path, help="history TSV (default: OUTPUT with suffix .training.tsv); curves beside it as PNG/PDF")


def parse_duration(text: str | None) -> float | None:
    """Seconds in ``90``, ``90s``, ``20m``, ``1h30m``, ``2h``; None stays None.

    Example
    -------
    >>> parse_duration("1h30m"), parse_duration("20m"), parse_duration("45")
    (5400.0, 1200.0, 45.0)
    """
    if text is None:
        return None
    match = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text)
    if not match or not any(match.groups()):
        raise InputError(f"--max-time {text!r}: expected a duration such as 90s, 20m or 1h30m")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise InputError(f"--max-time {text!r}: the budget must be positive")
    return total


@dataclass
class TrainingPaths:
    model: Path
    checkpoint: Path
    history: Path


def training_paths(args: argparse.Namespace) -> TrainingPaths:
    """Where the model, its checkpoint and its history go."""
    base = args.output.with_suffix("") if args.output.suffix else args.output
    return TrainingPaths(model=args.output, checkpoint=args.checkpoint or base.with_suffix(".ckpt"),
                         history=args.history or Path(f"{base}.training.tsv"))


def check_training_options(args: argparse.Namespace) -> None:
    for name in ("epochs", "batch_size", "checkpoint_every", "monitor_every", "validation_size"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} must be >= 1")
    if not 0 <= args.early_stop_tolerance < 0.5:
        raise InputError("--early-stop-tolerance must be in [0, 0.5)")


@dataclass
class TrainingData:
    """The training haplotypes on the device, the condition labels (one-hot) if any, and what monitoring compares."""

    matrix: HaplotypeMatrix
    data: Any
    onehot: Any
    labels: list[str]
    label_frequencies: list[float]
    validation_index: np.ndarray
    allele_frequencies: np.ndarray


def prepare_data(matrix: HaplotypeMatrix, *, condition_on_population: bool, validation_size: int, seed: int,
                 device: str, path: Path) -> TrainingData:
    import torch

    if matrix.n_haplotypes < 2:
        raise InputError(f"{path}: at least 2 haplotypes are needed to train, found {matrix.n_haplotypes}")
    data = torch.as_tensor(matrix.haplotypes, device=device).to(torch.float32)
    onehot, labels, frequencies = None, [], []
    if condition_on_population:
        populations = matrix.haplotype_population
        if (populations == "").any():
            first = matrix.haplotype_sample[np.flatnonzero(populations == "")[0]]
            raise InputError(f"{path}: sample {first} has no population label; conditioning needs one for every "
                             "sample (vcf-to-matrix --populations)")
        labels_array, codes, counts = np.unique(populations, return_inverse=True, return_counts=True)
        if len(labels_array) < 2:
            raise InputError(f"{path}: conditioning on population needs at least 2 populations, found {len(labels_array)}")
        labels, frequencies = labels_array.tolist(), (counts / counts.sum()).tolist()
        onehot = torch.nn.functional.one_hot(torch.as_tensor(codes.reshape(-1)), len(labels)).to(torch.float32).to(device)
    size = min(validation_size, matrix.n_haplotypes)
    validation = np.sort(np.random.default_rng(seed).choice(matrix.n_haplotypes, size, replace=False))
    return TrainingData(matrix, data, onehot, labels, frequencies, validation,
                        fidelity.allele_frequencies(matrix.haplotypes))


SampleFunction = Callable[[int, Any, Any], np.ndarray]  # (n, torch generator, onehot or None) -> uint8 haplotypes


def train(model: Trainable, training: TrainingData, *, step: str, args: argparse.Namespace, paths: TrainingPaths,
          sample: SampleFunction, make_model_file: Callable[[dict[str, Any], dict[str, Any]], ModelFile],
          device: str) -> dict[str, Any]:
    """Run (or resume) training; write checkpoints, the model file, the history and curves. Returns a summary;
    ``model`` is left holding the weights written to the model file (the kept epoch's under early stopping)."""
    import torch

    budget = parse_duration(args.max_time)
    rng = torch.Generator(device=device).manual_seed(args.seed)
    history: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    epoch = 0
    if args.resume:
        epoch, history, best = _resume(model, rng, paths.checkpoint, device)
        if epoch >= args.epochs:
            raise InputError(f"{paths.checkpoint}: already trained {epoch} epochs; ask for more with --epochs")
        log(step, f"resuming from {paths.checkpoint} after epoch {epoch}")
    progress = Progress(step, unit="epochs", total=args.epochs - epoch, time_limit=budget)
    start = time.monotonic()
    stopped_by = "epochs"
    while epoch < args.epochs:
        epoch += 1
        try:
            row: dict[str, Any] = {"epoch": epoch, **model.train_epoch(training.data, training.onehot, rng)}
        except TrainingDiverged as err:
            if best is None:
                raise
            log(step, f"epoch {epoch}: {err}; keeping the early-stopping state of epoch {best['epoch']}")
            epoch -= 1  # the diverged epoch does not count as trained
            stopped_by = "diverged"
            break
        elapsed = time.monotonic() - start
        row["seconds"] = round(elapsed, 3)
        out_of_time = budget is not None and elapsed >= budget
        last = epoch == args.epochs or out_of_time
        if epoch % args.monitor_every == 0 or last:
            row.update(_monitor(training, sample, seed=args.seed, epoch=epoch, device=device))
            if args.early_stop == "aats":
                best = _keep_closest_to_half(best, row["aats"], epoch, model, tolerance=args.early_stop_tolerance)
        history.append(row)
        progress.update(1, **{k: v for k, v in row.items() if k not in ("epoch", "seconds")})
        if epoch % args.checkpoint_every == 0 or last:
            state = {"epoch": epoch, "optimizer": model.optimizer_state(), "rng": rng.get_state(),
                     "history": json.dumps(history), "best": best}
            save_model_file(paths.checkpoint, make_model_file(model.weights(), state))
        if out_of_time and epoch < args.epochs:
            stopped_by = "max_time"
            log(step, f"time budget {args.max_time} reached after epoch {epoch}; stopping")
            break
    progress.close()
    if best is not None:
        model.load_weights(best["weights"])  # the caller goes on with the kept state
    weights = model.weights()
    summary = {"epochs_trained": epoch, "stopped_by": stopped_by, "seconds_this_run": round(time.monotonic() - start, 3),
               "kept_epoch": best["epoch"] if best is not None else epoch,
               "final": {k: v for k, v in history[-1].items() if k != "epoch"} if history else {}}
    final = make_model_file(weights, None)
    final.provenance[-1]["summary"] = summary
    save_model_file(paths.model, final)
    write_history(paths.history, history, kept_epoch=summary["kept_epoch"])
    return summary


def _keep_closest_to_half(best: dict[str, Any] | None, aats: float, epoch: int, model: Trainable, *,
                          tolerance: float) -> dict[str, Any]:
    """The state early stopping keeps: this epoch's when its AATS is within ``tolerance`` of the closest to 0.5
    seen so far, else ``best`` unchanged. Ties within the monitoring's sampling noise thus go to the later,
    better trained epoch instead of the first that came near 0.5."""
    distance = abs(aats - 0.5)
    closest = distance if best is None else min(best["closest"], distance)
    if best is not None and distance > closest + tolerance:
        return best
    return {"epoch": epoch, "aats": aats, "closest": closest,
            "weights": {k: v.detach().clone() for k, v in model.weights().items()}}


def _resume(model: Trainable, rng: Any, checkpoint: Path, device: str) -> tuple[int, list[dict[str, Any]], dict | None]:
    saved = load_model_file(checkpoint, map_location=device)
    if saved.training is None:
        raise InputError(f"{checkpoint}: a model file, not a checkpoint; nothing to resume")
    if saved.kind != model.kind or saved.config != model.config:
        raise InputError(f"{checkpoint}: was trained with another model or configuration "
                         f"({saved.kind} {saved.config}); resume needs the same options")
    model.load_weights(saved.weights)
    model.load_optimizer_state(saved.training["optimizer"])
    rng.set_state(saved.training["rng"].cpu())
    return int(saved.training["epoch"]), json.loads(saved.training["history"]), saved.training["best"]


def _monitor(training: TrainingData, sample: SampleFunction, *, seed: int, epoch: int, device: str) -> dict[str, float | None]:
    import torch

    rng = torch.Generator(device=device).manual_seed(seed * 1_000_003 + epoch)
    index = training.validation_index
    onehot = None if training.onehot is None else training.onehot[torch.as_tensor(index, device=device)]
    generated = sample(len(index), rng, onehot)
    real = training.matrix.haplotypes[index]
    aats = adversarial_accuracy(real, generated, repeats=1, rng=np.random.default_rng(seed), device=device)
    frequencies = fidelity.allele_frequencies(generated)
    return {"aats": aats.aats, "af_r": fidelity.pearson(training.allele_frequencies, frequencies),
            "fixed_fraction": fidelity.fixed_fraction(training.allele_frequencies, frequencies)}


def write_history(path: Path, history: list[dict[str, Any]], *, kept_epoch: int) -> None:
    """The history as TSV (one row per epoch, NA where not monitored) and its curves as PNG and PDF."""
    columns = list(dict.fromkeys(key for row in history for key in row))
    with atomic_outputs(path) as (temp,):
        lines = ["\t".join(columns)]
        lines += ["\t".join(format_value(row.get(c), ".6g") for c in columns) for row in history]
        temp.write_text("\n".join(lines) + "\n")
    losses = [c for c in columns if c not in ("epoch", "seconds", "aats", "af_r", "fixed_fraction")]
    fig = new_figure(10, 3.6)
    left, right = fig.subplots(1, 2)
    epochs = [row["epoch"] for row in history]
    for column in losses:
        left.plot(epochs, [row.get(column, np.nan) for row in history], label=column)
    left.set_xlabel("epoch")
    left.set_ylabel("loss")
    left.legend(fontsize="small")
    monitored = [row for row in history if row.get("aats") is not None]
    for column in ("aats", "af_r", "fixed_fraction"):
        right.plot([r["epoch"] for r in monitored], [np.nan if r[column] is None else r[column] for r in monitored],
                   marker=".", label=column)
    right.axhline(0.5, color="grey", linestyle=":", linewidth=0.8)
    right.axvline(kept_epoch, color="black", linestyle="--", linewidth=0.8, label=f"kept (epoch {kept_epoch})")
    right.set_xlabel("epoch")
    right.set_ylim(0, 1.02)
    right.legend(fontsize="small")
    save_figure_beside(fig, path)
