"""The one rule that tells a haplotype file's format by its content, never by its name (Galaxy stores every
dataset as ``.dat``): HDF5 signature -> haplotype matrix; ``##fileformat=VCF`` or ``BCF`` (plain or gzip/bgzip)
-> VCF or BCF; rows of ``LABEL NAME 0 1 ...`` (plain or gzip) -> the paper's .hapt."""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from genosynth._infra.errors import InputError

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
GZIP_SIGNATURE = b"\x1f\x8b"
FORMATS = ("matrix", "vcf", "bcf", "hapt")
_HAPT_ROW = re.compile(rb"\S+ \S+( [01])+\s*")


@dataclass(frozen=True)
class Detected:
    """What a file holds: ``format`` (one of FORMATS) and whether it is gzip/bgzip-compressed."""

    format: str
    compressed: bool


def detect_format(path: str | Path) -> Detected:
    """The format of ``path`` by content; an InputError naming the file when it is none of FORMATS.

    Example
    -------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(suffix=".dat") as f:
    ...     _ = f.write(b"##fileformat=VCFv4.2\\n"); f.flush()
    ...     detect_format(f.name)
    Detected(format='vcf', compressed=False)
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            magic = handle.read(8)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as err:
        raise InputError(f"{path}: cannot open ({err.strerror})") from None
    if magic == HDF5_SIGNATURE:
        return Detected("matrix", False)
    compressed = magic[:2] == GZIP_SIGNATURE
    try:
        with (gzip.open if compressed else open)(path, "rb") as handle:
            start = handle.read(1 << 16)
    except (OSError, EOFError, zlib.error):
        from genosynth.io.vcf_text import last_complete_record

        last = last_complete_record(path) if compressed else None
        after = f" after record {last[0]}:{last[1]}" if last else ""
        raise InputError(f"{path}: truncated or corrupt gzip data{after}") from None
    if start.startswith(b"##fileformat=VCF"):
        return Detected("vcf", compressed)
    if start.startswith(b"BCF"):
        return Detected("bcf", compressed)
    first_line = start.split(b"\n", 1)[0]
    if _HAPT_ROW.fullmatch(first_line):
        return Detected("hapt", compressed)
    raise InputError(f"{path}: not a haplotype matrix, VCF/BCF or .hapt file (told by its content)")
