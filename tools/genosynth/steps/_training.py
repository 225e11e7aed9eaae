"""The command-line options every trainer shares, and what a training step writes: the model file, the history
table with its curves, beside the checkpoint."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genosynth._infra.atomic import atomic_group
from genosynth._infra.errors import OptionError
from genosynth._infra.options import options_of
from genosynth._infra.progress import log
from genosynth.generate.trained import Model
from genosynth.generate.training import TrainingOptions
from genosynth.io.hdf5 import read_matrix
from genosynth.io.matrix import HaplotypeMatrix
from genosynth.io.windows import MAX_CONTEXT_SITES
from genosynth.steps._compute import add_compute_arguments, compute_device
from genosynth.steps._options import add_options, option_values
from genosynth.steps._paths import figures_beside
from genosynth.steps._types import OUTPUT_FILE, Bounded

TRAINING_OPTIONS = [field.name for field, _ in options_of(TrainingOptions)]


def add_training_arguments(parser: argparse.ArgumentParser, *, trainer: Callable[..., Model]) -> None:
    """The options of :class:`~genosynth.generate.training.TrainingOptions` (built from its fields, ``--epochs``
    defaulting to ``trainer``'s), the window's, and where the outputs go."""
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
        default=inspect.signature(trainer).parameters["context_sites"].default,
        help="with --region: condition the model on this many sites before the window (fewer near "
        "the chromosome's start), so that sample chains the windows of a chromosome into one "
        "sequence",
    )
    add_options(parser, TrainingOptions, defaults={"epochs": inspect.signature(trainer).parameters["epochs"].default})
    add_compute_arguments(parser, device_help="where to train")
    parser.add_argument("--checkpoint", type=OUTPUT_FILE, help="checkpoint file (default: OUTPUT with suffix .ckpt)")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    parser.add_argument(
        "--holdout",
        type=Path,
        help="held-out haplotype matrix (vcf-to-matrix --holdout-output): monitoring measures the "
        "privacy loss against it",
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
        **option_values(args, TRAINING_OPTIONS),
        "device": compute_device(args),
        "checkpoint": paths.checkpoint,
        "resume": args.resume,
        "holdout": read_training_matrix(args, args.holdout) if args.holdout else None,
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
