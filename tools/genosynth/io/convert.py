"""Phased VCF/BCF or .hapt + legend -> haplotype matrix file(s), streamed: sites are read and written chunk by
chunk (VCF text in blocks decoded while the previous is written; an indexed BCF in parallel position ranges), so
a chromosome never has to fit in memory; optionally
split by individual into training and held-out files."""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.atomic import atomic_outputs
from genosynth._infra.errors import InputError, OptionError
from genosynth._infra.options import parse_float, parse_int, parse_memory
from genosynth._infra.progress import Progress, logger
from genosynth._infra.provenance import describe_file, make_record, resolve_seed
from genosynth.io.beagle import phase_with_beagle
from genosynth.io.detect import detect_format
from genosynth.io.hapt import read_hapt
from genosynth.io.hdf5 import MatrixWriter
from genosynth.io.holdout import split_individuals
from genosynth.io.matrix import HaplotypeMatrix, Sites
from genosynth.io.read_ahead import read_ahead
from genosynth.io.regions import Region
from genosynth.io.tables import population_labels
from genosynth.io.vcf import VcfSource

STEP = "vcf-to-matrix"


def convert_to_matrix(
    input: str | Path,
    output: str | Path,
    *,
    legend: str | Path | None = None,
    region: str | Region | None = None,
    samples: Sequence[str] | None = None,
    populations: str | Path | Mapping[str, str] | None = None,
    population_column: str | None = None,
    min_maf: float = 0.0,
    keep_monomorphic: bool = False,
    phase: bool = False,
    beagle_memory: str = "2g",
    threads: int = 2,
    holdout: float | None = None,
    holdout_output: str | Path | None = None,
    seed: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Convert phased haplotypes into a haplotype matrix file of biallelic SNPs (and a held-out file).

    Parameters
    ----------
    input, output
        A VCF, bgzipped VCF or BCF (phased; told by content), or the paper's .hapt with its ``legend``; the
        matrix to write (the training individuals when ``holdout`` is given).
    region, samples
        Convert only this region (a VCF/BCF needs its index) and these samples (in file order).
    populations, population_column
        Sample -> population: a mapping, or a TSV file (sample, population; a header line is recognised;
        ``population_column`` picks a column of a wider table). Every sample needs one.
    min_maf, keep_monomorphic
        Sites below this minor allele frequency are dropped, and monomorphic sites unless kept.
    phase, beagle_memory, threads
        Phase and fill missing calls with Beagle 5 first (Java heap ``beagle_memory``); threads decompressing VCF
        text, processes reading an indexed BCF in parallel, and Beagle's threads.
    holdout, holdout_output, seed
        Fraction of individuals per population held out into ``holdout_output``, drawn with ``seed``.

    Returns
    -------
    dict
        The summary in the outputs' provenance: sites written, records dropped by reason, outputs.
    """
    output = Path(output)
    input = Path(input)
    region = None if region is None else Region.parse(region)
    min_maf = parse_float("min_maf", min_maf, minimum=0, maximum=0.5)
    threads = parse_int("threads", threads, minimum=1)
    parse_memory("beagle_memory", beagle_memory)
    if (holdout is None) != (holdout_output is None):
        raise OptionError("holdout", "and holdout_output go together")
    if holdout_output is not None and Path(holdout_output).resolve() == output.resolve():
        raise OptionError("holdout_output", "must differ from the output")
    if population_column is not None and populations is None:
        raise OptionError("population_column", "needs a population table")
    kind = detect_format(input).format
    if kind == "matrix":
        raise InputError(f"{input}: already a haplotype matrix (export writes it as VCF or .hapt)")
    if kind == "hapt" and legend is None:
        raise InputError(f"{input}: a .hapt input needs its legend (--legend)")
    if kind == "hapt" and phase:
        raise OptionError("phase", f"applies to VCF/BCF input; {input.name} holds .hapt haplotypes, phased already")
    seed = resolve_seed(seed)
    say = logger(STEP, progress)
    with ExitStack() as stack:
        vcf_input = input
        if phase:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="genosynth-beagle-")))
            say(f"phasing {input} with Beagle")
            vcf_input = phase_with_beagle(
                input, workdir, region=region, seed=seed, threads=threads, memory=beagle_memory
            )
        if kind == "hapt":
            source: VcfSource | _MatrixSource = _MatrixSource(
                read_hapt(input, legend=legend), region=region, samples=samples, path=input
            )
        else:
            source = VcfSource(
                vcf_input,
                region=None if phase else region,
                samples=list(samples) if samples is not None else None,
                threads=threads,
            )
        labels = None if populations is None else population_labels(source.samples, populations, population_column)
        if holdout is not None:
            parts = split_individuals(
                len(source.samples) if labels is None else labels, fraction=holdout, seed=seed, parameter="holdout"
            )
            outputs = [output, Path(holdout_output)]
        else:
            parts = (np.arange(len(source.samples)),)
            outputs = [output]
        inputs = [describe_file(p) for p in (input, legend) if p is not None]
        if isinstance(populations, (str, Path)):
            inputs.append(describe_file(populations))
        parameters = {
            "region": None if region is None else str(region),
            "samples": None if samples is None else len(samples),
            "population_column": population_column,
            "min_maf": min_maf,
            "keep_monomorphic": keep_monomorphic,
            "phase": phase,
            "beagle_memory": beagle_memory,
            "threads": threads,
            "holdout": holdout,
        }
        return _convert(
            source,
            labels,
            parts,
            outputs,
            filters={"min_maf": min_maf, "keep_monomorphic": keep_monomorphic},
            threads=threads,
            parallel=not phase,
            region=region,
            record_of=lambda summary: make_record(
                STEP, parameters=parameters, seed=seed, inputs=inputs, summary=summary
            ),
            name=input,
            progress=progress,
            say=say,
        )


def _convert(
    source: VcfSource | _MatrixSource,
    labels: np.ndarray | None,
    parts: tuple[np.ndarray, ...],
    outputs: list[Path],
    *,
    filters: dict[str, object],
    threads: int,
    parallel: bool,
    region: Region | None,
    record_of: Any,
    name: Path,
    progress: bool,
    say: Any,
) -> dict[str, Any]:
    populations = source.populations if labels is None else labels
    offsets = np.concatenate([[0], np.cumsum(source.ploidy, dtype=np.int64)])
    columns = [np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in part]) for part in parts]
    pieces = _parallel_regions(source, threads=threads, region=region) if threads > 1 and parallel else []
    with atomic_outputs(*outputs) as temps:
        with ExitStack() as stack:
            writers = [
                stack.enter_context(
                    MatrixWriter(
                        temp,
                        samples=source.samples[part],
                        ploidy=source.ploidy[part],
                        populations=populations[part],
                        label=source.label,
                    )
                )
                for temp, part in zip(temps, parts)
            ]
            meter = Progress(STEP, unit="sites", enabled=progress)
            if pieces:
                counts = _convert_in_parallel(source, pieces, writers, columns, filters, stack, meter, threads)
            else:
                counts = _stream(source, writers, columns, filters, meter)
            meter.close()
            kept = counts.pop("kept", 0)
            counts.pop("read", None)
            dropped = dict(sorted(counts.items()))
            if kept == 0:
                raise InputError(
                    f"{name}: no sites left after filtering (dropped: "
                    f"{', '.join(f'{k} {v}' for k, v in dropped.items()) or 'none'})"
                )
            summary = {
                "sites_written": kept,
                "records_dropped": dropped,
                "outputs": [
                    {"name": out.name, "samples": int(len(part)), "haplotypes": int(len(cols))}
                    for out, part, cols in zip(outputs, parts, columns)
                ],
            }
            record = record_of(summary)
            for writer, role in zip(writers, ("train", "holdout") if len(writers) == 2 else ("all",)):
                writer.provenance = source.provenance + [dict(record, role=role)]
    say(
        f"wrote {kept} sites; dropped {', '.join(f'{v} {k}' for k, v in dropped.items()) or 'nothing'}; "
        + "; ".join(f"{o['name']}: {o['samples']} samples, {o['haplotypes']} haplotypes" for o in summary["outputs"])
    )
    return summary


def _stream(
    source: VcfSource | _MatrixSource,
    writers: list[MatrixWriter],
    columns: list[np.ndarray],
    filters: dict[str, object],
    progress: Progress,
) -> Counter[str]:
    """Append the source's filtered chunks to the writers; return kept and dropped counts."""
    counts: Counter[str] = Counter()
    every = np.arange(int(source.ploidy.sum()))
    picks = [None if np.array_equal(cols, every) else cols for cols in columns]  # None: all rows, no copy
    with closing(read_ahead(_filtered_chunks(source, filters, counts))) as chunks:  # decoding overlaps writing
        for sites, rows in chunks:
            for writer, pick in zip(writers, picks):
                writer.append(sites, rows if pick is None else rows[:, pick])
            progress.update(counts["read"] - progress.done, kept=counts["kept"])
    return counts + source.dropped


def _filtered_chunks(
    source: VcfSource | _MatrixSource, filters: dict[str, object], counts: Counter[str]
) -> Iterator[tuple[Sites, np.ndarray]]:
    """The source's chunks without the sites that fail the filters; ``counts`` tallies kept and dropped."""
    for sites, rows in source.chunks():
        keep = _site_filter(rows, counts=counts, **filters)  # type: ignore[arg-type]
        counts["kept"] += int(keep.sum())
        counts["read"] += len(sites)
        yield sites.take(keep), rows[keep]


def _parallel_regions(source: VcfSource | _MatrixSource, *, threads: int, region: Region | None) -> list[str]:
    """Split an indexed, large BCF input into consecutive position ranges, one per reading process.

    Splitting needs an index and contig lengths in the header; small inputs are not worth the processes.
    """
    if not isinstance(source, VcfSource) or source.reads_text or source.path.stat().st_size < _PARALLEL_MIN_BYTES:
        return []  # VCF text decodes faster in one process (bgzip's threads decompress) than in pieces
    if not any(Path(f"{source.path}{ext}").is_file() for ext in (".tbi", ".csi")):
        return []
    lengths = source.contig_lengths()
    if region:
        spans = [(region.chrom, region.start, region.end or lengths.get(region.chrom))]
    else:  # the first contig starts at the first record; later contigs at 1
        first = source.first_position()
        spans = [(chrom, first[1] if chrom == first[0] else 1, length) for chrom, length in lengths.items()]
    if not spans or any(end is None for _, _, end in spans):
        return []
    pieces = []
    per_contig = threads * max(1, -(-source.path.stat().st_size // _PIECE_BYTES)) // max(1, len(spans))
    for chrom, start, end in spans:
        bounds = np.linspace(start, end + 1, max(1, per_contig) + 1).astype(np.int64)
        pieces += [f"{chrom}:{lo}-{hi - 1}" for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]
    return pieces


_PARALLEL_MIN_BYTES = 1 << 20  # smaller inputs are read in this process
_PIECE_BYTES = 16 << 20  # compressed input bytes per piece: bounds the memory of pieces in flight


def _convert_in_parallel(
    source: VcfSource,
    pieces: list[str],
    writers: list[MatrixWriter],
    columns: list[np.ndarray],
    filters: dict[str, object],
    stack: ExitStack,
    progress: Progress,
    threads: int,
) -> Counter[str]:
    """Convert the pieces in worker processes and append their sites in piece order.

    At most ``threads + 1`` pieces are in flight, so memory stays bounded whatever the input's size.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = stack.enter_context(
        ProcessPoolExecutor(max_workers=min(threads, len(pieces)), mp_context=multiprocessing.get_context("fork"))
    )
    arguments = (source.path, source.samples.tolist(), source.ploidy, columns, filters)
    pending = [pool.submit(_convert_piece, piece, *arguments) for piece in pieces[: threads + 1]]
    queued = pieces[threads + 1 :]
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


def _convert_piece(
    piece: str,
    path: Path,
    samples: list[str],
    ploidy: np.ndarray,
    columns: list[np.ndarray],
    filters: dict[str, object],
) -> tuple[Sites, list[np.ndarray], Counter[str]]:
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


class _MatrixSource:
    """An in-memory matrix (from a .hapt file) seen through the same interface as VcfSource."""

    def __init__(
        self, matrix: HaplotypeMatrix, *, region: Region | None, samples: Sequence[str] | None, path: Path
    ) -> None:
        from genosynth.io import select_named_samples

        if samples is not None:
            matrix = select_named_samples(matrix, samples, path=path)
        if region:
            inside = region.contains(matrix.sites.chrom, matrix.sites.pos)
            if not inside.any():
                raise InputError(f"{path}: no sites in region {region}")
            matrix = matrix.select_sites(inside)
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
