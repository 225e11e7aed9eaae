"""selection-scan: XP-EHH, PBS (and iHS) of a target population, real and artificial, with plots and agreement."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..formats import read_haplotypes
from ..formats.tables import format_cell, read_plink_map
from ..progress import log
from ..selection import selection_scan
from ._types import FRACTION, Bounded, at_least

STEP = "selection-scan"
DESCRIPTION = ("Scan a target population for selection with scikit-allel (standardised XP-EHH against a second "
               "population, PBS in windows with an outgroup, optionally iHS), for the real haplotypes and for an "
               "artificial set of the target population on the same sites; write xpehh.tsv, pbs.tsv, summary.json "
               "(real vs synthetic correlations and shared 99th-percentile peaks), plots and report.html.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("matrix", type=Path, help="real haplotypes with population labels: matrix, VCF/BCF or .hapt")
    parser.add_argument("--target", required=True, help="population scanned for selection")
    parser.add_argument("--versus", required=True, help="population XP-EHH compares the target with")
    parser.add_argument("--outgroup", help="third population; PBS is computed when given")
    parser.add_argument("--synthetic", type=Path,
                        help="artificial haplotypes of the target population on the same sites (matrix, VCF or .hapt)")
    parser.add_argument("--legend", type=Path, help="legend of a .hapt MATRIX or --synthetic")
    parser.add_argument("--populations", type=Path,
                        help="sample -> population table (TSV) replacing the labels stored in MATRIX")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output directory")
    parser.add_argument("--map", type=Path, help="PLINK .map genetic map (CHROM ID cM POS); positions in bp otherwise")
    parser.add_argument("--min-ehh", type=FRACTION, default=0.05, help="EHH below which integration stops")
    parser.add_argument("--include-edges", action="store_true", help="score sites whose EHH never decays to --min-ehh")
    parser.add_argument("--gap-scale", type=at_least(1), default=20_000, help="gaps wider than this (bp) are scaled down")
    parser.add_argument("--max-gap", type=at_least(1), default=200_000, help="a gap wider than this (bp) stops EHH integration")
    parser.add_argument("--window", type=at_least(2), default=10, help="PBS window in sites")
    parser.add_argument("--step", dest="window_step", type=at_least(1), default=5, help="PBS window step in sites")
    parser.add_argument("--ihs", action="store_true", help="also compute iHS of the target (and synthetic) haplotypes")
    parser.add_argument("--min-maf", type=Bounded(float, minimum=0, below=0.5), default=0.05, help="iHS: sites with a lower minor allele frequency get NaN")
    parser.add_argument("--percentile", type=Bounded(float, minimum=50, below=100), default=99.0, help="peaks are scores at or above this percentile")


def run(args: argparse.Namespace) -> None:
    real = read_haplotypes(args.matrix, legend=args.legend, populations=args.populations)
    report = selection_scan(real, target=args.target, versus=args.versus, outgroup=args.outgroup,
                            synthetic=read_haplotypes(args.synthetic, legend=args.legend) if args.synthetic else None,
                            genetic_map=read_plink_map(args.map) if args.map else None, min_ehh=args.min_ehh,
                            include_edges=args.include_edges, gap_scale=args.gap_scale, max_gap=args.max_gap,
                            window=args.window, window_step=args.window_step, ihs=args.ihs, min_maf=args.min_maf,
                            percentile=args.percentile)
    report.write(args.output)
    for statistic in ("xpehh", "pbs", "ihs"):
        if "synthetic" in report.summary.get(statistic, {}):
            agreement = report.summary[statistic]["synthetic"]
            log(STEP, f"{statistic.upper()} real vs synthetic: Pearson {format_cell(agreement['pearson'], '.3f')}, "
                      f"Spearman {format_cell(agreement['spearman'], '.3f')}, peaks shared "
                      f"{agreement['peaks_shared']}/{agreement['peaks_real']}")
    log(STEP, f"report in {args.output}/report.html")
