"""vcf-to-matrix: phased VCF/BCF or .hapt + legend -> haplotype matrix (optionally a train/holdout pair, and the
windows its chromosomes are cut into for per-window training)."""

from __future__ import annotations

import argparse
from pathlib import Path

from genosynth._infra.atomic import atomic_outputs
from genosynth._infra.errors import OptionError
from genosynth._infra.progress import log
from genosynth.io.convert import convert_to_matrix
from genosynth.io.detect import detect_format
from genosynth.io.hdf5 import read_sites
from genosynth.io.regions import read_bed, write_bed
from genosynth.io.tables import read_sample_list
from genosynth.io.windows import plan_windows
from genosynth.steps._types import FRACTION, INPUT, OUTPUT_FILE, THREADS, Bounded, at_least

STEP = "vcf-to-matrix"
SUMMARY = "Convert phased VCF/BCF or .hapt haplotypes into a haplotype matrix, optionally split into training and held-out individuals."
DESCRIPTION = (
    "Convert phased haplotypes (VCF, VCF.gz, BCF, or the paper's .hapt with --legend) into a "
    "haplotype matrix of biallelic SNPs, optionally split by individual into training and held-out sets."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=INPUT, help="VCF, bgzipped VCF or BCF (phased), or .hapt/.hapt.gz with --legend")
    parser.add_argument(
        "-o",
        "--output",
        type=OUTPUT_FILE,
        required=True,
        help="haplotype matrix to write (training set when --holdout)",
    )
    parser.add_argument("--legend", type=Path, help="legend of a .hapt input (id position a0 a1)")
    parser.add_argument("--region", help="CHR:START-END (1-based, inclusive) to convert; VCF/BCF input needs an index")
    parser.add_argument("--samples", type=Path, help="file of sample names to keep, one a line")
    parser.add_argument("--populations", type=Path, help="TSV: sample name, population (header line optional)")
    parser.add_argument(
        "--population-column", help="header name of the population column in --populations (default: the second column)"
    )
    parser.add_argument(
        "--min-maf",
        type=Bounded(float, minimum=0, maximum=0.5),
        default=0.0,
        help="drop sites whose minor allele frequency is below this",
    )
    parser.add_argument(
        "--keep-monomorphic", action="store_true", help="keep sites where every haplotype carries the same allele"
    )
    parser.add_argument(
        "--phase", action="store_true", help="phase and fill missing calls with Beagle 5 before converting"
    )
    parser.add_argument("--beagle-memory", default="2g", help="Java heap for Beagle (-Xmx)")
    parser.add_argument(
        "--threads",
        type=THREADS,
        default=2,
        help="threads decompressing a bgzipped VCF, processes reading an indexed BCF in parallel "
        "(by position range), and Beagle's threads",
    )
    parser.add_argument(
        "--holdout", type=FRACTION, help="fraction of individuals (per population) to hold out, e.g. 0.2"
    )
    parser.add_argument("--holdout-output", type=OUTPUT_FILE, help="haplotype matrix of the held-out individuals")
    parser.add_argument(
        "--seed", type=int, help="seed of the holdout draw and of Beagle (random and recorded when omitted)"
    )
    parser.add_argument(
        "--windows-output",
        type=OUTPUT_FILE,
        help="BED of the windows each chromosome's sites are cut into, for training one model per window "
        "(train-gan/train-rbm --region) and chaining them (sample): one window per chromosome, or "
        "as --window-sites or --window-starts say",
    )
    parser.add_argument("--window-sites", type=at_least(1), help="with --windows-output: windows of this many sites")
    parser.add_argument(
        "--window-starts",
        type=Path,
        help="with --windows-output: BED of regions (LD blocks, say) whose starts begin windows; each "
        "window runs to the next start, so that the windows hold every site",
    )


def run(args: argparse.Namespace) -> None:
    # the window options are checked before the conversion, which may take long (plan_windows checks them too)
    if (args.window_sites or args.window_starts) and args.windows_output is None:
        raise OptionError("window_sites" if args.window_sites else "window_starts", "needs --windows-output")
    if args.legend is not None and detect_format(args.input).format != "hapt":
        raise OptionError("legend", f"applies to a .hapt input; {args.input.name} is not one")
    if args.population_column is not None and args.populations is None:
        raise OptionError("population_column", "needs --populations")
    if args.window_sites and args.window_starts:
        raise OptionError("window_sites", "or --window-starts, not both")
    starts = read_bed(args.window_starts) if args.window_starts else None
    convert_to_matrix(
        args.input,
        args.output,
        legend=args.legend,
        region=args.region,
        samples=read_sample_list(args.samples) if args.samples else None,
        populations=args.populations,
        population_column=args.population_column,
        min_maf=args.min_maf,
        keep_monomorphic=args.keep_monomorphic,
        phase=args.phase,
        beagle_memory=args.beagle_memory,
        threads=args.threads,
        holdout=args.holdout,
        holdout_output=args.holdout_output,
        seed=args.seed,
    )
    if args.windows_output is not None:
        windows = plan_windows(read_sites(args.output), window_sites=args.window_sites, starts=starts)
        with atomic_outputs(args.windows_output) as (temp,):
            write_bed(temp, windows)
        log(STEP, f"{len(windows)} windows in {args.windows_output}")
