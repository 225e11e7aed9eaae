"""export: haplotype matrix -> VCF, bgzipped VCF (+ tabix index) or the paper's .hapt[.gz] (+ legend)."""

from __future__ import annotations

import argparse
from pathlib import Path

from genosynth._infra.errors import InputError, OptionError
from genosynth._infra.progress import log
from genosynth._infra.provenance import make_record
from genosynth.io import companion_files, output_format, write_haplotypes
from genosynth.io.hdf5 import read_matrix
from genosynth.steps._types import OUTPUT_FILE

STEP = "export"
SUMMARY = "Write a haplotype matrix as VCF, bgzipped and indexed VCF, or .hapt with its legend."
DESCRIPTION = (
    "Write a haplotype matrix as VCF (.vcf), bgzipped and tabix-indexed VCF (.vcf.gz) or .hapt/.hapt.gz "
    "with a legend, chosen by the output's suffix. The two haplotypes of an individual become one phased "
    "diploid sample; haploid samples stay haploid."
)
SUFFIXES = (".vcf", ".vcf.gz", ".hapt", ".hapt.gz")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("matrix", type=Path, help="haplotype matrix")
    parser.add_argument("-o", "--output", type=OUTPUT_FILE, required=True, help=f"output file ({', '.join(SUFFIXES)})")
    parser.add_argument(
        "--legend", type=OUTPUT_FILE, help="legend to write beside a .hapt output (default: OUTPUT with .legend)"
    )
    parser.add_argument("--region", help="CHR:START-END: export only these sites")


def derived_outputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """The index or legend written beside the output."""
    if args.legend is not None and not output_format(args.output).startswith(".hapt"):
        raise OptionError("legend", f"applies to a .hapt output, not to {args.output.name}")
    output_format(args.output, allowed=SUFFIXES)
    return [
        ("-o (its index or legend)", path)
        for path in companion_files(args.output, legend=args.legend)
        if args.legend is None or path != args.legend
    ]


def run(args: argparse.Namespace) -> None:
    output_format(args.output, allowed=SUFFIXES)
    matrix = read_matrix(args.matrix, region=args.region)
    if matrix.n_sites == 0:
        raise InputError(
            f"{args.matrix}: no sites in region {args.region}"
            if args.region
            else f"{args.matrix}: the matrix holds no sites"
        )
    record = make_record(
        STEP,
        parameters={"region": args.region, "format": output_format(args.output)},
        seed=None,
        inputs=[matrix.describe()],
    )
    write_haplotypes(matrix.with_provenance(record), args.output, legend=args.legend)
    log(STEP, f"wrote {matrix.n_haplotypes} haplotypes x {matrix.n_sites} sites to {args.output}")
