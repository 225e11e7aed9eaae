"""train-gan: train a WGAN-GP (the default), the paper's GAN (preset yelmen2021) or a convolutional WGAN-GP for
large windows (conv-wgan-gp) on a haplotype matrix or one window of it, optionally conditioned on population and
on the sites before the window, and write a model file that sample needs nothing else to use."""

from __future__ import annotations

import argparse

from genosynth.generate.models.gan import PRESETS
from genosynth.generate.training import train_gan
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

STEP = "train-gan"
SUMMARY = "Train a GAN (WGAN-GP, the paper's GAN or a convolutional WGAN-GP) on a haplotype matrix."
DESCRIPTION = (
    "Train a generative adversarial network on real haplotypes: a Wasserstein GAN with gradient penalty "
    "(preset wgan-gp, the default), the fully connected GAN of Yelmen et al. 2021 (yelmen2021) or the "
    "convolutional WGAN-GP of Yelmen et al. 2023 for large windows (conv-wgan-gp), optionally "
    "conditioned on population; checkpoints, resume, monitoring against held-out haplotypes, and early "
    "stopping at the most faithful state within a privacy limit."
)

derived_outputs = training_outputs  # the checkpoint, history and curves beside the model
kept_when_stopped = training_checkpoint


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser, trainer=train_gan)
    parser.add_argument(
        "--preset",
        choices=PRESETS,
        default="wgan-gp",
        help="architecture and training recipe: wgan-gp, the most faithful within 20 CPU minutes on the "
        "805-SNP data; yelmen2021, the paper's GAN, which needs its 20000 epochs; conv-wgan-gp, the "
        "convolutional WGAN-GP of Yelmen et al. 2023 for windows of 1,000 to 65,536 sites",
    )
    parser.add_argument("--condition-on", choices=("population",), help="learn one generator conditioned on this label")
    parser.add_argument(
        "--lr-discriminator",
        type=POSITIVE,
        help="discriminator (critic) learning rate (default: yelmen2021 8e-4, or 8e-5 from 5000 sites; wgan-gp 1e-4)",
    )
    parser.add_argument(
        "--lr-generator",
        type=POSITIVE,
        help="generator learning rate (default: yelmen2021 1e-4, or 1e-5 from 5000 sites; wgan-gp 1e-4)",
    )
    parser.add_argument(
        "--latent-size",
        type=at_least(1),
        help="size of the generator's standard normal input (default: 600, conv-wgan-gp 128)",
    )


def run(args: argparse.Namespace) -> None:
    paths = TrainingPaths.of(args)
    model = train_gan(
        read_training_matrix(args, args.matrix),
        preset=args.preset,
        condition_on=args.condition_on,
        lr_discriminator=args.lr_discriminator,
        lr_generator=args.lr_generator,
        latent_size=args.latent_size,
        **training_options(args, paths),
    )
    write_training_outputs(STEP, model, paths)
