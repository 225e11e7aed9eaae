"""train-rbm: train the paper's restricted Boltzmann machine (PCD-k) on a haplotype matrix, write a model file,
and the hidden representation of the training haplotypes (TSV and a plot coloured by population)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from .. import fidelity
from ..atomic import atomic_outputs
from ..devices import resolve_device
from ..errors import InputError
from ..matrix import read_matrix
from ..model_files import ModelFile
from ..models.rbm import HIDDEN_TYPES, RbmModel, rbm_config
from ..progress import log
from ..provenance import make_record, parameters_of
from ..report import new_figure, save_figure_beside
from ..training import add_training_arguments, check_training_options, prepare_data, train, training_paths

STEP = "train-rbm"
DESCRIPTION = ("Train a restricted Boltzmann machine on real haplotypes (Bernoulli visible units, ReLU or sigmoid "
               "hidden units, persistent contrastive divergence) as in Yelmen et al. 2021; checkpoints, resume, "
               "monitoring, early stopping at AATS 0.5, and the hidden representation of the training haplotypes.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser, default_epochs=800)
    parser.add_argument("--hidden-units", type=int, help="hidden units (default 100 up to 1000 sites, 500 above)")
    parser.add_argument("--hidden", choices=HIDDEN_TYPES, default="relu",
                        help="relu: Gaussian units rectified at 0 (truncated normal, the paper's); sigmoid: binary units")
    parser.add_argument("--k", type=int, default=10, help="Gibbs sweeps of the persistent chains per batch (PCD-k)")
    parser.add_argument("--chains", type=int, default=100,
                        help="persistent chains (100-500; each epoch costs about k x chains x batches sweeps)")
    parser.add_argument("--lr", type=float, default=3e-3,
                        help="learning rate (on the 805-SNP data with centring, 1e-2 diverged with ReLU hidden units; "
                             "3e-3 reached LD r 0.86 in 58 epochs)")
    parser.add_argument("--no-centering", dest="centered", action="store_false",
                        help="plain gradient <v h>_data - <v h>_model instead of the centred one (Melchior et al. 2016)")
    parser.add_argument("--monitor-gibbs-steps", type=int, default=200,
                        help="Gibbs sweeps from the persistent chains for the haplotypes monitoring compares")
    parser.add_argument("--hidden-output", type=Path,
                        help="hidden representation TSV (default: OUTPUT with suffix .hidden.tsv); plot beside it")


def run(args: argparse.Namespace) -> None:
    check_training_options(args)
    for name in ("k", "chains", "monitor_gibbs_steps"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} must be >= 1")
    if args.hidden_units is not None and args.hidden_units < 1:
        raise InputError("--hidden-units must be >= 1")
    if not args.lr > 0:
        raise InputError("--lr must be > 0")
    device = resolve_device(args.device)
    matrix = read_matrix(args.matrix)
    training = prepare_data(matrix, condition_on_population=False, validation_size=args.validation_size,
                            seed=args.seed, device=device, path=args.matrix)
    config = rbm_config(n_sites=matrix.n_sites, n_hidden=args.hidden_units, hidden=args.hidden, k=args.k,
                        chains=args.chains, lr=args.lr, batch_size=args.batch_size, centered=args.centered)
    model = RbmModel(config, device, seed=args.seed, frequencies=training.allele_frequencies)
    record = make_record(STEP, parameters=parameters_of(args), seed=args.seed, inputs=[args.matrix])
    log(STEP, f"{config['n_hidden']} {args.hidden} hidden units on {matrix.n_haplotypes} haplotypes x "
              f"{matrix.n_sites} sites, on {device}")

    def model_file(weights, state):
        return ModelFile(kind="rbm", config=config, weights=weights, sites=matrix.sites,
                         provenance=matrix.provenance + [dict(record)], training=state)

    paths = training_paths(args)
    summary = train(model, training, step=STEP, args=args, paths=paths,
                    sample=lambda n, rng, onehot: model.generate(n, rng, steps=args.monitor_gibbs_steps),
                    make_model_file=model_file, device=device)
    hidden_path = args.hidden_output or Path(f"{paths.model.with_suffix('')}.hidden.tsv")
    _write_hidden_representation(model, training.data, matrix, hidden_path, seed=args.seed, device=device)
    log(STEP, f"trained {summary['epochs_trained']} epochs ({summary['stopped_by']}), kept epoch "
              f"{summary['kept_epoch']}; model in {args.output}, hidden representation in {hidden_path}")


def _write_hidden_representation(model: RbmModel, data, matrix, path: Path, *, seed: int, device: str) -> None:
    """E[h | v] of every training haplotype as TSV, and its first two principal components by population."""
    import torch

    with torch.no_grad():
        hidden = model.hidden_mean(data).cpu().numpy()
    header = ["sample", "haplotype", "population"] + [f"h{j + 1}" for j in range(hidden.shape[1])]
    rows = zip(matrix.haplotype_sample, matrix.haplotype_index, matrix.haplotype_population, hidden)
    with atomic_outputs(path) as (temp,):
        with open(temp, "w") as handle:
            handle.write("\t".join(header) + "\n")
            for sample, index, population, values in rows:
                handle.write(f"{sample}\t{index}\t{population}\t" + "\t".join(f"{v:.5g}" for v in values) + "\n")
    pca = fidelity.principal_components(hidden, n_components=2, seed=seed, device=device)
    fig = new_figure(5.5, 4.5)
    ax = fig.add_subplot()
    populations = matrix.haplotype_population
    for population in np.unique(populations):
        shown = populations == population
        ax.scatter(pca.scores[shown, 0], pca.scores[shown, 1], s=4, alpha=0.6, rasterized=True,
                   label=population or "(no label)")
    ax.set_xlabel(f"hidden PC1 ({pca.explained_variance_ratio[0]:.1%})")
    ax.set_ylabel(f"hidden PC2 ({pca.explained_variance_ratio[1]:.1%})")
    ax.set_title("RBM hidden representation of the training haplotypes", fontsize="medium")
    ax.legend(markerscale=3, fontsize="small")
    save_figure_beside(fig, path)
