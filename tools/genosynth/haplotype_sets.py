"""Reading any haplotype set a user may hand over (matrix, VCF/BCF, .hapt + legend) and checking that
sets hold the same sites."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import InputError
from .formats.hapt import read_hapt
from .formats.vcf import VcfSource
from .matrix import HaplotypeMatrix, Sites, read_matrix

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def read_haplotype_set(path: str | Path, *, legend: str | Path | None = None) -> HaplotypeMatrix:
    """A haplotype matrix, phased VCF/VCF.gz/BCF, or .hapt[.gz] (with ``legend``), as a HaplotypeMatrix.

    The format is told by content (HDF5 signature) or by the .hapt suffix, not by the extension alone.
    VCF input keeps every site, monomorphic ones included, so it lines up with the matrix it came from.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with open(path, "rb") as handle:
        if handle.read(8) == _HDF5_MAGIC:
            return read_matrix(path)
    name = path.name.lower()
    if legend is not None or name.endswith(".hapt") or name.endswith(".hapt.gz"):
        if legend is None:
            raise InputError(f"{path}: a .hapt file needs its legend (--legend)")
        return read_hapt(path, legend=legend)
    source = VcfSource(path)
    chunks = list(source.chunks())
    sites = Sites.concatenate([c[0] for c in chunks])
    return HaplotypeMatrix(np.ascontiguousarray(np.concatenate([c[1] for c in chunks]).T), sites, source.samples,
                           source.ploidy, source.populations, source.provenance, source.label)


def require_same_sites(reference: HaplotypeMatrix, other: HaplotypeMatrix, *, reference_name: str,
                       other_name: str) -> None:
    """InputError naming the first site where the two sets differ in CHROM, POS, REF or ALT."""
    a, b = reference.sites, other.sites
    n = min(len(a), len(b))
    differs = np.zeros(n, dtype=bool)
    for field in ("chrom", "pos", "ref", "alt"):
        differs |= getattr(a, field)[:n] != getattr(b, field)[:n]
    if differs.any():
        i = int(np.flatnonzero(differs)[0])
        raise InputError(f"{other_name}: site {i + 1} is {b.label(i)} {b.ref[i]}>{b.alt[i]}, but {reference_name} "
                         f"has {a.label(i)} {a.ref[i]}>{a.alt[i]}; the sets must hold the same sites")
    if len(a) != len(b):
        raise InputError(f"{other_name}: {len(b)} sites, but {reference_name} has {len(a)}; "
                         "the sets must hold the same sites")


def intersect_sites(matrices: list[HaplotypeMatrix]) -> list[HaplotypeMatrix]:
    """Each matrix restricted to the sites (CHROM, POS, REF, ALT) present in all of them, in the first one's order.

    Example
    -------
    >>> from genosynth.matrix import Sites
    >>> def one(pos):
    ...     n = len(pos)
    ...     sites = Sites(np.array(["1"] * n), np.array(pos), np.array(["."] * n), np.array(["A"] * n), np.array(["G"] * n))
    ...     return HaplotypeMatrix(np.zeros((2, n), dtype=np.uint8), sites, np.array(["s"]), np.array([2], dtype=np.int8), np.array([""]))
    >>> [m.sites.pos.tolist() for m in intersect_sites([one([1, 2, 3]), one([2, 3, 4])])]
    [[2, 3], [2, 3]]
    """
    keys = [_site_keys(m.sites) for m in matrices]
    common = set(keys[0]).intersection(*keys[1:])
    order = [k for k in keys[0] if k in common]
    result = []
    for matrix, matrix_keys in zip(matrices, keys):
        index_of = {key: i for i, key in enumerate(matrix_keys)}
        result.append(matrix.select_sites(np.array([index_of[k] for k in order], dtype=np.int64)))
    return result


def _site_keys(sites: Sites) -> list[tuple[str, int, str, str]]:
    return list(zip(sites.chrom.tolist(), sites.pos.tolist(), sites.ref.tolist(), sites.alt.tolist()))
