"""impute-augment: add artificial haplotypes to a reference panel and measure what that does to imputation."""

from __future__ import annotations

import argparse
from pathlib import Path

from genosynth._infra.progress import log
from genosynth.downstream.imputation.impute import ENGINES, impute_augment, read_array_sites
from genosynth.io import read_haplotypes
from genosynth.io.tables import format_cell
from genosynth.steps._paths import refuse_legend_without_hapt
from genosynth.steps._types import OUTPUT_FOLDER, THREADS, at_least

STEP = "impute-augment"
SUMMARY = "Measure what adding artificial haplotypes to a reference panel does to imputation."
DESCRIPTION = (
    "Build an augmented reference panel (real panel + artificial haplotypes, bgzipped and indexed), mask "
    "a target to array sites, impute it with Beagle 5 (or minimac4) from the panel alone, the augmented "
    "panel and optionally a panel with private real data, and score imputed dosages against the truth "
    "by minor-allele-frequency bin: impute.json, impute.tsv, a plot, report.html and the engine logs."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--panel", type=Path, required=True, help="real reference panel: phased VCF/BCF or matrix")
    parser.add_argument("--synthetic", type=Path, required=True, help="artificial haplotypes: matrix, VCF or .hapt")
    parser.add_argument("--legend", type=Path, help="legend of a .hapt --synthetic")
    parser.add_argument(
        "--target",
        type=Path,
        required=True,
        help="VCF/BCF of the individuals to impute with all their genotypes (the truth that is masked)",
    )
    parser.add_argument("-o", "--output", type=OUTPUT_FOLDER, required=True, help="output directory")
    parser.add_argument(
        "--private", type=Path, help="real private haplotypes (VCF/matrix) for the 'perfect' panel: panel + private"
    )
    parser.add_argument(
        "--ploidy",
        type=int,
        choices=(1, 2),
        default=1,
        help="add artificial haplotypes as haploid samples (1) or paired into phased diploids (2)",
    )
    array = parser.add_mutually_exclusive_group()
    array.add_argument(
        "--keep-every",
        type=at_least(2),
        default=10,
        help="the genotyping array keeps every K-th common site; the others are imputed and scored",
    )
    array.add_argument("--array-sites", type=Path, help="file of array sites, CHROM and POS per line, instead")
    parser.add_argument(
        "--engine", choices=ENGINES, default="beagle", help="imputation program (minimac4 needs a phased target)"
    )
    parser.add_argument("--threads", type=THREADS, default=2, help="threads of the imputation program")
    parser.add_argument("--memory", default="2g", help="Java heap limit of Beagle (-Xmx), e.g. 2g or 500m")
    parser.add_argument("--seed", type=int, help="seed of Beagle (random and recorded when omitted)")


def run(args: argparse.Namespace) -> None:
    refuse_legend_without_hapt(args.legend, [args.synthetic])
    report = impute_augment(
        read_haplotypes(args.panel),
        read_haplotypes(args.synthetic, legend=args.legend),
        args.target,
        private=read_haplotypes(args.private) if args.private else None,
        ploidy=args.ploidy,
        keep_every=args.keep_every,
        array_sites=read_array_sites(args.array_sites) if args.array_sites else None,
        engine=args.engine,
        threads=args.threads,
        memory=args.memory,
        seed=args.seed,
    )
    report.write(args.output)
    log(
        STEP,
        "mean r2 "
        + ", ".join(f"{name} {format_cell(report.summary[name]['mean_r2'], '.4f')}" for name in report.panels)
        + f"; report in {args.output}/report.html",
    )
