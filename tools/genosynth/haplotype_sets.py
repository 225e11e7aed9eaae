"""Reading any haplotype set a user may hand over (matrix, VCF/BCF, .hapt + legend) and checking that
sets hold the same sites."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .atomic import atomic_outputs
from .errors import InputError
from .formats.hapt import read_hapt, write_hapt
from .formats.vcf import VcfSource, sniff_variant_file, write_vcf
from .matrix import HaplotypeMatrix, Sites, read_matrix, write_matrix

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
OUTPUT_SUFFIXES = (".h5", ".vcf", ".vcf.gz", ".hapt", ".hapt.gz")


def read_haplotype_set(path: str | Path, *, legend: str | Path | None = None) -> HaplotypeMatrix:
    """A haplotype matrix, phased VCF/VCF.gz/BCF, or .hapt[.gz] (with ``legend``), as a HaplotypeMatrix.

    The format is told by content (HDF5 signature, VCF/BCF header) or by the .hapt suffix, not by the
    extension alone: a ``legend`` shared by several inputs applies only to those that are .hapt, so a VCF
    or matrix beside them is still read as what it is. VCF input keeps every site, monomorphic ones
    included, so it lines up with the matrix it came from.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with open(path, "rb") as handle:
        if handle.read(8) == _HDF5_MAGIC:
            return read_matrix(path)
    name = path.name.lower()
    if name.endswith(".hapt") or name.endswith(".hapt.gz") or (legend is not None and sniff_variant_file(path)[0] is None):
        if legend is None:
            raise InputError(f"{path}: a .hapt file needs its legend (--legend)")
        return read_hapt(path, legend=legend)
    source = VcfSource(path)
    chunks = list(source.chunks())
    sites = Sites.concatenate([c[0] for c in chunks])
    return HaplotypeMatrix(np.ascontiguousarray(np.concatenate([c[1] for c in chunks]).T), sites, source.samples,
                           source.ploidy, source.populations, source.provenance, source.label)


def require_same_sites(a: Sites, b: Sites, *, reference_name: str, other_name: str) -> None:
    """InputError naming the first site where two site lists differ in CHROM, POS, REF or ALT."""
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
    keys = [site_keys(m.sites) for m in matrices]
    common = set(keys[0]).intersection(*keys[1:])
    order = [k for k in keys[0] if k in common]
    result = []
    for matrix, matrix_keys in zip(matrices, keys):
        index_of = {key: i for i, key in enumerate(matrix_keys)}
        result.append(matrix.select_sites(np.array([index_of[k] for k in order], dtype=np.int64)))
    return result


def site_keys(sites: Sites) -> list[tuple[str, int, str, str]]:
    """(CHROM, POS, REF, ALT) of every site, the key that matches sites across files."""
    return list(zip(sites.chrom.tolist(), sites.pos.tolist(), sites.ref.tolist(), sites.alt.tolist()))


def output_suffix(path: Path, *, allowed: tuple[str, ...] = OUTPUT_SUFFIXES) -> str:
    """The output type told by ``path``'s suffix; an InputError when it is none of ``allowed``."""
    name = path.name.lower()
    suffix = next((s for s in sorted(allowed, key=len, reverse=True) if name.endswith(s)), None)
    if suffix is None:
        raise InputError(f"{path}: unknown output type; the name must end in one of {', '.join(allowed)}")
    return suffix


def write_haplotype_set(matrix: HaplotypeMatrix, path: Path, *, legend: Path | None = None) -> None:
    """Write ``matrix`` atomically as the suffix of ``path`` says: haplotype matrix (.h5), VCF, bgzipped VCF
    with its tabix index (.vcf.gz), or .hapt[.gz] with a legend (default: beside it, suffix .legend)."""
    suffix = output_suffix(path)
    if suffix == ".h5":
        with atomic_outputs(path) as (temp,):
            write_matrix(temp, matrix)
    elif suffix.startswith(".vcf"):
        targets = [path, Path(f"{path}.tbi")] if suffix == ".vcf.gz" else [path]
        with atomic_outputs(*targets) as temps:
            write_vcf(matrix, temps[0], bgzip=suffix == ".vcf.gz")
            if suffix == ".vcf.gz":
                Path(f"{temps[0]}.tbi").replace(temps[1])
    else:
        legend = legend or path.with_name(path.name[: -len(suffix)] + ".legend")
        with atomic_outputs(path, legend) as (hapt_temp, legend_temp):
            write_hapt(matrix, hapt_temp, legend_temp, gzipped=suffix == ".hapt.gz")
