"""sample: draw artificial haplotypes from a trained model file (any kind), from the window models of a chromosome
chained into one sequence, or from a baseline on a reference matrix (Bernoulli, Markov chain, or the mosaic of
reference segments, written a block of sites at a time), and write them as a matrix, VCF or .hapt."""

from __future__ import annotations

import argparse
from pathlib import Path

from genosynth._infra.errors import OptionError
from genosynth._infra.progress import log
from genosynth.generate.chain import write_chain
from genosynth.generate.models.baselines import BASELINES, MAX_WINDOW, sample_baseline
from genosynth.generate.models.diffusion import DEFAULT_STEPS
from genosynth.generate.models.mosaic import MosaicSettings, write_mosaic
from genosynth.generate.models.rbm import CHAIN_SWEEPS, OTHER_START_SWEEPS, STARTS
from genosynth.generate.trained import load_model
from genosynth.io import companion_files, output_format, read_haplotypes, write_haplotypes
from genosynth.io.hdf5 import read_matrix
from genosynth.steps._compute import add_compute_arguments, compute_device
from genosynth.steps._types import INPUT, OUTPUT_FILE, POSITIVE, Bounded, at_least

STEP = "sample"
SUMMARY = "Generate artificial haplotypes from a model, a chain of window models, or a baseline."
DESCRIPTION = (
    "Generate artificial haplotypes from a model file (train-gan, train-rbm, train-diffusion), from the models of a "
    "chromosome's windows in order (each haplotype generated window by window, each window conditioned on "
    "the sites the windows before it generated), or from a baseline without a model (--baseline "
    "bernoulli|markov|mosaic --reference MATRIX; mosaic: each haplotype copies segments of reference haplotypes "
    "along a Li-Stephens path, switching donors with genetic distance); write a matrix (.h5), VCF (.vcf, .vcf.gz "
    "bgzipped and indexed) or .hapt[.gz] with the training sites."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "models",
        type=Path,
        nargs="*",
        metavar="MODEL",
        help="model file from train-gan, train-rbm or train-diffusion; several: the window models of one chromosome in "
        "order, chained into one sequence and written window by window",
    )
    parser.add_argument("-n", "--haplotypes", dest="n", type=at_least(1), required=True, help="haplotypes to generate")
    parser.add_argument(
        "-o", "--output", type=OUTPUT_FILE, required=True, help="output file (.h5, .vcf, .vcf.gz, .hapt, .hapt.gz)"
    )
    parser.add_argument(
        "--legend", type=OUTPUT_FILE, help="legend written beside a .hapt output (default: OUTPUT with .legend)"
    )
    parser.add_argument(
        "--ploidy",
        type=int,
        choices=(1, 2),
        default=1,
        help="1: haploid samples; 2: consecutive haplotypes paired into phased diploids",
    )
    parser.add_argument(
        "--population",
        help="population to generate (conditional GAN or diffusion model; mosaic: copy only the reference "
        "haplotypes of this population label); default: drawn in training (reference) proportions",
    )
    parser.add_argument(
        "--bernoulli",
        action=argparse.BooleanOptionalAction,
        help="GAN, diffusion: draw alleles from the outputs as probabilities (--bernoulli) or round "
        "them (--no-bernoulli; a PCA diffusion model rounds each --batch to its expected allele "
        "counts); default: round, except for a PCA diffusion model, which does what kept more "
        "of its training haplotypes' LD",
    )
    parser.add_argument(
        "--expected-counts",
        action="store_true",
        default=None,
        help="GAN: round the haplotypes generated together (a --batch) to their expected allele "
        "counts, carried by the haplotypes with the highest outputs, instead of each output at "
        "0.5, so that alleles whose outputs stay below 0.5 keep their carriers",
    )
    parser.add_argument(
        "--steps",
        type=Bounded(int, minimum=1, maximum=10_000),
        help=f"diffusion: denoising steps of the DPM-Solver++(2M) sampler (default {DEFAULT_STEPS}; "
        "fewer is faster and coarser)",
    )
    parser.add_argument(
        "--guidance",
        type=Bounded(float, minimum=0, maximum=100),
        help="diffusion conditioned on population: classifier-free guidance scale (default 1, the "
        "conditional model; above 1 sharpens each population's features, 0 ignores the label)",
    )
    parser.add_argument(
        "--gibbs-steps",
        type=at_least(1),
        help=f"RBM: Gibbs sweeps per haplotype (default {CHAIN_SWEEPS} from the persistent chains, whose "
        f"population mixture longer runs lose; {OTHER_START_SWEEPS} from random or real starts)",
    )
    parser.add_argument(
        "--start",
        choices=STARTS,
        help="RBM: where the Gibbs chains start: chains, the model's persistent chains (model samples; "
        "the default), or random, uniform random haplotypes (these fall into one population's mode)",
    )
    parser.add_argument(
        "--sampling-set",
        type=Path,
        help="RBM: start the chains from these real haplotypes (matrix) instead (the paper's scheme)",
    )
    parser.add_argument(
        "--baseline", choices=(*BASELINES, "mosaic"), help="sample a baseline fitted on --reference instead of a model"
    )
    parser.add_argument(
        "--reference",
        type=INPUT,
        help="real haplotypes a baseline is fitted on (matrix or VCF; the mosaic reads a matrix a block of sites at "
        "a time)",
    )
    parser.add_argument(
        "--window",
        type=Bounded(int, minimum=1, maximum=MAX_WINDOW),
        default=10,
        help=f"Markov baseline: context window (1-{MAX_WINDOW} sites)",
    )
    defaults = MosaicSettings()
    parser.add_argument(
        "--genetic-map",
        type=INPUT,
        help="mosaic: HapMap-format genetic map (chromosome, position, rate cM/Mb, cM; a header line) of the "
        "reference's chromosomes; default: a constant --recombination-rate",
    )
    parser.add_argument(
        "--recombination-rate",
        type=POSITIVE,
        help=f"mosaic without --genetic-map: constant recombination rate in cM/Mb (default {defaults.cm_per_mb:g})",
    )
    parser.add_argument(
        "--miscopy",
        type=Bounded(float, minimum=0, maximum=0.5),
        help="mosaic: probability that an allele is flipped from its donor's (default: Li and Stephens' "
        "theta / (2 (K + theta)) for K reference haplotypes)",
    )
    parser.add_argument(
        "--max-segment-cm",
        type=POSITIVE,
        help="mosaic, the privacy knob: longest stretch in cM copied from one reference haplotype before a switch "
        f"to another (default {defaults.max_segment_cm:g}, the largest bound that kept privacy loss within 0.05 on "
        "1000 Genomes-density data; shorter is more private and less faithful)",
    )
    parser.add_argument(
        "--ne",
        type=POSITIVE,
        help=f"mosaic: effective population size in the donor switch rate 4 Ne d / K (default {defaults.ne:g})",
    )
    parser.add_argument(
        "--batch",
        type=at_least(1),
        default=10000,
        help="haplotypes generated at a time (one model's output is gathered in memory before it is "
        "written; a chain's is written window by window)",
    )
    parser.add_argument("--seed", type=int, help="seed (random and recorded when omitted)")
    add_compute_arguments(parser, device_help="where to generate")


def derived_outputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """The index or legend written beside the output."""
    if args.legend is not None and not output_format(args.output).startswith(".hapt"):
        raise OptionError("legend", f"applies to a .hapt output, not to {args.output.name}")
    output_format(args.output)
    return [
        ("-o (its index or legend)", path)
        for path in companion_files(args.output, legend=args.legend)
        if args.legend is None or path != args.legend
    ]


def run(args: argparse.Namespace) -> None:
    output_format(args.output)
    if args.baseline:
        _run_baseline(args)
        return
    if not args.models:
        raise OptionError("model", "missing: give a model file, or --baseline with --reference")
    for name in ("reference", "window", *_MOSAIC_OPTIONS):
        if name in getattr(args, "given_options", ()) or (name != "window" and getattr(args, name) is not None):
            raise OptionError(name, "applies to --baseline, not to model files")
    given = {
        "bernoulli": args.bernoulli,
        "expected_counts": args.expected_counts,
        "gibbs_steps": args.gibbs_steps,
        "start": args.start,
        "steps": args.steps,
        "guidance": args.guidance,
        "sampling_set": read_matrix(args.sampling_set) if args.sampling_set else None,
    }
    given = {k: v for k, v in given.items() if v is not None}
    common = {"seed": args.seed, "population": args.population, "ploidy": args.ploidy, "batch": args.batch}
    if len(args.models) == 1:
        artificial = load_model(args.models[0], device=compute_device(args)).sample(args.n, **common, **given)
        write_haplotypes(artificial, args.output, legend=args.legend)
        sites = artificial.n_sites
    else:  # the window models are loaded one at a time as the chain reaches them
        sites = write_chain(
            args.models, args.n, args.output, legend=args.legend, device=compute_device(args), **common, **given
        ).n_sites
    log(STEP, f"wrote {args.n} haplotypes x {sites} sites to {args.output}")


_MOSAIC_OPTIONS = ("genetic_map", "recombination_rate", "miscopy", "max_segment_cm", "ne")


def _run_baseline(args: argparse.Namespace) -> None:
    if args.models:
        raise OptionError("baseline", "or model files, not both")
    if args.reference is None:
        raise OptionError("baseline", f"{args.baseline} needs --reference MATRIX")
    if args.baseline == "mosaic":
        _run_mosaic(args)
        return
    for name in _MOSAIC_OPTIONS:
        if getattr(args, name) is not None:
            raise OptionError(name, "applies to --baseline mosaic")
    for name in (
        "population",
        "sampling_set",
        "start",
        "gibbs_steps",
        "bernoulli",
        "expected_counts",
        "steps",
        "guidance",
    ):
        if getattr(args, name) is not None:
            raise OptionError(name, "applies to models, not to --baseline")
    artificial = sample_baseline(
        read_haplotypes(args.reference),
        args.n,
        method=args.baseline,
        window=args.window,
        seed=args.seed,
        ploidy=args.ploidy,
    )
    write_haplotypes(artificial, args.output, legend=args.legend)
    log(STEP, f"wrote {artificial.n_haplotypes} haplotypes x {artificial.n_sites} sites to {args.output}")


def _run_mosaic(args: argparse.Namespace) -> None:
    for name in ("sampling_set", "start", "gibbs_steps", "bernoulli", "expected_counts", "steps", "guidance"):
        if getattr(args, name) is not None:
            raise OptionError(name, "applies to models, not to --baseline")
    if "window" in getattr(args, "given_options", ()):
        raise OptionError("window", "applies to --baseline markov")
    if args.recombination_rate is not None and args.genetic_map is not None:
        raise OptionError("recombination_rate", "applies without --genetic-map (the map gives the rates)")
    given = {"ne": args.ne, "miscopy": args.miscopy, "max_segment_cm": args.max_segment_cm}
    given["cm_per_mb"] = args.recombination_rate
    written = write_mosaic(
        args.reference,
        args.n,
        args.output,
        legend=args.legend,
        settings=MosaicSettings(**{name: value for name, value in given.items() if value is not None}),
        genetic_map=args.genetic_map,
        population=args.population,
        seed=args.seed,
        ploidy=args.ploidy,
    )
    log(STEP, f"wrote {written.n_haplotypes} haplotypes x {written.n_sites} sites to {args.output}")
