"""train-rbm: train the paper's restricted Boltzmann machine (PCD-k) on a haplotype matrix, write a model file,
and the hidden representation of the training haplotypes (TSV and a plot coloured by population)."""

from __future__ import annotations

import argparse
from pathlib import Path

from genosynth._infra.atomic import atomic_group
from genosynth._infra.progress import log
from genosynth.assess.fidelity import principal_components
from genosynth.generate.models.rbm import CHAIN_SWEEPS, HIDDEN_TYPES
from genosynth.generate.training import train_rbm
from genosynth.io.windows import split_window
from genosynth.reports.training import write_hidden_representation
from genosynth.steps._paths import figures_beside
from genosynth.steps._training import (
    TrainingPaths,
    add_training_arguments,
    read_training_matrix,
    training_checkpoint,
    training_options,
    training_outputs,
    write_training_outputs,
)
from genosynth.steps._types import OUTPUT_FILE, POSITIVE, at_least

STEP = "train-rbm"
SUMMARY = "Train the paper's restricted Boltzmann machine on a haplotype matrix."
DESCRIPTION = (
    "Train a restricted Boltzmann machine on real haplotypes (Bernoulli visible units, ReLU or sigmoid "
    "hidden units, persistent contrastive divergence) as in Yelmen et al. 2021; checkpoints, resume, "
    "monitoring, early stopping at AATS 0.5, and the hidden representation of the training haplotypes."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser, trainer=train_rbm)
    parser.add_argument(
        "--hidden-units", type=at_least(1), help="hidden units (default 100 up to 1000 sites, 500 above)"
    )
    parser.add_argument(
        "--hidden",
        choices=HIDDEN_TYPES,
        default="relu",
        help="relu: Gaussian units rectified at 0 (truncated normal, the paper's); sigmoid: binary units",
    )
    parser.add_argument(
        "--k", type=at_least(1), default=10, help="Gibbs sweeps of the persistent chains per batch (PCD-k)"
    )
    parser.add_argument(
        "--chains",
        type=at_least(1),
        default=100,
        help="persistent chains (100-500; each epoch costs about k x chains x batches sweeps)",
    )
    parser.add_argument(
        "--lr",
        type=POSITIVE,
        default=3e-3,
        help="learning rate (on the 805-SNP data with centring, 1e-2 diverged with ReLU hidden units)",
    )
    parser.add_argument(
        "--no-centering",
        dest="centered",
        action="store_false",
        help="plain gradient <v h>_data - <v h>_model instead of the centred one (Melchior et al. 2016)",
    )
    parser.add_argument(
        "--monitor-gibbs-steps",
        type=at_least(1),
        default=CHAIN_SWEEPS,
        help="Gibbs sweeps from the persistent chains for the haplotypes monitoring compares (sample's "
        "default, so monitoring judges what sampling gives)",
    )
    parser.add_argument(
        "--hidden-output",
        type=OUTPUT_FILE,
        help="hidden representation TSV (default: OUTPUT with suffix .hidden.tsv); plot beside it",
    )


kept_when_stopped = training_checkpoint


def derived_outputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """The trainer's files beside the model, and the hidden representation's table and plot."""
    hidden = _hidden_path(args)
    derived = [] if args.hidden_output else [("-o (its hidden representation, .hidden.tsv)", hidden)]
    return training_outputs(args) + derived + [("--hidden-output (its plot)", path) for path in figures_beside(hidden)]


def _hidden_path(args: argparse.Namespace) -> Path:
    return args.hidden_output or Path(f"{TrainingPaths.of(args).model.with_suffix('')}.hidden.tsv")


def run(args: argparse.Namespace) -> None:
    paths = TrainingPaths.of(args)
    matrix = read_training_matrix(args, args.matrix)
    model = train_rbm(
        matrix,
        hidden_units=args.hidden_units,
        hidden=args.hidden,
        k=args.k,
        chains=args.chains,
        lr=args.lr,
        centered=args.centered,
        monitor_gibbs_steps=args.monitor_gibbs_steps,
        **training_options(args, paths),
    )
    hidden_path = _hidden_path(args)
    window = split_window(matrix, args.region, context_sites=model.context_sites)
    hidden = model.generator.hidden_representation(window.matrix.haplotypes, window.context.haplotypes)
    with atomic_group():  # the model, its history and the hidden representation: all or none
        write_training_outputs(STEP, model, paths)
        pca = principal_components(hidden, n_components=2, seed=args.seed, device=model.generator.device)
        write_hidden_representation(hidden_path, hidden, window.matrix, pca=pca)
    log(STEP, f"hidden representation in {hidden_path}")
