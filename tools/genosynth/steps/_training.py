"""The command-line options every trainer shares, and what a training step writes: the model file, the history
table with its curves, beside the checkpoint."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genosynth._infra.atomic import atomic_group
from genosynth._infra.errors import OptionError
from genosynth._infra.progress import log
from genosynth.generate.monitoring import EARLY_STOP_CHOICES
from genosynth.generate.trained import Model
from genosynth.io.hdf5 import read_matrix
from genosynth.io.matrix import HaplotypeMatrix
from genosynth.io.windows import MAX_CONTEXT_SITES
from genosynth.steps._compute import add_compute_arguments, compute_device
from genosynth.steps._paths import figures_beside
from genosynth.steps._types import OUTPUT_FILE, Bounded, at_least


def add_training_arguments(parser: argparse.ArgumentParser, *, default_epochs: int) -> None:
    """The options of :class:`~genosynth.generate.training.TrainingOptions`, and where the outputs go."""
    parser.add_argument("matrix", type=Path, help="training haplotype matrix (from vcf-to-matrix)")
    parser.add_argument("-o", "--output", type=OUTPUT_FILE, required=True, help="model file to write (.safetensors)")
    parser.add_argument(
        "--region",
        help="train on this window of the matrix only (CHR:START-END, 1-based inclusive); only its "
        "sites and the context's are read from the matrix",
    )
    parser.add_argument(
        "--context-sites",
        type=Bounded(int, minimum=0, maximum=MAX_CONTEXT_SITES),
        default=0,
        help="with --region: condition the model on this many sites before the window (fewer near "
        "the chromosome's start), so that sample chains the windows of a chromosome into one "
        "sequence",
    )
    parser.add_argument(
        "--epochs",
        type=at_least(1),
        default=default_epochs,
        help="epochs to train (in total, counting a resumed run's)",
    )
    parser.add_argument(
        "--max-time", help="wall-clock budget such as 90s, 20m or 1h30m: stop cleanly after the epoch that reaches it"
    )
    parser.add_argument("--batch-size", type=at_least(1), default=32, help="haplotypes per training batch")
    parser.add_argument("--seed", type=int, default=1, help="seed of initialisation, batches and noise")
    add_compute_arguments(parser, device_help="where to train")
    parser.add_argument("--checkpoint", type=OUTPUT_FILE, help="checkpoint file (default: OUTPUT with suffix .ckpt)")
    parser.add_argument(
        "--checkpoint-every", type=at_least(1), default=50, help="epochs between checkpoints (and one at the end)"
    )
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    parser.add_argument(
        "--monitor-every", type=at_least(1), default=50, help="epochs between monitoring rows (and one at the end)"
    )
    parser.add_argument(
        "--validation-size",
        type=at_least(1),
        default=1000,
        help="training haplotypes (and as many held-out and generated ones) monitoring compares",
    )
    parser.add_argument(
        "--holdout",
        type=Path,
        help="held-out haplotype matrix (vcf-to-matrix --holdout-output): monitoring measures the "
        "privacy loss against it",
    )
    parser.add_argument(
        "--early-stop",
        choices=EARLY_STOP_CHOICES,
        default="none",
        help="which monitored state the model file keeps: aats, the one whose worse AA half is nearest "
        "0.5; fidelity (needs --holdout), the best by AA balance, AF r and LD r among those whose "
        "privacy loss plus its standard error is within --max-privacy-loss, else the one with the "
        "lowest privacy loss; none, the last",
    )
    parser.add_argument(
        "--early-stop-tolerance",
        type=Bounded(float, minimum=0, below=0.5),
        default=0.01,
        help="score differences treated as ties, won by the later epoch (about the standard error of "
        "AATS on 1000 validation haplotypes)",
    )
    parser.add_argument(
        "--max-privacy-loss",
        type=Bounded(float, minimum=-1, maximum=1),
        default=0.05,
        help="--early-stop fidelity keeps only states whose privacy loss (plus its standard error) is at most this",
    )
    parser.add_argument(
        "--history",
        type=OUTPUT_FILE,
        help="history TSV (default: OUTPUT with suffix .training.tsv); curves beside it as PNG/PDF",
    )


@dataclass
class TrainingPaths:
    model: Path
    checkpoint: Path
    history: Path

    @classmethod
    def of(cls, args: argparse.Namespace) -> TrainingPaths:
        base = args.output.with_suffix("") if args.output.suffix else args.output
        return cls(
            model=args.output,
            checkpoint=args.checkpoint or Path(f"{base}.ckpt"),
            history=args.history or Path(f"{base}.training.tsv"),
        )


def training_outputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """The files a trainer writes beside its model: the default checkpoint and history, the history's curves."""
    paths = TrainingPaths.of(args)
    derived = [] if args.checkpoint else [("-o (its checkpoint, .ckpt)", paths.checkpoint)]
    derived += [] if args.history else [("-o (its history, .training.tsv)", paths.history)]
    return derived + [("--history (its curves)", path) for path in figures_beside(paths.history)]


def training_checkpoint(args: argparse.Namespace) -> list[Path]:
    """The checkpoint a stopped training run keeps (the command line's ``kept_when_stopped``)."""
    return [TrainingPaths.of(args).checkpoint]


def read_training_matrix(args: argparse.Namespace, path: Path) -> HaplotypeMatrix:
    """The matrix at ``path``: with --region only the window and the sites before it that the window's context
    and the record of the site before it need."""
    return (
        read_matrix(path, region=args.region, preceding_sites=max(1, args.context_sites))
        if args.region
        else read_matrix(path)
    )


def training_options(args: argparse.Namespace, paths: TrainingPaths) -> dict[str, Any]:
    """The TrainingOptions keywords of the parsed options, with the window's."""
    if args.context_sites and args.region is None:
        raise OptionError("context_sites", f"{args.context_sites}: the context precedes a window; give --region")
    return {
        "region": args.region,
        "context_sites": args.context_sites,
        "epochs": args.epochs,
        "max_time": args.max_time,
        "seed": args.seed,
        "device": compute_device(args),
        "checkpoint": paths.checkpoint,
        "checkpoint_every": args.checkpoint_every,
        "resume": args.resume,
        "monitor_every": args.monitor_every,
        "validation_size": args.validation_size,
        "holdout": read_training_matrix(args, args.holdout) if args.holdout else None,
        "early_stop": args.early_stop,
        "early_stop_tolerance": args.early_stop_tolerance,
        "max_privacy_loss": args.max_privacy_loss,
        "batch_size": args.batch_size,
    }


def write_training_outputs(step: str, model: Model, paths: TrainingPaths) -> None:
    """The model file and the history with its curves, all or none (in an enclosing atomic group, with its outputs)."""
    with atomic_group():
        model.save(paths.model)
        model.write_history(paths.history)
    summary = model.training_summary
    log(
        step,
        f"trained {summary['epochs_trained']} epochs ({summary['stopped_by']}), kept epoch "
        f"{summary['kept_epoch']}; model in {paths.model}",
    )
