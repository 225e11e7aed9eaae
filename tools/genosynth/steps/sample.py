"""sample: draw artificial haplotypes from a trained GAN or RBM model file, or from a Bernoulli or Markov-chain
baseline fitted on a reference matrix, and write them as a matrix, VCF or .hapt."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..devices import DEVICE_CHOICES, resolve_device
from ..errors import InputError
from ..haplotype_sets import output_suffix, read_haplotype_set, require_same_sites, write_haplotype_set
from ..matrix import HaplotypeMatrix, read_matrix
from ..model_files import ModelFile, load_model_file
from ..models.baselines import MAX_WINDOW, bernoulli_haplotypes, markov_haplotypes
from ..models.gan import GanModel
from ..models.rbm import STARTS as RBM_STARTS
from ..models.rbm import CHAIN_SWEEPS, OTHER_START_SWEEPS, RbmModel
from ..progress import Progress, log
from ..provenance import make_record, parameters_of, resolve_seed

STEP = "sample"
DESCRIPTION = ("Generate artificial haplotypes from a model file (train-gan, train-rbm) or a baseline without a "
               "model (--baseline bernoulli|markov --reference MATRIX); write a matrix (.h5), VCF (.vcf, .vcf.gz "
               "bgzipped and indexed) or .hapt[.gz] with the training sites.")
BASELINES = ("bernoulli", "markov")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, nargs="?", help="model file from train-gan or train-rbm")
    parser.add_argument("-n", "--haplotypes", type=int, required=True, help="haplotypes to generate")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output file (.h5, .vcf, .vcf.gz, .hapt, .hapt.gz)")
    parser.add_argument("--legend", type=Path, help="legend written beside a .hapt output (default: OUTPUT with .legend)")
    parser.add_argument("--ploidy", type=int, choices=(1, 2), default=1,
                        help="1: haploid samples; 2: consecutive haplotypes paired into phased diploids")
    parser.add_argument("--population", help="population to generate (conditional GAN); default: drawn in training proportions")
    parser.add_argument("--bernoulli", action="store_true", help="GAN: draw alleles from the outputs as probabilities instead of rounding")
    parser.add_argument("--gibbs-steps", type=int,
                        help=f"RBM: Gibbs sweeps per haplotype (default {CHAIN_SWEEPS} from the persistent chains, whose "
                             f"population mixture longer runs lose; {OTHER_START_SWEEPS} from random or real starts)")
    parser.add_argument("--start", choices=RBM_STARTS,
                        help="RBM: where the Gibbs chains start: chains, the model's persistent chains (model samples; "
                             "the default), or random, uniform random haplotypes (these fall into one population's mode)")
    parser.add_argument("--sampling-set", type=Path,
                        help="RBM: start the chains from these real haplotypes (matrix) instead (the paper's scheme)")
    parser.add_argument("--baseline", choices=BASELINES, help="sample a baseline fitted on --reference instead of a model")
    parser.add_argument("--reference", type=Path, help="real haplotypes a baseline is fitted on (matrix, VCF or .hapt)")
    parser.add_argument("--window", type=int, default=10, help=f"Markov baseline: context window (1-{MAX_WINDOW} sites)")
    parser.add_argument("--batch", type=int, default=10000, help="haplotypes generated at a time")
    parser.add_argument("--seed", type=int, help="seed (random and recorded when omitted)")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="where to generate")


def run(args: argparse.Namespace) -> None:
    _check_options(args)
    if args.gibbs_steps is None:  # set before provenance is recorded, so that it names the sweeps run
        args.gibbs_steps = _default_gibbs_steps(args)
    seed = resolve_seed(args.seed)
    output_suffix(args.output)
    if args.baseline:
        reference = read_haplotype_set(args.reference, legend=None)
        haplotypes = _baseline(args, reference.haplotypes, seed)
        sites, populations, provenance, inputs = reference.sites, None, reference.provenance, [args.reference]
    else:
        device = resolve_device(args.device)
        model_file = load_model_file(args.model, map_location=device)
        haplotypes, populations = _from_model(args, model_file, seed, device)
        sites, provenance, inputs = model_file.sites, model_file.provenance, [args.model]
        if args.sampling_set:
            inputs.append(args.sampling_set)
    n = len(haplotypes)
    n_samples = n // args.ploidy
    names = np.array([f"AG_{i + 1}" for i in range(n_samples)])
    labels = np.array([""] * n_samples) if populations is None else np.asarray(populations)[::args.ploidy]
    record = make_record(STEP, parameters=parameters_of(args), seed=seed, inputs=inputs)
    matrix = HaplotypeMatrix(haplotypes, sites, names, np.full(n_samples, args.ploidy, dtype=np.int8), labels,
                             provenance + [record], label="AG")
    write_haplotype_set(matrix, args.output, legend=args.legend)
    log(STEP, f"wrote {n} haplotypes x {len(sites)} sites to {args.output}")


def _check_options(args: argparse.Namespace) -> None:
    if args.haplotypes < 1:
        raise InputError("-n must be >= 1")
    if args.ploidy == 2 and args.haplotypes % 2:
        raise InputError(f"-n {args.haplotypes}: --ploidy 2 pairs haplotypes, so -n must be even")
    if args.batch < 1 or (args.gibbs_steps is not None and args.gibbs_steps < 1):
        raise InputError("--batch and --gibbs-steps must be >= 1")
    if args.baseline:
        if args.model is not None:
            raise InputError("give either a model file or --baseline, not both")
        if args.reference is None:
            raise InputError(f"--baseline {args.baseline} needs --reference MATRIX")
        if not 1 <= args.window <= MAX_WINDOW:
            raise InputError(f"--window must be 1..{MAX_WINDOW}")
        for option in ("population", "sampling_set", "start"):
            if getattr(args, option):
                raise InputError(f"--{option.replace('_', '-')} applies to models, not to --baseline")
    elif args.model is None:
        raise InputError("give a model file, or --baseline with --reference")
    if args.start and args.sampling_set:
        raise InputError("--start and --sampling-set both say where the RBM's chains start; give one")


def _default_gibbs_steps(args: argparse.Namespace) -> int:
    """Sweeps an RBM runs when --gibbs-steps is not given: few from its persistent chains, many from other starts."""
    from_chains = not args.sampling_set and args.start in (None, "chains")
    return CHAIN_SWEEPS if from_chains else OTHER_START_SWEEPS


def _baseline(args: argparse.Namespace, reference: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if args.baseline == "bernoulli":
        return bernoulli_haplotypes(reference, args.haplotypes, rng)
    progress = Progress(STEP, unit="sites", total=reference.shape[1])
    haplotypes = markov_haplotypes(reference, args.haplotypes, rng, window=args.window,
                                   on_site=lambda j: progress.update(1))
    progress.close()
    return haplotypes


def _from_model(args: argparse.Namespace, model_file: ModelFile, seed: int, device: str) -> tuple[np.ndarray, np.ndarray | None]:
    import torch

    rng = torch.Generator(device=device).manual_seed(seed)
    codes = _population_codes(args, model_file, np.random.default_rng(seed))
    start_set = None
    if model_file.kind == "gan":
        model = GanModel(model_file.config, device, seed=seed)
        if args.sampling_set or args.start:
            raise InputError(f"--{'sampling-set' if args.sampling_set else 'start'} applies to RBM models; this is a GAN")
    elif model_file.kind == "rbm":
        model = RbmModel(model_file.config, device, seed=seed)
        if args.population or args.bernoulli:
            raise InputError(f"--{'population' if args.population else 'bernoulli'} applies to GAN models; this is an RBM")
        if args.sampling_set:
            start_set = _sampling_set(args.sampling_set, model_file)
    else:
        raise InputError(f"{args.model}: unknown model kind {model_file.kind!r}")
    model.load_weights(model_file.weights)
    out = np.empty((args.haplotypes, len(model_file.sites)), dtype=np.uint8)
    progress = Progress(STEP, unit="haplotypes", total=args.haplotypes)
    picks = np.random.default_rng(seed).choice(len(start_set), args.haplotypes,
                                              replace=args.haplotypes > len(start_set)) if start_set is not None else None
    for lo in range(0, args.haplotypes, args.batch):
        hi = min(lo + args.batch, args.haplotypes)
        if model_file.kind == "gan":
            onehot = None
            if codes is not None:
                onehot = torch.nn.functional.one_hot(torch.as_tensor(codes[lo:hi], device=device),
                                                     len(model_file.populations)).to(torch.float32)
            out[lo:hi] = model.generate(hi - lo, rng, onehot=onehot, bernoulli=args.bernoulli)
        else:
            start = (args.start or "chains") if picks is None else torch.as_tensor(start_set[picks[lo:hi]], device=device).to(torch.float32)
            out[lo:hi] = model.generate(hi - lo, rng, steps=args.gibbs_steps, start=start)
        progress.update(hi - lo)
    progress.close()
    populations = None if codes is None else np.asarray(model_file.populations)[codes]
    return out, populations


def _population_codes(args: argparse.Namespace, model_file: ModelFile, rng: np.random.Generator) -> np.ndarray | None:
    """The condition label index of every haplotype to generate (None for an unconditional model)."""
    labels = model_file.populations
    if not labels:
        if args.population:
            raise InputError(f"--population {args.population}: {args.model} is not a conditional model "
                             "(train-gan --condition-on population)")
        return None
    if args.population:
        if args.population not in labels:
            raise InputError(f"--population {args.population}: not among the model's populations ({', '.join(labels)})")
        return np.full(args.haplotypes, labels.index(args.population))
    # a diploid individual's two haplotypes come from one population
    per_sample = rng.choice(len(labels), args.haplotypes // args.ploidy, p=model_file.population_frequencies)
    return np.repeat(per_sample, args.ploidy)


def _sampling_set(path: Path, model_file: ModelFile) -> np.ndarray:
    matrix = read_matrix(path)
    require_same_sites(model_file.sites, matrix.sites, reference_name="the model's training sites", other_name=str(path))
    return matrix.haplotypes
