"""train-gan: train a WGAN-GP (the default) or the paper's GAN (preset yelmen2021) on a haplotype matrix,
optionally conditioned on population, and write a model file that sample needs nothing else to use."""

from __future__ import annotations

import argparse

from ..formats.hdf5 import read_matrix
from ..models.gan import PRESETS
from ..training import train_gan
from ._types import POSITIVE, at_least
from ._training import TrainingPaths, add_training_arguments, training_options, write_training_outputs

STEP = "train-gan"
DESCRIPTION = ("Train a generative adversarial network on real haplotypes: a Wasserstein GAN with gradient penalty "
               "(preset wgan-gp, the default) or the fully connected GAN of Yelmen et al. 2021 (yelmen2021), optionally "
               "conditioned on population; checkpoints, resume, monitoring against held-out haplotypes, and early "
               "stopping at the most faithful state within a privacy limit.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser, default_epochs=20000)
    parser.add_argument("--preset", choices=PRESETS, default="wgan-gp",
                        help="architecture and training recipe: wgan-gp meets the fidelity targets within 20 CPU minutes "
                             "on the 805-SNP data; yelmen2021 is the paper's GAN, which needs its 20000 epochs")
    parser.add_argument("--condition-on", choices=("population",), help="learn one generator conditioned on this label")
    parser.add_argument("--lr-discriminator", type=POSITIVE,
                        help="discriminator (critic) learning rate (default: yelmen2021 8e-4, or 8e-5 from 5000 sites; wgan-gp 1e-4)")
    parser.add_argument("--lr-generator", type=POSITIVE,
                        help="generator learning rate (default: yelmen2021 1e-4, or 1e-5 from 5000 sites; wgan-gp 1e-4)")
    parser.add_argument("--latent-size", type=at_least(1), default=600, help="size of the generator's standard normal input")


def run(args: argparse.Namespace) -> None:
    paths = TrainingPaths.of(args)
    model = train_gan(read_matrix(args.matrix), preset=args.preset, condition_on=args.condition_on,
                      lr_discriminator=args.lr_discriminator, lr_generator=args.lr_generator,
                      latent_size=args.latent_size, **training_options(args, paths))
    write_training_outputs(STEP, model, paths)
