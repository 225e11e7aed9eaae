"""The haplotype-matrix file: HDF5 laid out like scikit-allel's ``vcf_to_hdf5`` (Galaxy datatype ``h5``).

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
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.errors import InputError
from genosynth._infra.provenance import describe_file
from genosynth.io.matrix import SITE_FIELDS, HaplotypeMatrix, Sites
from genosynth.io.regions import Region

FORMAT_NAME = "genosynth-haplotype-matrix"
FORMAT_VERSION = 1
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_CHUNK_BYTES = 1 << 21
_VARIANT_NAMES = {"chrom": "CHROM", "pos": "POS", "id": "ID", "ref": "REF", "alt": "ALT"}


def read_matrix(path: str | Path, *, region: str | Region | None = None, preceding_sites: int = 0) -> HaplotypeMatrix:
    """Read and validate a haplotype matrix; with ``region`` only that site range is read from disk, and with
    ``preceding_sites`` also up to that many sites before it on its chromosome (a window's context: see
    :func:`genosynth.io.windows.split_window`).

    Raises :class:`InputError` naming the file and the problem when it is not a valid matrix.

    Example
    -------
    >>> m = read_matrix("train.h5", region="22:15000000-15100000")  # doctest: +SKIP
    """
    path = Path(path)
    region = None if region is None else Region.parse(region)
    with _open_matrix(path) as (handle, header):
        try:
            sites = _read_sites(handle)
            selection = (
                _with_preceding(region.site_slice(sites.chrom, sites.pos), sites, preceding_sites)
                if region
                else slice(0, len(sites))
            )
            haplotypes = _read_haplotypes(handle["calldata/GT"], header.ploidy, selection, path, sites)
            _check_positions(sites, path)
        except KeyError as missing:
            raise InputError(f"{path}: not a valid haplotype matrix, missing {missing}") from None
        except OSError as err:
            raise InputError(f"{path}: cannot read ({err}); the file may be truncated") from None
    try:
        return dataclasses.replace(header, haplotypes=haplotypes, sites=sites.take(selection))
    except InputError as err:
        raise InputError(f"{path}: {err}") from None


@dataclass
class MatrixBlocks:
    """A matrix file read a block of sites at a time (:func:`read_matrix_blocks`).

    Attributes
    ----------
    header
        The file's samples, populations, provenance and source, without sites.
    n_sites, chromosomes
        Its number of sites and its chromosomes in order.
    blocks
        Consecutive blocks of sites of every sample, each checked as :func:`read_matrix` checks the whole file.
    """

    header: HaplotypeMatrix
    n_sites: int
    chromosomes: list[str]
    blocks: Iterator[HaplotypeMatrix]


def read_matrix_blocks(path: str | Path, *, block_sites: int = 50_000) -> MatrixBlocks:
    """A matrix file read ``block_sites`` sites at a time, so that memory holds one block whatever the file's
    length.

    Example
    -------
    >>> reference = read_matrix_blocks("chr22.h5", block_sites=50_000)  # doctest: +SKIP
    >>> sum(block.n_sites for block in reference.blocks) == reference.n_sites  # doctest: +SKIP
    True
    """
    path = Path(path)
    with _open_matrix(path) as (handle, header):
        n_sites = handle["variants/POS"].shape[0]
        chromosomes: dict[str, None] = {}
        for lo in range(0, n_sites, block_sites):
            chromosomes.update(dict.fromkeys(_read_strings(handle, "variants/CHROM", slice(lo, lo + block_sites))))

    def blocks() -> Iterator[HaplotypeMatrix]:
        with _open_matrix(path) as (handle, again):
            try:
                gt = handle["calldata/GT"]
                for lo in range(0, n_sites, block_sites):
                    sites = _read_sites(handle, slice(lo, lo + block_sites))
                    haplotypes = _read_haplotypes(
                        gt[lo : lo + block_sites], again.ploidy, slice(0, len(sites)), path, sites
                    )
                    _check_positions(sites, path)
                    yield dataclasses.replace(again, haplotypes=haplotypes, sites=sites)
            except KeyError as missing:
                raise InputError(f"{path}: not a valid haplotype matrix, missing {missing}") from None
            except OSError as err:
                raise InputError(f"{path}: cannot read ({err}); the file may be truncated") from None

    return MatrixBlocks(header, n_sites, list(chromosomes), blocks())


@contextlib.contextmanager
def _open_matrix(path: Path) -> Iterator[tuple[Any, HaplotypeMatrix]]:
    """An open matrix file and its samples without sites, its header checked; an InputError naming the file when
    it is not a valid matrix."""
    import h5py

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
            n_sites = handle["variants/POS"].shape[0]
            samples = _read_strings(handle, "samples")
            ploidy = handle["sample_info/ploidy"][:].astype(np.int8)
            populations = _read_strings(handle, "sample_info/population")
            gt = handle["calldata/GT"]
            if gt.ndim != 3 or gt.shape[1:] != (len(samples), 2) or gt.shape[0] != n_sites:
                raise InputError(f"{path}: calldata/GT has shape {gt.shape}, expected ({n_sites}, {len(samples)}, 2)")
            if len(ploidy) != len(samples) or not np.isin(ploidy, (1, 2)).all():
                raise InputError(f"{path}: sample_info/ploidy must hold 1 or 2 for each of {len(samples)} samples")
            provenance = _read_provenance(handle, path)
            label = str(handle.attrs.get("label", "Real"))
        except KeyError as missing:
            raise InputError(f"{path}: not a valid haplotype matrix, missing {missing}") from None
        except OSError as err:
            raise InputError(f"{path}: cannot read ({err}); the file may be truncated") from None
        no_sites = Sites.concatenate([])
        try:
            header = HaplotypeMatrix(
                np.empty((int((ploidy).sum()), 0), np.uint8),
                no_sites,
                samples,
                ploidy,
                populations,
                provenance,
                label,
                source=describe_file(path),
            )
        except InputError as err:
            raise InputError(f"{path}: {err}") from None
        yield handle, header


def _check_positions(sites: Sites, path: Path) -> None:
    if len(sites) and sites.pos.min() < 1:
        first = int(np.flatnonzero(sites.pos < 1)[0])
        raise InputError(
            f"{path}: site {first + 1} ({sites.chrom[first]}:{sites.pos[first]}) has position {sites.pos[first]}; "
            "positions start at 1"
        )


def read_sites(path: str | Path) -> Sites:
    """The site metadata of a matrix file, without its haplotypes."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            return _read_sites(handle)
    except (OSError, KeyError) as err:
        raise InputError(f"{path}: not a readable haplotype matrix ({err})") from None


def write_matrix(path: str | Path, matrix: HaplotypeMatrix) -> None:
    """Write ``matrix`` to ``path`` (not atomic by itself: pass a temporary name from atomic_outputs)."""
    with MatrixWriter(
        path, samples=matrix.samples, ploidy=matrix.ploidy, populations=matrix.populations, label=matrix.label
    ) as writer:
        writer.append_haplotypes(matrix.sites, matrix.haplotypes)
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

    def __init__(
        self, path: str | Path, *, samples: np.ndarray, ploidy: np.ndarray, populations: np.ndarray, label: str = "Real"
    ) -> None:
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
            "calldata/GT",
            shape=(0, n_samples, 2),
            maxshape=(None, n_samples, 2),
            dtype=np.int8,
            chunks=(chunk_sites, max(1, n_samples), 2),
            compression="gzip",
            compression_opts=1,
        )

    def append(self, sites: Sites, rows: np.ndarray) -> None:
        """Append ``len(sites)`` sites whose haplotypes are ``rows`` (n_sites_chunk, n_haplotypes)."""
        n = len(sites)
        if rows.shape != (n, len(self._keep)):
            raise ValueError(f"rows shape {rows.shape} != ({n}, {len(self._keep)})")
        if len(self._keep) == 2 * len(self.samples):  # all diploid: the rows are the GT array already
            gt = np.ascontiguousarray(rows, dtype=np.uint8).view(np.int8)
        else:
            gt = np.full((n, len(self.samples) * 2), -1, dtype=np.int8)
            gt[:, self._keep] = rows
        self._gt.resize(self._n_sites + n, axis=0)
        self._gt[self._n_sites :] = gt.reshape(n, len(self.samples), 2)
        self._n_sites += n
        self._site_parts.append(sites)

    def append_haplotypes(self, sites: Sites, haplotypes: np.ndarray) -> None:
        """Append ``len(sites)`` sites whose alleles are the columns of ``haplotypes`` (n_haplotypes, n_sites), a
        block of about ``_CHUNK_BYTES`` at a time."""
        step = max(1, _CHUNK_BYTES // max(1, len(haplotypes)))
        for start in range(0, len(sites), step):
            self.append(sites.take(slice(start, start + step)), haplotypes[:, start : start + step].T)

    def __enter__(self) -> MatrixWriter:
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
        for name in SITE_FIELDS:
            values = getattr(sites, name)
            if name == "pos":
                self._file.create_dataset("variants/POS", data=values.astype(np.int64))
            else:
                self._file.create_dataset(f"variants/{_VARIANT_NAMES[name]}", data=values.astype(object), dtype=text)
        self._file.create_dataset("samples", data=self.samples.astype(object), dtype=text)
        self._file.create_dataset("sample_info/ploidy", data=self.ploidy)
        self._file.create_dataset("sample_info/population", data=self.populations.astype(object), dtype=text)
        self._file.attrs["provenance"] = json.dumps(self.provenance)


def _read_provenance(handle: Any, path: Path) -> list[dict[str, Any]]:
    """The file's provenance records (a JSON list); a damaged one is an InputError naming the file."""
    try:
        provenance = json.loads(handle.attrs.get("provenance", "[]"))
    except (ValueError, TypeError) as err:
        raise InputError(f"{path}: the provenance attribute is not valid JSON ({err})") from None
    if not isinstance(provenance, list) or not all(isinstance(record, dict) for record in provenance):
        raise InputError(f"{path}: the provenance attribute is not a list of records")
    return provenance


def _with_preceding(selection: slice, sites: Sites, count: int) -> slice:
    """``selection`` extended back by up to ``count`` sites of its chromosome."""
    if count <= 0 or selection.stop <= selection.start:
        return selection
    return slice(sites.preceding(selection.start, count).start, selection.stop)


def _haplotype_columns(ploidy: np.ndarray) -> np.ndarray:
    """Positions of the haplotypes in a flattened (n_samples * 2) GT row: 2i, and 2i+1 for diploids."""
    second = np.flatnonzero(ploidy == 2) * 2 + 1
    return np.sort(np.concatenate([np.arange(len(ploidy)) * 2, second]))


def _read_sites(handle: Any, selection: slice = slice(None)) -> Sites:
    return Sites(
        *(
            _read_strings(handle, f"variants/{_VARIANT_NAMES[name]}", selection)
            if name != "pos"
            else handle["variants/POS"][selection].astype(np.int64)
            for name in SITE_FIELDS
        )
    )


def _read_strings(handle: Any, name: str, selection: slice = slice(None)) -> np.ndarray:
    return np.asarray(handle[name].asstr()[selection], dtype=str)


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
            raise InputError(
                f"{path}: site {sites.label(lo + row)}: allele value {values[row, col]} is not 0 or 1 (haplotype {col})"
            )
        if len(haploid_second) and (block[:, haploid_second] != -1).any():
            row = np.flatnonzero((block[:, haploid_second] != -1).any(axis=1))[0]
            raise InputError(f"{path}: site {sites.label(lo + row)}: a haploid sample has a second allele")
        haplotypes[:, lo - start : hi - start] = values.T
    return haplotypes
