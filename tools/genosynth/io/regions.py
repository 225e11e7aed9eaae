"""Genomic regions ``CHR``, ``CHR:START-END`` or ``CHR:START-`` (1-based, inclusive): one parsed type for every
reader and option that takes a region."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genosynth._infra.errors import OptionError

_REGION = re.compile(r"([^:\s]+)(?::([\d,]+)-([\d,]*))?")


@dataclass(frozen=True)
class Region:
    """A chromosome, or a stretch of one from ``start`` to ``end`` (1-based, inclusive; ``end`` None: to its end).

    Example
    -------
    >>> region = Region.parse("22:16,000,000-16500000")
    >>> region, str(region)
    (Region(chrom='22', start=16000000, end=16500000), '22:16000000-16500000')
    >>> Region.parse("22").contains(np.array(["22", "21"]), np.array([5, 5])).tolist()
    [True, False]
    """

    chrom: str
    start: int = 1
    end: int | None = None

    def __post_init__(self) -> None:
        if self.start < 1 or (self.end is not None and self.end < self.start):
            raise OptionError("region", f"{str(self)!r}: START must be >= 1 and END >= START")

    @classmethod
    def parse(cls, text: str | Region, *, parameter: str = "region") -> Region:
        """A Region from its text; an OptionError naming ``parameter`` when the text is not one."""
        if isinstance(text, Region):
            return text
        match = _REGION.fullmatch(str(text).strip())
        if not match:
            raise OptionError(parameter, f"{text!r}: expected CHR, CHR:START-END or CHR:START-")
        chrom, start, end = match.groups()
        try:
            return cls(chrom, int(start.replace(",", "")) if start else 1, int(end.replace(",", "")) if end else None)
        except OptionError as err:
            raise OptionError(parameter, err.problem) from None

    def __str__(self) -> str:
        if self.start == 1 and self.end is None:
            return self.chrom
        return f"{self.chrom}:{self.start}-{'' if self.end is None else self.end}"

    def contains(self, chromosomes: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Boolean mask of the sites (CHROM, POS arrays) inside the region."""
        inside = (np.asarray(chromosomes) == self.chrom) & (np.asarray(positions) >= self.start)
        if self.end is not None:
            inside &= np.asarray(positions) <= self.end
        return inside

    def site_slice(self, chromosomes: np.ndarray, positions: np.ndarray) -> slice:
        """The consecutive sites inside the region, for sites sorted by position within one block per chromosome."""
        on_chrom = np.flatnonzero(np.asarray(chromosomes) == self.chrom)
        if len(on_chrom) == 0:
            return slice(0, 0)
        first, last = int(on_chrom[0]), int(on_chrom[-1]) + 1
        pos = np.asarray(positions)[first:last]
        lo = first + int(np.searchsorted(pos, self.start, side="left"))
        hi = first + (int(np.searchsorted(pos, self.end, side="right")) if self.end is not None else len(pos))
        return slice(lo, hi)


def read_bed(path: str | Path) -> list[Region]:
    r"""The regions of a BED file (CHROM, 0-based START, END; further columns ignored; comment, ``track`` and
    ``browser`` lines skipped) as 1-based inclusive Regions; an InputError naming the line of a malformed one.

    Example
    -------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".bed", delete=False) as f:
    ...     _ = f.write("22\t16000000\t16500000\tblock1\n")
    >>> read_bed(f.name), os.unlink(f.name)
    ([Region(chrom='22', start=16000001, end=16500000)], None)
    """
    from genosynth._infra.errors import InputError
    from genosynth.io.tables import read_lines

    regions = []
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        fields = line.split("\t")
        try:
            chrom, start, end = fields[0], int(fields[1]), int(fields[2])
            if start < 0 or end <= start:
                raise ValueError
        except (IndexError, ValueError):
            raise InputError(f"{path}: line {number}: expected CHROM<TAB>START<TAB>END with 0 <= START < END") from None
        regions.append(Region(chrom, start + 1, end))
    if not regions:
        raise InputError(f"{path}: no regions")
    return regions


def window_starts(regions: list[Region]) -> list[tuple[str, int]]:
    """Where each window after a chromosome's first begins (CHROM, POS): the boundaries between the windows.

    Example
    -------
    >>> window_starts([Region("1", 1, 100), Region("1", 101, 200), Region("2", 1, 50)])
    [('1', 101)]
    """
    by_chrom: dict[str, list[int]] = {}
    for region in regions:
        by_chrom.setdefault(region.chrom, []).append(region.start)
    return [(chrom, start) for chrom, starts in by_chrom.items() for start in sorted(starts)[1:]]


def write_bed(path: str | Path, regions: list[Region]) -> None:
    """``regions`` (each with an end) as a BED file: CHROM, 0-based START, END, and a name ``w1, w2, ...``."""
    with open(path, "w") as out:
        for number, region in enumerate(regions, start=1):
            out.write(f"{region.chrom}\t{region.start - 1}\t{region.end}\tw{number}\n")
