"""vcf-to-matrix: phased VCF/BCF or .hapt + legend -> haplotype matrix (optionally a train/holdout pair)."""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Iterator

import numpy as np

from ..atomic import atomic_outputs
from ..errors import InputError
from ..formats.hapt import read_hapt
from ..formats.vcf import VcfSource
from ..holdout import split_individuals
from ..matrix import HaplotypeMatrix, MatrixWriter, Sites, parse_region
from ..beagle import phase_with_beagle
from ..progress import Progress, log
from ..provenance import make_record, parameters_of, resolve_seed
from ..sample_tables import read_population_table, read_sample_list

STEP = "vcf-to-matrix"
DESCRIPTION = ("Convert phased haplotypes (VCF, VCF.gz, BCF, or the paper's .hapt with --legend) into a "
               "haplotype matrix of biallelic SNPs, optionally split by individual into training and held-out sets.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="VCF, bgzipped VCF or BCF (phased), or .hapt/.hapt.gz with --legend")
    parser.add_argument("-o", "--output", type=Path, required=True, help="haplotype matrix to write (training set when --holdout)")
    parser.add_argument("--legend", type=Path, help="legend of a .hapt input (id position a0 a1)")
    parser.add_argument("--region", help="CHR:START-END (1-based, inclusive) to convert; VCF/BCF input needs an index")
    parser.add_argument("--samples", type=Path, help="file of sample names to keep, one a line")
    parser.add_argument("--populations", type=Path, help="TSV: sample name, population (header line optional)")
    parser.add_argument("--population-column", help="header name of the population column in --populations (default: the second column)")
    parser.add_argument("--min-maf", type=float, default=0.0, help="drop sites whose minor allele frequency is below this")
    parser.add_argument("--keep-monomorphic", action="store_true", help="keep sites where every haplotype carries the same allele")
    parser.add_argument("--phase", action="store_true", help="phase and fill missing calls with Beagle 5 before converting")
    parser.add_argument("--beagle-memory", default="2g", help="Java heap for Beagle (-Xmx)")
    parser.add_argument("--threads", type=int, default=2,
                        help="processes reading an indexed VCF/BCF in parallel (by position range), and Beagle's threads")
    parser.add_argument("--holdout", type=float, help="fraction of individuals (per population) to hold out, e.g. 0.2")
    parser.add_argument("--holdout-output", type=Path, help="haplotype matrix of the held-out individuals")
    parser.add_argument("--seed", type=int, help="seed of the holdout draw and of Beagle (random and recorded when omitted)")


def run(args: argparse.Namespace) -> None:
    _check_options(args)
    seed = resolve_seed(args.seed)
    samples = read_sample_list(args.samples) if args.samples else None
    with ExitStack() as stack:
        vcf_input = args.input
        if args.phase:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="genosynth-beagle-")))
            log(STEP, f"phasing {args.input} with Beagle")
            vcf_input = phase_with_beagle(args.input, workdir, region=args.region, seed=seed,
                                          threads=args.threads, memory=args.beagle_memory)
        if _is_hapt(args):
            source: VcfSource | _MatrixSource = _MatrixSource(read_hapt(args.input, legend=args.legend),
                                                              region=args.region, samples=samples, path=args.input)
        else:
            region = None if args.phase else args.region
            source = VcfSource(vcf_input, region=region, samples=samples)
        populations = source.populations
        if args.populations:
            populations = read_population_table(args.populations, samples=source.samples, column=args.population_column)
        if args.holdout:
            parts = split_individuals(populations, fraction=args.holdout, seed=seed)
            outputs = [args.output, args.holdout_output]
        else:
            parts = (np.arange(len(source.samples)),)
            outputs = [args.output]
        _convert(source, populations, parts, outputs, args, seed)


def _convert(source: "VcfSource | _MatrixSource", populations: np.ndarray, parts: tuple[np.ndarray, ...],
             outputs: list[Path], args: argparse.Namespace, seed: int) -> None:
    offsets = np.concatenate([[0], np.cumsum(source.ploidy, dtype=np.int64)])
    columns = [np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in part]) for part in parts]
    filters = {"min_maf": args.min_maf, "keep_monomorphic": args.keep_monomorphic}
    pieces = _parallel_regions(source, args) if args.threads > 1 else []
    with atomic_outputs(*outputs) as temps:
        with ExitStack() as stack:
            writers = [stack.enter_context(MatrixWriter(temp, samples=source.samples[part], ploidy=source.ploidy[part],
                                                        populations=populations[part], label=source.label))
                       for temp, part in zip(temps, parts)]
            progress = Progress(STEP, unit="sites")
            if pieces:
                counts = _convert_in_parallel(source, pieces, writers, columns, filters, stack, progress, args.threads)
            else:
                counts = _stream(source, writers, columns, filters, progress)
            progress.close()
            kept = counts.pop("kept", 0)
            counts.pop("read", None)
            dropped = dict(sorted(counts.items()))
            if kept == 0:
                raise InputError(f"{args.input}: no sites left after filtering (dropped: "
                                 f"{', '.join(f'{k} {v}' for k, v in dropped.items()) or 'none'})")
            summary = {"sites_written": kept, "records_dropped": dropped,
                       "outputs": [{"path": str(out), "samples": int(len(part)), "haplotypes": int(len(cols))}
                                   for out, part, cols in zip(outputs, parts, columns)]}
            inputs = [p for p in (args.input, args.legend, args.samples, args.populations) if p is not None]
            record = make_record(STEP, parameters=parameters_of(args), seed=seed, inputs=inputs, summary=summary)
            for writer, role in zip(writers, ("train", "holdout") if len(writers) == 2 else ("all",)):
                writer.provenance = source.provenance + [dict(record, role=role)]
    log(STEP, f"wrote {kept} sites; dropped {', '.join(f'{v} {k}' for k, v in dropped.items()) or 'nothing'}; "
              + "; ".join(f"{o['path']}: {o['samples']} samples, {o['haplotypes']} haplotypes" for o in summary["outputs"]))


def _stream(source: "VcfSource | _MatrixSource", writers: list[MatrixWriter], columns: list[np.ndarray],
            filters: dict[str, object], progress: Progress) -> Counter[str]:
    """Append the source's filtered chunks to the writers; return kept and dropped counts."""
    counts: Counter[str] = Counter()
    for sites, rows in _filtered_chunks(source, filters, counts):
        for writer, cols in zip(writers, columns):
            writer.append(sites, rows[:, cols])
        progress.update(counts["read"] - progress.done, kept=counts["kept"])
    return counts + source.dropped


def _filtered_chunks(source: "VcfSource | _MatrixSource", filters: dict[str, object],
                     counts: Counter[str]) -> Iterator[tuple[Sites, np.ndarray]]:
    """The source's chunks without the sites that fail the filters; ``counts`` tallies kept and dropped."""
    for sites, rows in source.chunks():
        keep = _site_filter(rows, counts=counts, **filters)  # type: ignore[arg-type]
        counts["kept"] += int(keep.sum())
        counts["read"] += len(sites)
        yield sites.take(keep), rows[keep]


def _parallel_regions(source: "VcfSource | _MatrixSource", args: argparse.Namespace) -> list[str]:
    """Split an indexed, large VCF/BCF input into consecutive position ranges, one per reading process.

    Splitting needs an index and contig lengths in the header; small inputs are not worth the processes.
    """
    if not isinstance(source, VcfSource) or args.phase or source.path.stat().st_size < _PARALLEL_MIN_BYTES:
        return []
    if not any(Path(f"{source.path}{ext}").is_file() for ext in (".tbi", ".csi")):
        return []
    lengths = source.contig_lengths()
    if args.region:
        chrom, start, end = parse_region(args.region)
        spans = [(chrom, start, end or lengths.get(chrom))]
    else:  # the first contig starts at the first record; later contigs at 1
        first = source.first_position()
        spans = [(chrom, first[1] if chrom == first[0] else 1, length) for chrom, length in lengths.items()]
    if not spans or any(end is None for _, _, end in spans):
        return []
    pieces = []
    per_contig = args.threads * max(1, -(-source.path.stat().st_size // _PIECE_BYTES)) // max(1, len(spans))
    for chrom, start, end in spans:
        bounds = np.linspace(start, end + 1, max(1, per_contig) + 1).astype(np.int64)
        pieces += [f"{chrom}:{lo}-{hi - 1}" for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]
    return pieces


_PARALLEL_MIN_BYTES = 1 << 20  # smaller inputs are read in this process
_PIECE_BYTES = 16 << 20  # compressed input bytes per piece: bounds the memory of pieces in flight


def _convert_in_parallel(source: VcfSource, pieces: list[str], writers: list[MatrixWriter], columns: list[np.ndarray],
                         filters: dict[str, object], stack: ExitStack, progress: Progress, threads: int) -> Counter[str]:
    """Convert the pieces in worker processes and append their sites in piece order.

    At most ``threads + 1`` pieces are in flight, so memory stays bounded whatever the input's size.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = stack.enter_context(ProcessPoolExecutor(max_workers=min(threads, len(pieces)),
                                                   mp_context=multiprocessing.get_context("fork")))
    arguments = (source.path, source.samples.tolist(), source.ploidy, columns, filters)
    pending = [pool.submit(_convert_piece, piece, *arguments) for piece in pieces[: threads + 1]]
    queued = pieces[threads + 1:]
    counts: Counter[str] = Counter()
    while pending:
        sites, parts, piece_counts = pending.pop(0).result()
        if queued:
            pending.append(pool.submit(_convert_piece, queued.pop(0), *arguments))
        counts += piece_counts
        if len(sites):
            for writer, rows in zip(writers, parts):
                writer.append(sites, rows)
        progress.update(piece_counts["read"], kept=counts["kept"])
    return counts + source.dropped


def _convert_piece(piece: str, path: Path, samples: list[str], ploidy: np.ndarray, columns: list[np.ndarray],
                   filters: dict[str, object]) -> tuple[Sites, list[np.ndarray], Counter[str]]:
    """In a worker process: the filtered sites of the records whose POS lies in ``piece``, rows per output."""
    reader = VcfSource(path, region=piece, samples=samples, allow_empty=True)
    if reader.has_records and not np.array_equal(reader.ploidy, ploidy):
        raise InputError(f"{path}: region {piece}: sample ploidy differs from that of the file's first record")
    counts: Counter[str] = Counter()
    chunks = list(_filtered_chunks(reader, filters, counts)) if reader.has_records else []
    sites = Sites.concatenate([c[0] for c in chunks])
    rows = np.concatenate([c[1] for c in chunks]) if chunks else np.empty((0, int(ploidy.sum())), dtype=np.uint8)
    return sites, [rows[:, cols] for cols in columns], counts + reader.dropped


def _site_filter(rows: np.ndarray, *, min_maf: float, keep_monomorphic: bool, counts: Counter[str]) -> np.ndarray:
    n = rows.shape[1]
    alt_count = rows.sum(axis=1, dtype=np.int64)
    polymorphic = (alt_count > 0) & (alt_count < n)
    maf = np.minimum(alt_count, n - alt_count) / n
    keep = np.ones(len(rows), dtype=bool)
    if not keep_monomorphic:
        counts["monomorphic"] += int((~polymorphic).sum())
        keep &= polymorphic
    if min_maf > 0:
        low = keep & (maf < min_maf)
        counts["below_min_maf"] += int(low.sum())
        keep &= ~low
    return keep


def _check_options(args: argparse.Namespace) -> None:
    if (args.holdout is None) != (args.holdout_output is None):
        raise InputError("--holdout and --holdout-output go together")
    if not 0.0 <= args.min_maf <= 0.5:
        raise InputError(f"--min-maf {args.min_maf}: must lie in [0, 0.5]")
    if args.population_column and not args.populations:
        raise InputError("--population-column needs --populations")
    if _is_hapt(args) and not args.legend:
        raise InputError(f"{args.input}: a .hapt input needs --legend")
    if _is_hapt(args) and args.phase:
        raise InputError(f"{args.input}: --phase applies to VCF/BCF input; .hapt haplotypes are phased already")
    if args.region:
        parse_region(args.region)
    if args.holdout_output is not None and args.holdout_output.resolve() == args.output.resolve():
        raise InputError("--holdout-output must differ from --output")


def _is_hapt(args: argparse.Namespace) -> bool:
    name = args.input.name.lower()
    return args.legend is not None or name.endswith(".hapt") or name.endswith(".hapt.gz")


class _MatrixSource:
    """An in-memory matrix (from a .hapt file) seen through the same interface as VcfSource."""

    def __init__(self, matrix: HaplotypeMatrix, *, region: str | None, samples: list[str] | None, path: Path) -> None:
        if samples is not None:
            missing = sorted(set(samples) - set(matrix.samples.tolist()))
            if missing:
                raise InputError(f"{path}: {len(missing)} requested sample(s) not in the file: {', '.join(missing[:10])}")
            matrix = matrix.select_samples(np.flatnonzero(np.isin(matrix.samples, samples)))
        if region:
            chrom, start, end = parse_region(region)
            inside = (matrix.sites.chrom == chrom) & (matrix.sites.pos >= start)
            if end is not None:
                inside &= matrix.sites.pos <= end
            if not inside.any():
                raise InputError(f"{path}: no sites in region {region}")
            matrix = HaplotypeMatrix(matrix.haplotypes[:, inside], matrix.sites.take(inside), matrix.samples,
                                     matrix.ploidy, matrix.populations, matrix.provenance, matrix.label)
        self.matrix = matrix
        self.samples = matrix.samples
        self.ploidy = matrix.ploidy
        self.populations = matrix.populations
        self.label = matrix.label
        self.provenance = matrix.provenance
        self.dropped: Counter[str] = Counter()

    def chunks(self) -> Iterator[tuple[Sites, np.ndarray]]:
        step = 4096
        for lo in range(0, self.matrix.n_sites, step):
            hi = min(lo + step, self.matrix.n_sites)
            yield self.matrix.sites.take(slice(lo, hi)), self.matrix.haplotypes[:, lo:hi].T
