"""The haplotype matrix: genosynth's one dataset format (HDF5 laid out like scikit-allel's ``vcf_to_hdf5``).

Layout of a file
----------------
``calldata/GT``            int8 (n_sites, n_samples, 2); alleles 0/1, -1 in the second slot of haploid samples;
                           gzip-compressed, chunked along sites so a site range reads only its chunks
``variants/CHROM|ID|REF|ALT``  UTF-8 strings (n_sites,);  ``variants/POS`` int64 (n_sites,)
``samples``                UTF-8 strings (n_samples,)
``sample_info/ploidy``     int8 (n_samples,), 1 or 2
``sample_info/population`` UTF-8 strings (n_samples,), "" where unknown
root attributes            ``format`` = "genosynth-haplotype-matrix", ``format_version``, ``label``
                           (the .hapt row label, "Real" or "AG"), ``provenance`` (JSON list, oldest first)

In memory a :class:`HaplotypeMatrix` holds haplotypes as uint8 (n_haplotypes, n_sites): the haplotypes of a
sample are consecutive rows, ``ploidy[i]`` rows for sample ``i``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError

FORMAT_NAME = "genosynth-haplotype-matrix"
FORMAT_VERSION = 1
_CHUNK_BYTES = 1 << 21


@dataclass
class Sites:
    """Per-site metadata; every array has shape (n_sites,)."""

    chrom: np.ndarray
    pos: np.ndarray
    id: np.ndarray
    ref: np.ndarray
    alt: np.ndarray

    def __len__(self) -> int:
        return len(self.pos)

    def take(self, index: Any) -> "Sites":
        """The sites selected by a slice, boolean mask or integer index array."""
        return Sites(*(getattr(self, name)[index] for name in _SITE_FIELDS))

    @classmethod
    def concatenate(cls, parts: list["Sites"]) -> "Sites":
        """The sites of ``parts`` one after the other (no sites when ``parts`` is empty)."""
        if not parts:
            return cls(*(np.array([], dtype=np.int64 if name == "pos" else str) for name in _SITE_FIELDS))
        return cls(*(np.concatenate([getattr(part, name) for part in parts]) for name in _SITE_FIELDS))

    def label(self, i: int) -> str:
        """``CHROM:POS`` of site ``i``, as error messages name it."""
        return f"{self.chrom[i]}:{self.pos[i]}"


_SITE_FIELDS = ("chrom", "pos", "id", "ref", "alt")
_VARIANT_NAMES = {"chrom": "CHROM", "pos": "POS", "id": "ID", "ref": "REF", "alt": "ALT"}


@dataclass
class HaplotypeMatrix:
    """Phased haplotypes with site, sample and population metadata and a provenance record.

    Parameters
    ----------
    haplotypes
        uint8 array (n_haplotypes, n_sites) of 0/1 alleles (0 = REF).
    sites
        Site metadata, ``len(sites) == n_sites``.
    samples
        Sample names (n_samples,); a sample's haplotypes are consecutive rows.
    ploidy
        Haplotypes per sample (n_samples,), each 1 or 2.
    populations
        Population label per sample (n_samples,), "" where unknown.
    provenance
        Provenance records, oldest first (see :mod:`genosynth.provenance`).
    label
        Row label used by the .hapt format ("Real" for real data, "AG" for artificial genomes).

    Example
    -------
    >>> import numpy as np
    >>> m = HaplotypeMatrix(
    ...     haplotypes=np.array([[0, 1], [1, 1], [0, 0]], dtype=np.uint8),
    ...     sites=Sites(np.array(["1", "1"]), np.array([10, 20]), np.array([".", "."]),
    ...                 np.array(["A", "C"]), np.array(["G", "T"])),
    ...     samples=np.array(["s1", "s2"]), ploidy=np.array([2, 1], dtype=np.int8),
    ...     populations=np.array(["YRI", "CEU"]))
    >>> m.haplotype_sample.tolist(), m.haplotype_index.tolist()
    (['s1', 's1', 's2'], [0, 1, 0])
    """

    haplotypes: np.ndarray
    sites: Sites
    samples: np.ndarray
    ploidy: np.ndarray
    populations: np.ndarray
    provenance: list[dict[str, Any]] = field(default_factory=list)
    label: str = "Real"

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def n_haplotypes(self) -> int:
        return self.haplotypes.shape[0]

    @property
    def n_sites(self) -> int:
        return self.haplotypes.shape[1]

    @property
    def haplotype_sample(self) -> np.ndarray:
        """Sample name of each haplotype (n_haplotypes,)."""
        return np.repeat(self.samples, self.ploidy)

    @property
    def haplotype_index(self) -> np.ndarray:
        """Index of each haplotype within its sample, 0 or 1 (n_haplotypes,)."""
        starts = np.repeat(self.sample_offsets[:-1], self.ploidy)
        return np.arange(self.n_haplotypes) - starts

    @property
    def haplotype_population(self) -> np.ndarray:
        """Population label of each haplotype (n_haplotypes,)."""
        return np.repeat(self.populations, self.ploidy)

    @property
    def sample_offsets(self) -> np.ndarray:
        """First haplotype row of each sample, plus the total at the end (n_samples + 1,)."""
        return np.concatenate([[0], np.cumsum(self.ploidy, dtype=np.int64)])

    def select_samples(self, index: np.ndarray) -> "HaplotypeMatrix":
        """A new matrix holding the samples at ``index`` (integer array), haplotypes and all."""
        offsets = self.sample_offsets
        rows = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in index]) if len(index) else []
        return HaplotypeMatrix(
            haplotypes=self.haplotypes[np.asarray(rows, dtype=np.int64)],
            sites=self.sites,
            samples=self.samples[index],
            ploidy=self.ploidy[index],
            populations=self.populations[index],
            provenance=list(self.provenance),
            label=self.label,
        )


    def select_sites(self, index: np.ndarray) -> "HaplotypeMatrix":
        """A new matrix holding the sites at ``index`` (integer array or boolean mask), samples unchanged."""
        return HaplotypeMatrix(
            haplotypes=np.ascontiguousarray(self.haplotypes[:, index]),
            sites=self.sites.take(index),
            samples=self.samples,
            ploidy=self.ploidy,
            populations=self.populations,
            provenance=list(self.provenance),
            label=self.label,
        )

def parse_region(text: str) -> tuple[str, int, int | None]:
    """Parse ``CHR``, ``CHR:START-END`` or ``CHR:START-`` (1-based, inclusive) into (chrom, start, end).

    Example
    -------
    >>> parse_region("22:16000000-16500000")
    ('22', 16000000, 16500000)
    """
    match = re.fullmatch(r"([^:\s]+)(?::([\d,]+)-([\d,]*))?", text.strip())
    if not match:
        raise InputError(f"--region {text!r}: expected CHR, CHR:START-END or CHR:START-")
    chrom, start, end = match.groups()
    start_i = int(start.replace(",", "")) if start else 1
    end_i = int(end.replace(",", "")) if end else None
    if start_i < 1 or (end_i is not None and end_i < start_i):
        raise InputError(f"--region {text!r}: START must be >= 1 and END >= START")
    return chrom, start_i, end_i


def read_matrix(path: str | Path, *, region: str | None = None) -> HaplotypeMatrix:
    """Read and validate a haplotype matrix; with ``region`` only that site range is read from disk.

    Raises :class:`InputError` naming the file and the problem when it is not a valid matrix.

    Example
    -------
    >>> m = read_matrix("train.h5", region="22:15000000-15100000")  # doctest: +SKIP
    """
    import h5py

    path = Path(path)
    try:
        handle = h5py.File(path, "r")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError:
        raise InputError(f"{path}: not a genosynth haplotype matrix (not an HDF5 file, or truncated)") from None
    with handle:
        if handle.attrs.get("format") != FORMAT_NAME:
            raise InputError(f"{path}: not a genosynth haplotype matrix (HDF5 without format={FORMAT_NAME!r})")
        version = int(handle.attrs.get("format_version", 0))
        if version > FORMAT_VERSION:
            raise InputError(f"{path}: matrix format version {version} is newer than this genosynth reads")
        try:
            sites = Sites(*(_read_strings(handle, f"variants/{_VARIANT_NAMES[name]}") if name != "pos"
                            else handle["variants/POS"][:].astype(np.int64) for name in _SITE_FIELDS))
            samples = _read_strings(handle, "samples")
            ploidy = handle["sample_info/ploidy"][:].astype(np.int8)
            populations = _read_strings(handle, "sample_info/population")
            gt = handle["calldata/GT"]
            if gt.ndim != 3 or gt.shape[1:] != (len(samples), 2) or gt.shape[0] != len(sites):
                raise InputError(f"{path}: calldata/GT has shape {gt.shape}, expected "
                                 f"({len(sites)}, {len(samples)}, 2)")
            if len(ploidy) != len(samples) or not np.isin(ploidy, (1, 2)).all():
                raise InputError(f"{path}: sample_info/ploidy must hold 1 or 2 for each of {len(samples)} samples")
            selection = _region_slice(sites, region) if region else slice(0, len(sites))
            haplotypes = _read_haplotypes(gt, ploidy, selection, path, sites)
            provenance = json.loads(handle.attrs.get("provenance", "[]"))
            label = str(handle.attrs.get("label", "Real"))
        except KeyError as missing:
            raise InputError(f"{path}: not a valid haplotype matrix, missing {missing}") from None
        except OSError as err:
            raise InputError(f"{path}: cannot read ({err}); the file may be truncated") from None
    try:
        return HaplotypeMatrix(haplotypes, sites.take(selection), samples, ploidy, populations, provenance, label)
    except InputError as err:
        raise InputError(f"{path}: {err}") from None


def write_matrix(path: str | Path, matrix: HaplotypeMatrix) -> None:
    """Write ``matrix`` to ``path`` (not atomic by itself: pass a temporary name from atomic_outputs)."""
    with MatrixWriter(path, samples=matrix.samples, ploidy=matrix.ploidy, populations=matrix.populations,
                      label=matrix.label) as writer:
        step = max(1, _CHUNK_BYTES // max(1, matrix.n_haplotypes))
        for start in range(0, matrix.n_sites, step):
            stop = min(start + step, matrix.n_sites)
            writer.append(matrix.sites.take(slice(start, stop)), matrix.haplotypes[:, start:stop].T)
        writer.provenance = matrix.provenance


class MatrixWriter:
    """Streams sites into a matrix file, so converters never hold the whole matrix in memory.

    ``append(sites, rows)`` takes rows of shape (n_sites_chunk, n_haplotypes); ``provenance`` is written
    when the writer closes.

    Example
    -------
    >>> with MatrixWriter("m.h5", samples=names, ploidy=ploidy, populations=pops) as w:  # doctest: +SKIP
    ...     w.append(sites, rows)
    ...     w.provenance = [record]
    """

    def __init__(self, path: str | Path, *, samples: np.ndarray, ploidy: np.ndarray, populations: np.ndarray,
                 label: str = "Real") -> None:
        import h5py

        self.samples = np.asarray(samples, dtype=str)
        self.ploidy = np.asarray(ploidy, dtype=np.int8)
        self.populations = np.asarray(populations, dtype=str)
        self.provenance: list[dict[str, Any]] = []
        self._keep = _haplotype_columns(self.ploidy)
        self._site_parts: list[Sites] = []
        self._n_sites = 0
        n_samples = len(self.samples)
        self._file = h5py.File(path, "w")
        self._file.attrs["format"] = FORMAT_NAME
        self._file.attrs["format_version"] = FORMAT_VERSION
        self._file.attrs["label"] = label
        chunk_sites = max(1, _CHUNK_BYTES // max(1, 2 * n_samples))
        self._gt = self._file.create_dataset(
            "calldata/GT", shape=(0, n_samples, 2), maxshape=(None, n_samples, 2), dtype=np.int8,
            chunks=(chunk_sites, max(1, n_samples), 2), compression="gzip", compression_opts=1)

    def append(self, sites: Sites, rows: np.ndarray) -> None:
        """Append ``len(sites)`` sites whose haplotypes are ``rows`` (n_sites_chunk, n_haplotypes)."""
        n = len(sites)
        if rows.shape != (n, len(self._keep)):
            raise ValueError(f"rows shape {rows.shape} != ({n}, {len(self._keep)})")
        gt = np.full((n, len(self.samples) * 2), -1, dtype=np.int8)
        gt[:, self._keep] = rows
        self._gt.resize(self._n_sites + n, axis=0)
        self._gt[self._n_sites:] = gt.reshape(n, len(self.samples), 2)
        self._n_sites += n
        self._site_parts.append(sites)

    def __enter__(self) -> "MatrixWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self._finish()
        finally:
            self._file.close()

    def _finish(self) -> None:
        import h5py

        text = h5py.string_dtype("utf-8")
        sites = Sites.concatenate(self._site_parts)
        for name in _SITE_FIELDS:
            values = getattr(sites, name)
            if name == "pos":
                self._file.create_dataset("variants/POS", data=values.astype(np.int64))
            else:
                self._file.create_dataset(f"variants/{_VARIANT_NAMES[name]}", data=values.astype(object), dtype=text)
        self._file.create_dataset("samples", data=self.samples.astype(object), dtype=text)
        self._file.create_dataset("sample_info/ploidy", data=self.ploidy)
        self._file.create_dataset("sample_info/population", data=self.populations.astype(object), dtype=text)
        self._file.attrs["provenance"] = json.dumps(self.provenance)


def _haplotype_columns(ploidy: np.ndarray) -> np.ndarray:
    """Positions of the haplotypes in a flattened (n_samples * 2) GT row: 2i, and 2i+1 for diploids."""
    second = np.flatnonzero(ploidy == 2) * 2 + 1
    return np.sort(np.concatenate([np.arange(len(ploidy)) * 2, second]))


def _read_strings(handle: Any, name: str) -> np.ndarray:
    return np.asarray(handle[name].asstr()[:], dtype=str)


def _region_slice(sites: Sites, region: str) -> slice:
    chrom, start, end = parse_region(region)
    on_chrom = np.flatnonzero(sites.chrom == chrom)
    if len(on_chrom) == 0:
        return slice(0, 0)
    first, last = on_chrom[0], on_chrom[-1] + 1
    pos = sites.pos[first:last]
    lo = first + np.searchsorted(pos, start, side="left")
    hi = first + (np.searchsorted(pos, end, side="right") if end is not None else len(pos))
    return slice(int(lo), int(hi))


def _read_haplotypes(gt: Any, ploidy: np.ndarray, selection: slice, path: Path, sites: Sites) -> np.ndarray:
    keep = _haplotype_columns(ploidy)
    n_samples = len(ploidy)
    start, stop = selection.start, selection.stop
    haplotypes = np.empty((len(keep), stop - start), dtype=np.uint8)
    step = max(1, _CHUNK_BYTES // max(1, 2 * n_samples))
    haploid_second = np.flatnonzero(ploidy == 1) * 2 + 1
    for lo in range(start, stop, step):
        hi = min(lo + step, stop)
        block = gt[lo:hi].reshape(hi - lo, 2 * n_samples)
        values = block[:, keep]
        bad = (values != 0) & (values != 1)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise InputError(f"{path}: site {sites.label(lo + row)}: allele value {values[row, col]} "
                             f"is not 0 or 1 (haplotype {col})")
        if len(haploid_second) and (block[:, haploid_second] != -1).any():
            row = np.flatnonzero((block[:, haploid_second] != -1).any(axis=1))[0]
            raise InputError(f"{path}: site {sites.label(lo + row)}: a haploid sample has a second allele")
        haplotypes[:, lo - start:hi - start] = values.T
    return haplotypes


def _validate(matrix: HaplotypeMatrix) -> None:
    """Check shapes, dtypes, values and site order; raise InputError with the first violation."""
    h = matrix.haplotypes
    s = matrix.sites
    if h.ndim != 2 or h.dtype != np.uint8:
        raise InputError(f"haplotypes must be a 2-D uint8 array, got {h.ndim}-D {h.dtype}")
    n_samples = len(matrix.samples)
    for name in ("ploidy", "populations"):
        if len(getattr(matrix, name)) != n_samples:
            raise InputError(f"{name} has {len(getattr(matrix, name))} entries for {n_samples} samples")
    if not np.isin(matrix.ploidy, (1, 2)).all():
        raise InputError("ploidy must be 1 or 2 for every sample")
    if int(matrix.ploidy.sum()) != h.shape[0]:
        raise InputError(f"{h.shape[0]} haplotype rows, but the samples' ploidy adds up to {int(matrix.ploidy.sum())}")
    for name in _SITE_FIELDS:
        if len(getattr(s, name)) != h.shape[1]:
            raise InputError(f"site field {name} has {len(getattr(s, name))} entries for {h.shape[1]} sites")
    if len(np.unique(matrix.samples)) != n_samples:
        names, counts = np.unique(matrix.samples, return_counts=True)
        raise InputError(f"sample {names[counts > 1][0]!r} appears more than once")
    if h.size and h.max() > 1:
        row, col = np.argwhere(h > 1)[0]
        raise InputError(f"site {s.label(col)}: allele value {h[row, col]} is not 0 or 1")
    SiteOrderCheck().check(s)


class SiteOrderCheck:
    """Checks, chunk by chunk, that positions never decrease within a chromosome and that each
    chromosome's sites form one block; raises InputError naming the first offending site."""

    def __init__(self) -> None:
        self._last: tuple[str, int] | None = None
        self._finished: set[str] = set()

    def check(self, s: Sites) -> None:
        if len(s) == 0:
            return
        chrom = s.chrom.astype(str)
        prev_chrom = np.concatenate([[self._last[0] if self._last else None], chrom[:-1]])
        prev_pos = np.concatenate([[self._last[1] if self._last else -1], s.pos[:-1]])
        same = chrom == prev_chrom
        backwards = same & (s.pos < prev_pos)
        if backwards.any():
            i = int(np.flatnonzero(backwards)[0])
            raise InputError(f"site {s.label(i)}: positions are not sorted (follows {prev_chrom[i]}:{prev_pos[i]})")
        for i in np.flatnonzero(~same):
            if chrom[i] in self._finished:
                raise InputError(f"site {s.label(i)}: chromosome {chrom[i]} appears in more than one block of sites")
            if prev_chrom[i] is not None:
                self._finished.add(str(prev_chrom[i]))
        self._last = (str(chrom[-1]), int(s.pos[-1]))
