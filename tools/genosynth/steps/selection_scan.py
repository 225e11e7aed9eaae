"""selection-scan: XP-EHH, PBS, iHS and a CNN trained on simulations (ImaGene) of a target population, real and
artificial, with plots and agreement."""

from __future__ import annotations

import argparse
from pathlib import Path

from genosynth._infra.atomic import atomic_group
from genosynth._infra.devices import DEVICE_CHOICES
from genosynth._infra.errors import InputError, OptionError
from genosynth._infra.progress import log
from genosynth.downstream.selection.cnn import CnnScanOptions
from genosynth.downstream.selection.imagene import MIN_IMAGE_SIZE, parse_s_grid
from genosynth.downstream.selection.scan import SelectionReport, parse_methods, selection_scan
from genosynth.downstream.selection.sweeps import SweepSettings
from genosynth.io import read_haplotypes
from genosynth.io.tables import format_cell, read_plink_map
from genosynth.steps._paths import refuse_legend_without_hapt
from genosynth.steps._types import CACHE_FILE, FRACTION, OUTPUT_FILE, OUTPUT_FOLDER, THREADS, Bounded, at_least

STEP = "selection-scan"
SUMMARY = "Scan real and artificial haplotypes for selection (XP-EHH, PBS, iHS and a CNN)."
DESCRIPTION = (
    "Scan a target population for selection with scikit-allel (standardised XP-EHH against a second "
    "population, PBS in windows with an outgroup, iHS) and with a CNN trained on msprime sweep "
    "simulations (ImaGene: P(selection) and the posterior of S = 2Ns per window), for the real haplotypes "
    "and for an artificial set of the target population on the same sites; write xpehh.tsv, pbs.tsv, "
    "ihs.tsv, cnn.tsv, summary.json (real vs synthetic correlations and shared 99th-percentile peaks), "
    "plots and report.html."
)

# the options of the CNN group that only the CNN uses (--seed, --threads and --device serve the whole scan)
CNN_ONLY = (
    "cnn_window_sites",
    "cnn_step",
    "cnn_model",
    "cnn_model_output",
    "training_data",
    "s_grid",
    "simulations",
    "ne",
    "demography",
    "demography_population",
    "sweep_end_times",
    "mutation_rate",
    "recombination_rate",
    "image_size",
    "cnn_min_maf",
    "cnn_epochs",
    "cnn_label_sd",
    "device",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("matrix", type=Path, help="real haplotypes with population labels: matrix, VCF/BCF or .hapt")
    parser.add_argument("--target", required=True, help="population scanned for selection")
    parser.add_argument("--versus", help="population XP-EHH and PBS compare the target with (needed by both)")
    parser.add_argument("--outgroup", help="third population; PBS is computed when given")
    parser.add_argument(
        "--synthetic",
        type=Path,
        help="artificial haplotypes of the target population on the same sites (matrix, VCF or .hapt)",
    )
    parser.add_argument("--legend", type=Path, help="legend of a .hapt MATRIX or --synthetic")
    parser.add_argument(
        "--populations", type=Path, help="sample -> population table (TSV) replacing the labels stored in MATRIX"
    )
    parser.add_argument("-o", "--output", type=OUTPUT_FOLDER, required=True, help="output directory")
    parser.add_argument("--map", type=Path, help="PLINK .map genetic map (CHROM ID cM POS); positions in bp otherwise")
    parser.add_argument("--min-ehh", type=FRACTION, default=0.05, help="EHH below which integration stops")
    parser.add_argument("--include-edges", action="store_true", help="score sites whose EHH never decays to --min-ehh")
    parser.add_argument(
        "--gap-scale", type=at_least(1), default=20_000, help="gaps wider than this (bp) are scaled down"
    )
    parser.add_argument(
        "--max-gap", type=at_least(1), default=200_000, help="a gap wider than this (bp) stops EHH integration"
    )
    parser.add_argument("--window", type=at_least(2), default=10, help="PBS window in sites")
    parser.add_argument("--step", dest="window_step", type=at_least(1), default=5, help="PBS window step in sites")
    parser.add_argument(
        "--method",
        dest="methods",
        help="comma-separated methods among xpehh, pbs, ihs, cnn (default: xpehh, pbs with --outgroup, ihs with --ihs)",
    )
    parser.add_argument("--ihs", action="store_true", help="also compute iHS of the target (and synthetic) haplotypes")
    parser.add_argument(
        "--min-maf",
        type=Bounded(float, minimum=0, below=0.5),
        default=0.05,
        help="iHS: sites with a lower minor allele frequency get NaN",
    )
    parser.add_argument(
        "--percentile",
        type=Bounded(float, minimum=50, below=100),
        default=99.0,
        help="peaks are scores at or above this percentile",
    )
    cnn = parser.add_argument_group(
        "CNN (--method cnn)",
        "a network trained on msprime simulations of the target's "
        "history, neutral and with a hard sweep at the window centre, scores windows",
    )
    cnn.add_argument("--cnn-window-sites", type=at_least(10), default=200, help="sites per scanned window")
    cnn.add_argument("--cnn-step", type=at_least(1), help="window step in sites (default: half a window)")
    cnn.add_argument("--cnn-model", type=Path, help="trained network to use instead of simulating and training")
    cnn.add_argument("--cnn-model-output", type=OUTPUT_FILE, help="write the trained network here (a model file)")
    cnn.add_argument(
        "--training-data",
        type=CACHE_FILE,
        help="simulated training images: read when the file exists (its settings must match), "
        "else simulated and written there for later runs",
    )
    cnn.add_argument(
        "--s-grid",
        default="0,100,200,300,400",
        help="S = 2Ns classes, comma-separated; 0 is neutrality and must be among them",
    )
    cnn.add_argument("--simulations", type=at_least(2), default=1000, help="simulations per S class")
    cnn.add_argument(
        "--ne",
        type=Bounded(float, minimum=100),
        default=10_000.0,
        help="constant effective size of the simulations (without --demography)",
    )
    cnn.add_argument("--demography", help="stdpopsim demographic model Species/Model (e.g. HomSap/OutOfAfrica_3G09)")
    cnn.add_argument("--demography-population", help="population of --demography whose history is simulated")
    cnn.add_argument(
        "--sweep-end-times",
        default="0",
        help="generations ago at which sweeps end, comma-separated, one drawn per simulation",
    )
    cnn.add_argument(
        "--mutation-rate",
        type=Bounded(float, above=0, below=1e-3),
        help="per bp per generation (default: the model's, else 1.25e-8)",
    )
    cnn.add_argument(
        "--recombination-rate", type=Bounded(float, minimum=0, below=1e-3), default=1e-8, help="per bp per generation"
    )
    cnn.add_argument(
        "--image-size",
        type=Bounded(int, minimum=MIN_IMAGE_SIZE, maximum=1024),
        default=128,
        help="images are resized to this many rows and columns",
    )
    cnn.add_argument(
        "--cnn-min-maf",
        type=Bounded(float, minimum=0, below=0.5),
        default=0.01,
        help="sites with a lower minor allele frequency are left out of images",
    )
    cnn.add_argument("--cnn-epochs", type=at_least(1), default=20, help="most training epochs (early stopping)")
    cnn.add_argument(
        "--cnn-label-sd",
        type=Bounded(float, minimum=0),
        default=0.0,
        help="smooth class targets with a normal density of this SD in bins (0: categorical)",
    )
    cnn.add_argument("--threads", type=THREADS, default=1, help="processes simulating in parallel")
    cnn.add_argument("--seed", type=int, default=1, help="seed of simulations and training (>= 0)")
    cnn.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="device that trains and runs the CNN")


def run(args: argparse.Namespace) -> None:
    methods = parse_methods(args.methods, outgroup=args.outgroup, ihs=args.ihs)
    cnn = _cnn_options(args) if "cnn" in methods else None
    if cnn is None:  # the CNN's options apply to --method cnn only
        for name in CNN_ONLY:
            if name in getattr(args, "given_options", ()) or (name == "cnn_model_output" and args.cnn_model_output):
                raise OptionError(name, "applies to --method with cnn")
    refuse_legend_without_hapt(args.legend, [args.matrix, *([args.synthetic] if args.synthetic else [])])
    real = read_haplotypes(args.matrix, legend=args.legend, populations=args.populations)
    report = selection_scan(
        real,
        target=args.target,
        versus=args.versus,
        outgroup=args.outgroup,
        methods=methods,
        synthetic=read_haplotypes(args.synthetic, legend=args.legend) if args.synthetic else None,
        genetic_map=read_plink_map(args.map) if args.map else None,
        min_ehh=args.min_ehh,
        include_edges=args.include_edges,
        gap_scale=args.gap_scale,
        max_gap=args.max_gap,
        window=args.window,
        window_step=args.window_step,
        ihs=args.ihs,
        min_maf=args.min_maf,
        percentile=args.percentile,
        cnn=cnn,
    )
    with atomic_group():  # the folder and the trained network: both or neither
        report.write(args.output)
        if args.cnn_model_output:
            report.cnn.network.save(args.cnn_model_output)
    _log_agreement(report)
    log(STEP, f"report in {args.output}/report.html")


def _cnn_options(args: argparse.Namespace) -> CnnScanOptions:
    """The CNN options of the command line (checked before any input is read)."""
    if args.cnn_model is not None and not args.cnn_model.is_file():
        raise InputError(f"{args.cnn_model}: no such file")
    simulation = SweepSettings(
        s_grid=tuple(parse_s_grid(args.s_grid)),
        simulations=args.simulations,
        image_size=args.image_size,
        min_maf=args.cnn_min_maf,
        ne=args.ne,
        demography=args.demography,
        demography_population=args.demography_population,
        sweep_end_times=_times(args.sweep_end_times),
        mutation_rate=args.mutation_rate,
        recombination_rate=args.recombination_rate,
    )
    return CnnScanOptions(
        window_sites=args.cnn_window_sites,
        step=args.cnn_step,
        simulation=simulation,
        epochs=args.cnn_epochs,
        label_sd=args.cnn_label_sd,
        training_data=args.training_data,
        model=args.cnn_model,
        threads=args.threads,
        seed=args.seed,
        device=args.device,
    )


def _log_agreement(report: SelectionReport) -> None:
    for statistic, entry in report.scan_summaries():
        if "synthetic" in entry:
            agreement = entry["synthetic"]
            log(
                STEP,
                f"{statistic.upper()} real vs synthetic: Pearson {format_cell(agreement['pearson'], '.3f')}, "
                f"Spearman {format_cell(agreement['spearman'], '.3f')}, peaks shared "
                f"{agreement['peaks_shared']}/{agreement['peaks_real']}",
            )


def _times(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(item) for item in text.split(",") if item.strip())
    except ValueError:
        raise OptionError("sweep_end_times", f"{text!r}: expected comma-separated numbers of generations") from None
