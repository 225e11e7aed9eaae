"""export: haplotype matrix -> VCF, bgzipped VCF (+ tabix index) or the paper's .hapt[.gz] (+ legend)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..atomic import atomic_outputs
from ..errors import InputError
from ..formats.hapt import write_hapt
from ..formats.vcf import write_vcf
from ..matrix import read_matrix
from ..progress import log
from ..provenance import make_record, parameters_of

STEP = "export"
DESCRIPTION = ("Write a haplotype matrix as VCF (.vcf), bgzipped and tabix-indexed VCF (.vcf.gz) or .hapt/.hapt.gz "
               "with a legend, chosen by the output's suffix. The two haplotypes of an individual become one phased "
               "diploid sample; haploid samples stay haploid.")
SUFFIXES = (".vcf", ".vcf.gz", ".hapt", ".hapt.gz")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("matrix", type=Path, help="haplotype matrix")
    parser.add_argument("-o", "--output", type=Path, required=True, help=f"output file ({', '.join(SUFFIXES)})")
    parser.add_argument("--legend", type=Path, help="legend to write beside a .hapt output (default: OUTPUT with .legend)")
    parser.add_argument("--region", help="CHR:START-END: export only these sites")


def run(args: argparse.Namespace) -> None:
    name = args.output.name.lower()
    suffix = next((s for s in sorted(SUFFIXES, key=len, reverse=True) if name.endswith(s)), None)
    if suffix is None:
        raise InputError(f"{args.output}: unknown output type; the name must end in one of {', '.join(SUFFIXES)}")
    matrix = read_matrix(args.matrix, region=args.region)
    if matrix.n_sites == 0:
        raise InputError(f"{args.matrix}: no sites in region {args.region}")
    record = make_record(STEP, parameters=parameters_of(args), seed=None, inputs=[args.matrix])
    matrix.provenance = matrix.provenance + [record]
    if suffix.startswith(".vcf"):
        targets = [args.output, Path(f"{args.output}.tbi")] if suffix == ".vcf.gz" else [args.output]
        with atomic_outputs(*targets) as temps:
            write_vcf(matrix, temps[0], bgzip=suffix == ".vcf.gz")
            if suffix == ".vcf.gz":
                Path(f"{temps[0]}.tbi").replace(temps[1])
    else:
        legend = args.legend or args.output.with_name(args.output.name[: -len(suffix)] + ".legend")
        with atomic_outputs(args.output, legend) as (hapt_temp, legend_temp):
            write_hapt(matrix, hapt_temp, legend_temp, gzipped=suffix == ".hapt.gz")
    log(STEP, f"wrote {matrix.n_haplotypes} haplotypes x {matrix.n_sites} sites to {args.output}")
