"""evaluate: how faithfully do artificial haplotype sets reproduce a real one? The metrics of Yelmen et al.
2021 for any number of sets, written as metrics.json/.tsv, plots and one self-contained report.html."""

from __future__ import annotations

import argparse
from pathlib import Path

from genosynth._infra.devices import require_memory
from genosynth._infra.errors import OptionError
from genosynth._infra.progress import log
from genosynth.assess.fidelity import evaluate, parse_set_name
from genosynth.io import read_haplotypes
from genosynth.io.regions import read_bed
from genosynth.io.tables import format_cell
from genosynth.steps._compute import add_compute_arguments, compute_device
from genosynth.steps._paths import refuse_legend_without_hapt
from genosynth.steps._types import OUTPUT_FOLDER, Bounded, at_least

STEP = "evaluate"
SUMMARY = "Compare artificial haplotype sets with a real one: fidelity metrics, plots and a report."
DESCRIPTION = (
    "Compare artificial haplotype sets with a real one: PCA and 2-D Wasserstein distance, allele "
    "frequencies, LD (within windows and across their boundaries for chained sets), pairwise differences, "
    "3-point correlations, nearest neighbours and AATS; write "
    "metrics.json, metrics.tsv, PNG/PDF plots and report.html."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--real", type=Path, required=True, help="real haplotypes: matrix, VCF/BCF or .hapt")
    parser.add_argument(
        "--synthetic",
        action="append",
        required=True,
        metavar="NAME=FILE",
        help="an artificial set to judge (matrix, VCF/BCF or .hapt); repeat for several sets",
    )
    parser.add_argument(
        "--holdout", type=Path, help="real held-out haplotypes, judged like a set as the reference 'perfect generator'"
    )
    parser.add_argument("--legend", type=Path, help="legend shared by every .hapt input")
    parser.add_argument(
        "--intersect", action="store_true", help="keep the sites common to all sets instead of failing when they differ"
    )
    parser.add_argument("-o", "--output", type=OUTPUT_FOLDER, required=True, help="output directory")
    parser.add_argument("--components", type=at_least(2), default=6, help="principal components computed and plotted")
    parser.add_argument(
        "--triplets", type=at_least(1), default=8000, help="site triplets per 3-point-correlation separation"
    )
    parser.add_argument("--ld-heatmap-sites", type=at_least(2), default=200, help="sites shown in each LD heatmap")
    parser.add_argument(
        "--windows",
        type=Path,
        help="BED of the windows a chained set was generated in (default: the windows its provenance "
        "records); LD across their boundaries is reported as boundary_ld_r and "
        "boundary_ld_strength",
    )
    parser.add_argument(
        "--boundary-span",
        type=Bounded(int, minimum=1, maximum=10000),
        default=50,
        help="sites on each side of a window boundary whose pairs count as straddling it",
    )
    parser.add_argument(
        "--ld-max-distance",
        type=at_least(1),
        help="only same-chromosome site pairs at most this many bp apart count in ld_r and ld_strength",
    )
    parser.add_argument(
        "--seed", type=int, help="seed of PCA starts, triplets and AATS subsampling (random and recorded when omitted)"
    )
    add_compute_arguments(parser, device_help="where distances, PCA and LD are computed")


def extra_inputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """The files of the --synthetic NAME=FILE sets."""
    return [(f"--synthetic {name}", path) for name, path in _named_sets(args.synthetic).items()]


def run(args: argparse.Namespace) -> None:
    named = _named_sets(args.synthetic)
    refuse_legend_without_hapt(args.legend, [args.real, *named.values(), *([args.holdout] if args.holdout else [])])
    # the random triplets are drawn as int64 site triples before any is used
    require_memory(args.triplets * 24, f"{args.triplets} random site triplets", advice="ask for fewer (--triplets)")
    report = evaluate(
        read_haplotypes(args.real, legend=args.legend),
        {name: read_haplotypes(path, legend=args.legend) for name, path in named.items()},
        holdout=read_haplotypes(args.holdout, legend=args.legend) if args.holdout else None,
        intersect=args.intersect,
        components=args.components,
        triplets=args.triplets,
        ld_heatmap_sites=args.ld_heatmap_sites,
        windows=read_bed(args.windows) if args.windows else None,
        boundary_span=args.boundary_span,
        ld_max_distance=args.ld_max_distance,
        seed=args.seed,
        device=compute_device(args),
    )
    report.write(args.output)
    log(
        STEP,
        "; ".join(
            f"{name}: AF r {format_cell(m['af_r'], '.4f')}, LD r {format_cell(m['ld_r'], '.4f')} "
            f"(strength {format_cell(m['ld_strength'], '.2f')}), W2D {format_cell(m['w2d_pca'], '.4f')}"
            for name, m in report.sets.items()
        )
        + f"; report in {args.output}/report.html",
    )


def _named_sets(texts: list[str]) -> dict[str, Path]:
    """The NAME=FILE options as name -> path; a repeated name is an error."""
    sets: dict[str, Path] = {}
    for text in texts:
        name, sep, path = text.partition("=")
        if not sep or not path:
            raise OptionError("synthetic", f"{text!r}: expected NAME=FILE")
        if name in sets:
            raise OptionError("synthetic", f"the set name {name!r} is given more than once")
        sets[parse_set_name(name)] = Path(path)
    return sets
