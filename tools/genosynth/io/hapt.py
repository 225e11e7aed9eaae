"""The paper's .hapt/.hapt.gz haplotype files and their .legend site tables (Yelmen et al. 2021).

A .hapt row: ``LABEL NAME v1 v2 ... vN`` separated by spaces, one haplotype a row, values 0/1; the two
haplotypes of individual ``X`` are named ``X_A`` and ``X_B`` on consecutive rows. A legend has a header
``id position a0 a1`` and one row per column, ``id`` being ``CHROM:POS_A0_A1``, a0 = REF (0), a1 = ALT (1).
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from genosynth._infra.errors import InputError
from genosynth._infra.provenance import describe_file
from genosynth.io.matrix import HaplotypeMatrix, Sites

LEGEND_HEADER = ["id", "position", "a0", "a1"]


def read_legend(path: str | Path) -> Sites:
    """Read a legend file into :class:`Sites` (CHROM from the id's prefix before ``:``)."""
    path = Path(path)
    rows = []
    with _open_text(path) as handle:
        header = handle.readline().split()
        if header != LEGEND_HEADER:
            raise InputError(
                f"{path}: line 1: expected legend header {' '.join(LEGEND_HEADER)!r}, got {' '.join(header)!r}"
            )
        for number, line in enumerate(handle, start=2):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 4 or ":" not in fields[0] or not fields[1].isdigit():
                raise InputError(
                    f"{path}: line {number}: expected 'CHROM:POS_A0_A1 POSITION A0 A1', got {line.strip()!r}"
                )
            rows.append(fields)
    if not rows:
        raise InputError(f"{path}: legend lists no sites")
    ids, positions, ref, alt = (np.array(column, dtype=str) for column in zip(*rows))
    chrom = np.array([i.split(":", 1)[0] for i in ids], dtype=str)
    return Sites(chrom=chrom, pos=positions.astype(np.int64), id=ids, ref=ref, alt=alt)


def read_hapt(path: str | Path, *, legend: str | Path) -> HaplotypeMatrix:
    """Read a .hapt or .hapt.gz file with its legend into a :class:`HaplotypeMatrix`.

    Consecutive rows ``X_A``/``X_B`` become one diploid sample ``X``; any other row is a haploid sample
    named as written.

    Example
    -------
    >>> m = read_hapt("805_SNP_1000G_real.hapt.gz", legend="805_SNP.legend")  # doctest: +SKIP
    >>> m.haplotypes.shape  # doctest: +SKIP
    (5008, 805)
    """
    path = Path(path)
    sites = read_legend(legend)
    n_sites = len(sites)
    labels: list[str] = []
    names: list[str] = []
    rows: list[np.ndarray] = []
    try:
        with _open_text(path) as handle:
            for number, line in enumerate(handle, start=1):
                parts = line.rstrip("\n").split(" ", 2)
                if len(parts) < 3:
                    if line.strip():
                        raise InputError(f"{path}: line {number}: expected 'LABEL NAME values...', got too few fields")
                    continue
                rows.append(_parse_values(parts[2], n_sites, path, number, legend))
                labels.append(parts[0])
                names.append(parts[1])
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise InputError(f"{path}: truncated or corrupt gzip data ({err})") from None
    if not rows:
        raise InputError(f"{path}: no haplotype rows")
    samples, ploidy = _pair_haplotypes(names)
    return HaplotypeMatrix(
        haplotypes=np.vstack(rows),
        sites=sites,
        samples=np.array(samples, dtype=str),
        ploidy=np.array(ploidy, dtype=np.int8),
        populations=np.full(len(samples), "", dtype=object).astype(str),
        label=labels[0],
        source=describe_file(path),
    )


def write_hapt(
    rows: Iterator[np.ndarray],
    sites: Sites,
    hapt_path: str | Path,
    legend_path: str | Path,
    *,
    samples: np.ndarray,
    ploidy: np.ndarray,
    label: str,
    gzipped: bool,
) -> None:
    """Write haplotypes as .hapt, one line per row as ``rows`` yields them (each (sites,) uint8, in the order of
    the samples' haplotypes), and the legend of ``sites``."""
    names = []
    for sample, count in zip(samples, ploidy):
        names.extend([f"{sample}_A", f"{sample}_B"] if count == 2 else [str(sample)])
    raw = open(hapt_path, "wb")
    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) if gzipped else raw as out:
        chars = np.empty(2 * len(sites), dtype=np.uint8)
        chars[1::2] = ord(" ")
        chars[-1:] = ord("\n")
        for name, row in zip(names, rows):
            chars[0::2] = row + ord("0")
            out.write(f"{label} {name} ".encode() + chars.tobytes())
    raw.close()
    s = sites
    with open(legend_path, "w") as out:
        out.write(" ".join(LEGEND_HEADER) + "\n")
        for i in range(len(s)):
            out.write(f"{s.chrom[i]}:{s.pos[i]}_{s.ref[i]}_{s.alt[i]} {s.pos[i]} {s.ref[i]} {s.alt[i]}\n")


def _parse_values(text: str, n_sites: int, path: Path, number: int, legend: str | Path) -> np.ndarray:
    data = np.frombuffer(text.rstrip(" \r").encode(), dtype=np.uint8)
    if len(data) == 2 * n_sites - 1 and (data[1::2] == ord(" ")).all():
        values = data[0::2] - ord("0")
    else:
        fields = text.split()
        if len(fields) != n_sites:
            raise InputError(f"{path}: line {number}: {len(fields)} values, but legend {legend} lists {n_sites} sites")
        values = np.array([ord(f[0]) - ord("0") if len(f) == 1 else 255 for f in fields], dtype=np.uint8)
    if values.max() > 1:
        column = int(np.flatnonzero(values > 1)[0])
        raise InputError(f"{path}: line {number}: value in column {column + 3} is not 0 or 1")
    return values


def _pair_haplotypes(names: list[str]) -> tuple[list[str], list[int]]:
    samples, ploidy = [], []
    i = 0
    while i < len(names):
        name = names[i]
        if name.endswith("_A") and i + 1 < len(names) and names[i + 1] == name[:-2] + "_B":
            samples.append(name[:-2])
            ploidy.append(2)
            i += 2
        else:
            samples.append(name)
            ploidy.append(1)
            i += 1
    return samples, ploidy


def _open_text(path: Path) -> IO[str]:
    try:
        raw = open(path, "rb")
    except OSError as err:
        raise InputError(f"{path}: cannot open ({err.strerror})") from None
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="ascii", errors="replace")
    raw.seek(0)
    return io.TextIOWrapper(raw, encoding="ascii", errors="replace")
