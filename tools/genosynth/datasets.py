"""The paper's 805-SNP data shipped inside the package, by path: 1000 Genomes haplotypes, their legend and sample
sheet, and the artificial genomes Yelmen et al. 2021 released (source, licence and checksums in its README)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from genosynth.io.matrix import HaplotypeMatrix

__all__ = ["Data805", "data_805", "small_805"]

_FOLDER = Path(__file__).resolve().parent / "data" / "1000G_805"


@dataclass(frozen=True)
class Data805:
    """Paths of the 805-SNP files (every one readable by :func:`genosynth.read_haplotypes` or as a table).

    Attributes
    ----------
    folder : Path
        The folder holding them, with ``README.md`` and ``SHA256SUMS``.
    hapt : Path
        5008 real haplotypes (2504 individuals) x 805 SNPs, the paper's ``.hapt.gz`` format.
    legend : Path
        One row per SNP column: ``id position a0 a1`` (GRCh37; a0 REF coded 0, a1 ALT coded 1).
    samples : Path
        The 1000 Genomes sample sheet (tab separated: ``Sample name``, ``Population code``,
        ``Superpopulation code``, ...).
    paper_gan, paper_rbm : Path
        The paper's released artificial genomes from its GAN (5000 haplotypes, 20000 epochs) and RBM (800 epochs),
        trained on all 5008 real haplotypes.

    Examples
    --------
    >>> from genosynth.datasets import data_805
    >>> data = data_805()
    >>> data.hapt.name, data.legend.is_file(), (data.folder / "SHA256SUMS").is_file()
    ('805_SNP_1000G_real.hapt.gz', True, True)
    """

    folder: Path
    hapt: Path
    legend: Path
    samples: Path
    paper_gan: Path
    paper_rbm: Path


def data_805() -> Data805:
    """The paths of the 805-SNP benchmark data of Yelmen et al. 2021, shipped with genosynth.

    Returns
    -------
    Data805
        The files' paths; they exist in every installation (package data).

    Examples
    --------
    >>> import genosynth
    >>> from genosynth.datasets import data_805
    >>> data = data_805()
    >>> real = genosynth.read_haplotypes(data.hapt, legend=data.legend)
    >>> real.n_haplotypes, real.n_sites
    (5008, 805)
    """
    return Data805(
        folder=_FOLDER,
        hapt=_FOLDER / "805_SNP_1000G_real.hapt.gz",
        legend=_FOLDER / "805_SNP.legend",
        samples=_FOLDER / "igsr_samples.tsv",
        paper_gan=_FOLDER / "paper_GAN_AG_20000epochs.hapt.gz",
        paper_rbm=_FOLDER / "paper_RBM_AG_800epochs.hapt.gz",
    )


def small_805(
    *, individuals: int = 60, sites: int = 40, holdout: float = 0.25, seed: int = 1
) -> tuple[HaplotypeMatrix, HaplotypeMatrix]:
    """A small slice of the 805-SNP data, split into training and held-out haplotypes: for examples and tests that
    must run in a second (a generator trained on it learns little).

    Parameters
    ----------
    individuals
        The first this many individuals of the 2504 (both haplotypes of each), labelled by superpopulation.
    sites
        The first this many of the 805 SNPs.
    holdout
        Fraction of the individuals held out (:func:`genosynth.split_holdout`).
    seed
        Seed of the split.

    Returns
    -------
    tuple of HaplotypeMatrix
        The training and the held-out haplotypes, on the same sites.

    Examples
    --------
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> train.n_haplotypes, holdout.n_haplotypes, train.n_sites
    (90, 30, 40)
    """
    import numpy as np

    from genosynth.io import read_haplotypes
    from genosynth.io.holdout import split_holdout

    data = data_805()
    real = read_haplotypes(
        data.hapt, legend=data.legend, populations=data.samples, population_column="Superpopulation code"
    )
    cut = real.select_samples(np.arange(individuals)).select_sites(np.arange(sites))
    return split_holdout(cut, fraction=holdout, seed=seed)
