"""Every file format genosynth reads and writes: the haplotype matrix (HDF5), VCF/BCF, the paper's .hapt with its
legend, model files (safetensors) and tables. :func:`read_haplotypes` and :func:`write_haplotypes` take any
haplotype format; the format read is told by content (:func:`~genosynth.io.detect.detect_format`), the
format written by the output's suffix."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.atomic import atomic_outputs
from genosynth._infra.errors import InputError
from genosynth._infra.provenance import describe_file
from genosynth.io.detect import detect_format
from genosynth.io.hapt import read_hapt, write_hapt
from genosynth.io.hdf5 import MatrixWriter, read_matrix
from genosynth.io.matrix import HaplotypeMatrix, Sites
from genosynth.io.regions import Region
from genosynth.io.tables import population_labels
from genosynth.io.vcf import VcfSource, VcfWriter

OUTPUT_SUFFIXES = (".h5", ".vcf", ".vcf.gz", ".hapt", ".hapt.gz")


def read_haplotypes(
    path: str | Path,
    *,
    legend: str | Path | None = None,
    region: str | Region | None = None,
    samples: Sequence[str] | None = None,
    populations: str | Path | Mapping[str, str] | None = None,
    population_column: str | None = None,
) -> HaplotypeMatrix:
    """Read a haplotype matrix, phased VCF/VCF.gz/BCF or .hapt[.gz] (with its ``legend``) into memory.

    Parameters
    ----------
    path
        The file; its format is told by content, so a ``legend`` shared by several inputs applies only to
        those that are .hapt.
    legend
        The legend of a .hapt file (``id position a0 a1``).
    region
        ``CHR``, ``CHR:START-END`` or a :class:`~genosynth.io.regions.Region`: only these sites (a VCF/BCF needs
        its .tbi/.csi index; a matrix reads only the chunks of the range).
    samples
        Sample names to keep, in the file's order; names absent from the file are an error.
    populations, population_column
        Population labels replacing the file's: a sample -> population mapping, or a TSV file (sample,
        population; a header line is recognised; ``population_column`` picks a column of a wider table).

    Returns
    -------
    HaplotypeMatrix
        Every biallelic SNP (monomorphic ones included, so the sites line up with the file they came from),
        with ``source`` naming the file for provenance.

    Raises
    ------
    InputError
        A file that cannot be read, naming it and the record.

    Examples
    --------
    >>> from genosynth.datasets import data_805
    >>> data = data_805()
    >>> real = read_haplotypes(data.hapt, legend=data.legend, populations=data.samples,
    ...                        population_column="Superpopulation code")
    >>> real.haplotypes.shape, real.population_counts()["EUR"]
    ((5008, 805), 1004)
    """
    matrix = _read(Path(path), legend=legend, region=None if region is None else Region.parse(region), samples=samples)
    if populations is not None:
        matrix = matrix.with_populations(population_labels(matrix.samples, populations, population_column))
    return matrix


def _read(
    path: Path, *, legend: str | Path | None, region: Region | None, samples: Sequence[str] | None
) -> HaplotypeMatrix:
    kind = detect_format(path).format
    if kind == "matrix":
        matrix = read_matrix(path, region=region)
    elif kind == "hapt":
        if legend is None:
            raise InputError(f"{path}: a .hapt file needs its legend (id position a0 a1), which was not given")
        matrix = read_hapt(path, legend=legend)
        if region is not None:
            matrix = matrix.select_sites(region.contains(matrix.sites.chrom, matrix.sites.pos))
    else:
        source = VcfSource(path, region=region, samples=list(samples) if samples is not None else None)
        chunks = list(source.chunks())
        sites = Sites.concatenate([c[0] for c in chunks])
        rows = np.concatenate([c[1] for c in chunks]) if chunks else np.empty((0, int(source.ploidy.sum())), np.uint8)
        return HaplotypeMatrix(
            np.ascontiguousarray(rows.T),
            sites,
            source.samples,
            source.ploidy,
            source.populations,
            source.provenance,
            source.label,
            source=describe_file(path),
        )
    if samples is not None:
        matrix = select_named_samples(matrix, samples, path=path)
    return matrix


def select_named_samples(matrix: HaplotypeMatrix, samples: Sequence[str], *, path: Path) -> HaplotypeMatrix:
    """The samples of ``matrix`` named in ``samples``, in the matrix's order; an InputError listing absent names."""
    missing = sorted(set(samples) - set(matrix.samples.tolist()))
    if missing:
        shown = ", ".join(missing[:10]) + (f", ... ({len(missing) - 10} more)" if len(missing) > 10 else "")
        raise InputError(f"{path}: {len(missing)} requested sample(s) not in the file: {shown}")
    return matrix.select_samples(np.flatnonzero(np.isin(matrix.samples, list(samples))))


def output_format(path: Path, *, allowed: tuple[str, ...] = OUTPUT_SUFFIXES) -> str:
    """The output type told by ``path``'s suffix; an InputError when it is none of ``allowed``.

    Example
    -------
    >>> output_format(Path("ag.vcf.gz")), output_format(Path("AG.H5"))
    ('.vcf.gz', '.h5')
    """
    name = path.name.lower()
    suffix = next((s for s in sorted(allowed, key=len, reverse=True) if name.endswith(s)), None)
    if suffix is None:
        raise InputError(f"{path}: unknown output type; the name must end in one of {', '.join(allowed)}")
    return suffix


def companion_files(path: Path, *, legend: str | Path | None = None) -> list[Path]:
    """The files written beside the haplotype file ``path``: a .vcf.gz's tabix index, a .hapt's legend.

    Example
    -------
    >>> companion_files(Path("ag.vcf.gz")), companion_files(Path("ag.hapt.gz"))
    ([PosixPath('ag.vcf.gz.tbi')], [PosixPath('ag.legend')])
    """
    suffix = output_format(path)
    if suffix == ".vcf.gz":
        return [Path(f"{path}.tbi")]
    if suffix.startswith(".hapt"):
        return [Path(legend) if legend else path.with_name(path.name[: -len(suffix)] + ".legend")]
    return []


def write_haplotypes(matrix: HaplotypeMatrix, path: str | Path, *, legend: str | Path | None = None) -> None:
    """Write ``matrix`` atomically as the suffix of ``path`` says: haplotype matrix (.h5), VCF, bgzipped VCF
    with its tabix index (.vcf.gz), or .hapt[.gz] with a legend (default: beside it, suffix .legend).

    Parameters
    ----------
    matrix
        The haplotypes, with their samples, populations and provenance.
    path
        The file to write; its suffix picks the format.
    legend
        .hapt only: the legend's path.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> output = pathlib.Path(tempfile.mkdtemp()) / "holdout.vcf.gz"
    >>> write_haplotypes(holdout, output)
    >>> read_haplotypes(output).haplotypes.shape, output.with_name("holdout.vcf.gz.tbi").is_file()
    ((30, 40), True)
    """
    with HaplotypeWriter(
        path,
        samples=matrix.samples,
        ploidy=matrix.ploidy,
        populations=matrix.populations,
        label=matrix.label,
        provenance=matrix.provenance,
        contigs=list(dict.fromkeys(matrix.sites.chrom.tolist())),
        legend=legend,
    ) as writer:
        writer.append(matrix.sites, matrix.haplotypes)


class HaplotypeWriter:
    """Streams sites of a fixed set of samples into a haplotype file of any output format, atomically: the file
    (and its index or legend) appears when the writer closes without error, and not at all otherwise.

    A matrix or VCF is written as the sites come, so memory stays with one appended block; .hapt holds a
    haplotype per line, so its blocks are spooled to a temporary file beside the output and the lines are
    assembled from it at the end, one haplotype at a time.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> output = pathlib.Path(tempfile.mkdtemp()) / "holdout.h5"
    >>> with HaplotypeWriter(output, samples=holdout.samples, ploidy=holdout.ploidy, populations=holdout.populations,
    ...                      label="Real", provenance=holdout.provenance, contigs=["1", "2"]) as writer:
    ...     for start in (0, 20):  # two blocks of sites
    ...         block = holdout.select_sites(slice(start, start + 20))
    ...         writer.append(block.sites, block.haplotypes)
    >>> read_haplotypes(output).n_sites
    40
    """

    def __init__(
        self,
        path: str | Path,
        *,
        samples: np.ndarray,
        ploidy: np.ndarray,
        populations: np.ndarray,
        label: str,
        provenance: list,
        contigs: list[str],
        legend: str | Path | None = None,
    ) -> None:
        self.path = Path(path)
        self.suffix = output_format(self.path)
        self._header = {
            "samples": np.asarray(samples, dtype=str),
            "ploidy": np.asarray(ploidy, dtype=np.int8),
            "populations": np.asarray(populations, dtype=str),
            "label": label,
        }
        self._provenance = list(provenance)
        targets = [self.path, *companion_files(self.path, legend=legend)]
        self._atomic = atomic_outputs(*targets)
        self._temps = self._atomic.__enter__()
        try:
            self._writer = self._open(contigs)
        except BaseException:
            self._atomic.__exit__(*sys.exc_info())
            raise
        self._spool = (
            None
            if self._writer is not None
            else _RowSpool(int(self._header["ploidy"].sum()), directory=self._temps[0].parent)
        )

    def _open(self, contigs: list[str]):
        if self.suffix == ".h5":
            return MatrixWriter(self._temps[0], **self._header)
        if self.suffix.startswith(".vcf"):
            return VcfWriter(
                self._temps[0],
                **self._header,
                provenance=self._provenance,
                contigs=contigs,
                bgzip=self.suffix == ".vcf.gz",
            )
        return None

    def append(self, sites: Sites, haplotypes: np.ndarray) -> None:
        """Write ``len(sites)`` sites whose alleles are the columns of ``haplotypes`` (n_haplotypes, n_sites)."""
        if isinstance(self._writer, MatrixWriter):
            self._writer.append_haplotypes(sites, haplotypes)
        elif self._writer is not None:
            self._writer.append(sites, haplotypes)
        else:
            self._spool.append(sites, haplotypes)

    def __enter__(self) -> HaplotypeWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            if isinstance(self._writer, MatrixWriter):
                self._writer.provenance = self._provenance
            if self._writer is not None:
                self._writer.__exit__(*exc)
            elif exc[0] is None:
                write_hapt(
                    self._spool.rows(),
                    self._spool.sites(),
                    self._temps[0],
                    self._temps[1],
                    samples=self._header["samples"],
                    ploidy=self._header["ploidy"],
                    label=self._header["label"],
                    gzipped=self.suffix == ".hapt.gz",
                )
            if exc[0] is None and self.suffix == ".vcf.gz":
                Path(f"{self._temps[0]}.tbi").replace(self._temps[1])
        except BaseException:
            self._atomic.__exit__(*sys.exc_info())
            raise
        finally:
            if self._spool is not None:
                self._spool.close()
        self._atomic.__exit__(*exc)


class _RowSpool:
    """Blocks of haplotypes (n, block sites) written one after another to an anonymous temporary file and read
    back a haplotype at a time: a .hapt line is one haplotype of every block."""

    def __init__(self, n_haplotypes: int, *, directory: Path) -> None:
        self._n = n_haplotypes
        self._file = tempfile.TemporaryFile(dir=directory, prefix=".genosynth-spool-")
        self._blocks: list[tuple[int, int]] = []  # (byte offset, sites) of each block
        self._sites: list[Sites] = []
        self._size = 0

    def append(self, sites: Sites, haplotypes: np.ndarray) -> None:
        block = np.ascontiguousarray(haplotypes, dtype=np.uint8)
        if block.shape != (self._n, len(sites)):
            raise ValueError(f"haplotypes shape {block.shape} != ({self._n}, {len(sites)})")
        self._file.write(memoryview(block).cast("B"))
        self._blocks.append((self._size, len(sites)))
        self._sites.append(sites)
        self._size += block.size

    def sites(self) -> Sites:
        return Sites.concatenate(self._sites)

    def rows(self) -> Iterator[np.ndarray]:
        self._file.flush()
        data = np.memmap(self._file, dtype=np.uint8, mode="r") if self._size else np.empty(0, np.uint8)
        for i in range(self._n):
            yield np.concatenate(
                [data[offset + i * width : offset + (i + 1) * width] for offset, width in self._blocks]
                or [np.empty(0, np.uint8)]
            )

    def close(self) -> None:
        self._file.close()
