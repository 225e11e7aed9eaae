"""train-diffusion: train a denoising diffusion model (a 1-D convolutional U-Net over ±1 alleles, or an MLP over
principal components) on a haplotype matrix or one window of it, optionally conditioned on population, and write
a model file that sample draws from by DPM-Solver++."""

from __future__ import annotations

import argparse

from genosynth._infra.errors import OptionError
from genosynth.generate.models.diffusion import DEFAULT_STEPS, REPRESENTATIONS
from genosynth.generate.training import train_diffusion
from genosynth.steps._training import (
    TrainingPaths,
    add_training_arguments,
    read_training_matrix,
    training_checkpoint,
    training_options,
    training_outputs,
    write_training_outputs,
)
from genosynth.steps._types import POSITIVE, at_least

STEP = "train-diffusion"
SUMMARY = "Train a denoising diffusion model on a haplotype matrix."
DESCRIPTION = (
    "Train a denoising diffusion model on real haplotypes (Kenneweg et al. 2024): Gaussian diffusion of "
    "±1 alleles denoised by a 1-D convolutional U-Net over the sites (representation sites) or "
    "of principal components denoised by an MLP (pca, the default), cosine schedule, v-prediction, weights averaged "
    "for sampling; optionally conditioned on population (classifier-free guidance at sampling) and on the "
    "sites before a window; checkpoints, resume, monitoring and early stopping as the other trainers."
)

derived_outputs = training_outputs  # the checkpoint, history and curves beside the model
kept_when_stopped = training_checkpoint


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser, trainer=train_diffusion)
    parser.add_argument(
        "--representation",
        choices=REPRESENTATIONS,
        help="sites: ±1 alleles denoised by a U-Net over the site axis (keeps rare variants and fine "
        "LD; a GPU model on large windows); pca: scaled principal components denoised by an MLP, as Kenneweg et "
        "al. 2024 (default: pca, which met every target in CPU minutes where the U-Net was still learning; "
        "sites under differentially private training)",
    )
    parser.add_argument(
        "--condition-on",
        choices=("population",),
        help="learn one model conditioned on this label (sample --population, --guidance)",
    )
    parser.add_argument(
        "--channels",
        type=at_least(8),
        default=32,
        help="sites: the U-Net's channels at its finest level, doubling at each coarser one",
    )
    parser.add_argument(
        "--max-channels",
        type=at_least(8),
        default=128,
        help="sites: the U-Net's channels at its coarsest levels (at least --channels)",
    )
    parser.add_argument(
        "--patch",
        type=at_least(1),
        default=8,
        help="sites: sites per U-Net position (its finest level); fewer is slower and finer",
    )
    parser.add_argument(
        "--pca-components",
        type=at_least(1),
        help="pca: principal components diffused (default: as many as the data allows, at most 256)",
    )
    parser.add_argument("--mlp-width", type=at_least(8), default=1024, help="pca: width of the denoising MLP")
    parser.add_argument("--lr", type=POSITIVE, default=1e-3, help="Adam learning rate")
    parser.add_argument(
        "--no-self-conditioning",
        dest="self_conditioning",
        action="store_false",
        help="do not give the denoiser its own previous estimate of the clean haplotypes (self-"
        "conditioning, Chen et al. 2023, which binary data gain most from)",
    )
    parser.add_argument(
        "--monitor-steps",
        type=at_least(1),
        default=DEFAULT_STEPS,
        help="sampler steps of the haplotypes monitoring compares (sample's default, so monitoring "
        "judges what sampling gives)",
    )


def run(args: argparse.Namespace) -> None:
    if args.representation == "sites" and args.pca_components is not None:
        raise OptionError("pca_components", "applies to --representation pca")
    paths = TrainingPaths.of(args)
    model = train_diffusion(
        read_training_matrix(args, args.matrix),
        representation=args.representation,
        condition_on=args.condition_on,
        channels=(args.channels, args.max_channels),
        patch=args.patch,
        pca_components=args.pca_components,
        mlp_width=args.mlp_width,
        lr=args.lr,
        self_conditioning=args.self_conditioning,
        monitor_steps=args.monitor_steps,
        **training_options(args, paths),
    )
    write_training_outputs(STEP, model, paths)
