"""train-gan: train the paper's GAN (preset yelmen2021) or a WGAN-GP on a haplotype matrix, optionally
conditioned on population, and write a model file that sample needs nothing else to use."""

from __future__ import annotations

import argparse

from ..devices import resolve_device
from ..errors import InputError
from ..matrix import read_matrix
from ..model_files import ModelFile
from ..models.gan import PRESETS, GanModel, gan_config
from ..progress import log
from ..provenance import make_record, parameters_of
from ..training import add_training_arguments, check_training_options, prepare_data, train, training_paths

STEP = "train-gan"
DESCRIPTION = ("Train a generative adversarial network on real haplotypes: the fully connected GAN of Yelmen et al. "
               "2021 (preset yelmen2021) or a Wasserstein GAN with gradient penalty (wgan-gp), optionally conditioned "
               "on population; checkpoints, resume, monitoring and early stopping at AATS 0.5.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser, default_epochs=20000)
    parser.add_argument("--preset", choices=PRESETS, default="yelmen2021", help="architecture and training recipe")
    parser.add_argument("--condition-on", choices=("population",), help="learn one generator conditioned on this label")
    parser.add_argument("--lr-discriminator", type=float,
                        help="discriminator (critic) learning rate (default: yelmen2021 8e-4, or 8e-5 from 5000 sites; wgan-gp 1e-4)")
    parser.add_argument("--lr-generator", type=float,
                        help="generator learning rate (default: yelmen2021 1e-4, or 1e-5 from 5000 sites; wgan-gp 1e-4)")
    parser.add_argument("--latent-size", type=int, default=600, help="size of the generator's standard normal input")


def run(args: argparse.Namespace) -> None:
    check_training_options(args)
    for name in ("lr_discriminator", "lr_generator"):
        if getattr(args, name) is not None and not getattr(args, name) > 0:
            raise InputError(f"--{name.replace('_', '-')} must be > 0")
    if args.latent_size < 1:
        raise InputError("--latent-size must be >= 1")
    device = resolve_device(args.device)
    matrix = read_matrix(args.matrix)
    training = prepare_data(matrix, condition_on_population=args.condition_on == "population",
                            validation_size=args.validation_size, seed=args.seed, device=device, path=args.matrix)
    config = gan_config(preset=args.preset, n_sites=matrix.n_sites, n_classes=len(training.labels),
                        batch_size=args.batch_size, lr_discriminator=args.lr_discriminator,
                        lr_generator=args.lr_generator, latent_size=args.latent_size)
    model = GanModel(config, device, seed=args.seed)
    record = make_record(STEP, parameters=parameters_of(args), seed=args.seed, inputs=[args.matrix])
    log(STEP, f"{args.preset} on {matrix.n_haplotypes} haplotypes x {matrix.n_sites} sites"
              + (f", conditioned on {len(training.labels)} populations" if training.labels else "") + f", on {device}")

    def model_file(weights, state):
        return ModelFile(kind="gan", config=config, weights=weights, sites=matrix.sites, populations=training.labels,
                         population_frequencies=training.label_frequencies,
                         provenance=matrix.provenance + [dict(record)], training=state)

    summary = train(model, training, step=STEP, args=args, paths=training_paths(args),
                    sample=lambda n, rng, onehot: model.generate(n, rng, onehot=onehot),
                    make_model_file=model_file, device=device)
    log(STEP, f"trained {summary['epochs_trained']} epochs ({summary['stopped_by']}), kept epoch "
              f"{summary['kept_epoch']}; model in {args.output}")
