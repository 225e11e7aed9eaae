"""VCF text records decoded a block of lines at a time: a line whose genotypes are exactly the phased 0/1 calls
of the expected ploidy ("GT" alone) is checked and decoded with whole-block numpy operations against a byte
template; any other line is split field by field into the (samples, 3) genotype array cyvcf2 would give.

Text comes from ``bgzip -dc`` (the whole file, BGZF blocks decompressed in parallel), from ``tabix`` (a region)
or straight from an uncompressed file, so nothing but the block in hand is held in memory.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from genosynth._infra.errors import InputError
from genosynth.io.read_ahead import read_ahead
from genosynth.io.regions import Region

BLOCK_BYTES = 1 << 24  # text read per block; a longer line is read whole
_ZERO = ord("0")


def is_vcf_text(path: Path) -> bool:
    """Whether ``path`` holds VCF text, plain or gzip/BGZF-compressed (not BCF)."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, 16)
        except zlib.error:
            return False
    return head.startswith(b"#")


def text_tools_available(*, region: Region | None) -> bool:
    """Whether text reading can serve this read: a region needs ``tabix``; a whole file is read through ``bgzip``
    where installed, else through Python's gzip."""
    return region is None or shutil.which("tabix") is not None


@contextmanager
def data_blocks(path: Path, *, region: Region | None, threads: int) -> Iterator[Iterator[bytes]]:
    """Blocks of whole data lines (bytes ending in a newline) of ``path``, header lines skipped.

    A region is read through ``tabix`` (records overlapping it; the caller drops those starting before it). A
    failing decompressor is a ``DecompressionError`` with what it said, raised after the last good block. Blocks
    are read in a background thread, one ahead, while the caller decodes the one before.
    """
    process: subprocess.Popen | None = None
    with open(path, "rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    if region is not None:
        process = subprocess.Popen(["tabix", str(path), str(region)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elif compressed and shutil.which("bgzip"):
        process = subprocess.Popen(
            ["bgzip", "-dc", "-@", str(max(1, threads)), str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    stream: IO[bytes]
    if process is not None:
        assert process.stdout is not None
        stream = process.stdout
    else:
        stream = gzip.open(path, "rb") if compressed else open(path, "rb")  # type: ignore[assignment]
    blocks = read_ahead(_blocks(stream, process), depth=1)
    try:
        yield blocks
    finally:
        if process is not None:
            process.kill()  # first: a read waiting on the pipe returns
        blocks.close()
        stream.close()
        if process is not None:
            process.wait()
            assert process.stderr is not None
            process.stderr.close()


def _blocks(stream: IO[bytes], process: subprocess.Popen | None) -> Iterator[bytes]:
    rest = b""
    in_header = True
    while True:
        try:
            data = stream.read(BLOCK_BYTES)
        except (OSError, EOFError, zlib.error) as err:  # Python's gzip on a damaged file
            raise DecompressionError(str(err)) from None
        if not data:
            break
        data = rest + data if rest else data
        cut = data.rfind(b"\n") + 1
        block, rest = data[:cut], data[cut:]
        if in_header and block:
            block, in_header = _skip_header(block)
        if block:
            yield block
    if process is not None:
        assert process.stderr is not None
        if process.wait() != 0:
            message = process.stderr.read().decode(errors="replace").strip().splitlines()
            raise DecompressionError(message[0] if message else f"exit code {process.returncode}")
    if rest and not (in_header and rest.startswith(b"#")):
        yield rest + b"\n"


def _skip_header(block: bytes) -> tuple[bytes, bool]:
    """The block without its leading header lines, and whether the header may continue into the next block."""
    if not block.startswith(b"#"):
        return block, False
    last = block.rfind(b"\n#")  # data lines never start with '#', so this is the last header line of the block
    end = block.find(b"\n", last + 1) + 1 if last >= 0 else block.find(b"\n") + 1
    remainder = block[end:]
    return remainder, not remainder


def last_complete_record(path: str | Path) -> tuple[str, int] | None:
    """CHROM and POS of the last whole data line of a damaged gzip or BGZF file, decompressed from its start on
    one thread as far as its bytes allow (so the same record on every run, however far a parallel decompressor
    got before it failed), or None.

    Example
    -------
    >>> last_complete_record("truncated.vcf.gz")  # doctest: +SKIP
    ('22', 16050075)
    """
    last, tail = b"", b""
    decompressor = zlib.decompressobj(wbits=31)
    with open(path, "rb") as raw:
        pending = b""
        while True:
            compressed = pending or raw.read(1 << 20)
            if not compressed:
                break
            try:
                data = decompressor.decompress(compressed)
            except zlib.error:
                break
            pending = b""
            if decompressor.eof:  # the end of one gzip member (a BGZF block): the next starts afresh
                pending = decompressor.unused_data
                decompressor = zlib.decompressobj(wbits=31)
            data = tail + data
            cut = data.rfind(b"\n")
            if cut < 0:
                tail = data
                continue
            start = data.rfind(b"\n", 0, cut) + 1
            if not data.startswith(b"#", start):
                last = data[start:cut]
            tail = data[cut + 1 :]
    fields = last.split(b"\t", 2)
    try:
        return fields[0].decode(errors="replace"), int(fields[1])
    except (IndexError, ValueError):
        return None


class DecompressionError(Exception):
    """The decompressor (or tabix) failed; its message."""


@dataclass(frozen=True)
class GenotypeTemplate:
    """The genotype text of a line whose calls are all phased 0/1 at the file's ploidy, as a byte template.

    Parameters
    ----------
    ploidy
        Ploidy (1 or 2) of every sample column of the file, from its first record.
    keep
        Indices of the sample columns to decode, in file order.

    Examples
    --------
    >>> t = GenotypeTemplate.of(np.array([2, 1, 2]), np.array([0, 2]))
    >>> bytes(t.expected).decode(), t.allele_columns.tolist()
    ('1|1\\t1\\t1|1\\n', [0, 2, 6, 8])
    """

    expected: np.ndarray  # uint8 (width,): the text with every allele byte '1' ('0' and '1' OR-ed with 1)
    allele_mask: np.ndarray  # uint8 (width,): 1 at allele bytes, 0 at separators
    allele_columns: np.ndarray  # offsets of the kept samples' allele bytes, in haplotype order

    @classmethod
    def of(cls, ploidy: np.ndarray, keep: np.ndarray) -> GenotypeTemplate:
        widths = np.where(np.asarray(ploidy) == 2, 4, 2)
        starts = np.concatenate([[0], np.cumsum(widths)[:-1]])
        expected = np.full(int(widths.sum()), ord("\t"), dtype=np.uint8)
        expected[-1] = ord("\n")
        diploid = np.asarray(ploidy) == 2
        expected[starts[diploid] + 1] = ord("|")
        alleles = np.zeros(len(expected), dtype=bool)
        alleles[starts] = True
        alleles[starts[diploid] + 2] = True
        expected[alleles] = ord("1")
        mask = alleles.astype(np.uint8)
        kept = np.zeros(len(ploidy), dtype=bool)
        kept[keep] = True
        kept_starts = starts[kept]
        second = starts[kept & diploid] + 2
        return cls(expected=expected, allele_mask=mask, allele_columns=np.sort(np.concatenate([kept_starts, second])))

    @property
    def width(self) -> int:
        return len(self.expected)

    @property
    def tabs(self) -> int:
        """Tabs in the calls' text (one fewer than the samples)."""
        return int((self.expected == ord("\t")).sum())


@dataclass
class Block:
    """One block of data lines, decoded as far as arrays go.

    ``starts``/``ends``: each line's first byte and its newline. ``matched``: lines whose calls match the template
    and whose first nine fields are tab-separated with FORMAT "GT"; their ``alleles`` (matched lines x kept
    haplotypes, uint8) and their ``chrom``, ``pos``, ``id``, ``ref``, ``alt`` fields (bytes arrays, an entry per
    matched line) are decoded. Other lines are left to the caller, field by field.
    """

    raw: bytes
    starts: np.ndarray
    ends: np.ndarray
    matched: np.ndarray
    alleles: np.ndarray
    chrom: np.ndarray
    pos: np.ndarray
    id: np.ndarray
    ref: np.ndarray
    alt: np.ndarray


def decode_block(raw: bytes, template: GenotypeTemplate) -> Block:
    """Decode the lines of ``raw`` (whole lines, each ending in a newline) that match ``template``."""
    block = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(block == 10)
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    width = template.width
    tail_starts = ends + 1 - width
    long_enough = tail_starts > starts  # room for the fixed fields before the calls
    tails = (
        sliding_window_view(block, width)[np.where(long_enough, tail_starts, 0)]
        if len(block) >= width
        else np.zeros((len(ends), width), dtype=np.uint8)
    )
    matched = long_enough & ((tails | template.allele_mask) == template.expected).all(axis=1)
    matched &= block[np.maximum(tail_starts - 1, 0)] == ord("\t")  # the calls start right after a tab
    # the fixed fields of those lines, all at once: exactly nine tabs in each, so nine fields a line
    prefixes, offsets = _joined(block, starts[matched], tail_starts[matched])
    tabs = np.add.reduceat((prefixes == ord("\t")).astype(np.int32), offsets) if len(offsets) else offsets
    if (tabs != 9).any():
        matched[np.flatnonzero(matched)[tabs != 9]] = False
        prefixes, offsets = _joined(block, starts[matched], tail_starts[matched])
    fields = prefixes.tobytes().split(b"\t")[:-1]
    columns = [np.array(fields[k::9], dtype=bytes) for k in range(9)]
    if len(columns[8]) and (columns[8] != b"GT").any():  # another FORMAT: those lines go field by field
        other = columns[8] != b"GT"
        matched[np.flatnonzero(matched)[other]] = False
        columns = [column[~other] for column in columns]
    alleles = np.take(tails[matched], template.allele_columns, axis=1)
    alleles -= _ZERO
    return Block(
        raw=raw,
        starts=starts,
        ends=ends,
        matched=matched,
        alleles=alleles,
        chrom=columns[0],
        pos=columns[1],
        id=columns[2],
        ref=columns[3],
        alt=columns[4],
    )


def _joined(block: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bytes [start, stop) of each line joined, and where each line's bytes begin in them."""
    lengths = stops - starts
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(lengths) else lengths
    index = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(starts - offsets, lengths)
    return block[index], offsets


def parse_genotypes(fields: list[bytes], keep: np.ndarray, where: str) -> np.ndarray:
    """(kept samples, 3) int16 as cyvcf2's ``genotype.array()``: allele 1, allele 2 (-2 for a haploid call),
    phased flag; -1 for a missing allele. ``fields`` are a line's sample columns."""
    gt = np.empty((len(keep), 3), dtype=np.int16)
    for row, column in enumerate(keep):
        call = fields[column].split(b":", 1)[0]
        phased = b"/" not in call
        alleles = call.replace(b"/", b"|").split(b"|")
        if len(alleles) > 2:
            raise InputError(f"{where}: ploidy {len(alleles)} is not supported (1 or 2)")
        try:
            values = [-1 if a == b"." else int(a) for a in alleles]
        except ValueError:
            raise InputError(f"{where}: genotype {call.decode(errors='replace')!r} is not a call") from None
        gt[row] = (values[0], values[1] if len(values) == 2 else -2, phased)
    return gt
