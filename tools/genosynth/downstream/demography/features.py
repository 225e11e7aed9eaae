"""What the classifiers of demographic model choice see of a genomic window of several populations.

The window's sites are filtered by the minor allele frequency over all its haplotypes (``min_maf``, monomorphic
sites always dropped) and polarised to that minor allele. Then:

- an image per population (the CNN's channels, in the manner of ImaGene and Flagel et al. 2019): the population's
  haplotypes as rows, sorted by how often each occurs (ImaGene's ``rows_freq``) and resampled to ``image_size``
  rows (nearest row), and ``image_size`` columns that cut the window into equal stretches of bp, each pixel the
  number of minor alleles the haplotype carries in that stretch (at most 255): unlike an image resized from its
  sites, it keeps the density of sites along the window, and the same columns in every channel;
- the joint site frequency spectrum of every pair of populations as further channels (``image_size`` x
  ``image_size`` bins of the minor allele's frequency in each, the number of sites per bin, at most 255), as
  Sanchez et al. 2021 and dadi-style analyses read it;
- a vector of summary statistics (the random forest's, as ABC-RF uses them): the density of sites per kb, and per
  population the site frequency spectrum of the minor allele in ``sfs_bins`` bins of its frequency in that
  population (shares of the sites, frequency 0 included: sites private to other populations), the nucleotide
  diversity and the segregating sites per kb, the LD decay (mean r^2 of site pairs in ``ld_bins`` bins of distance
  over the window), and Hudson's F_ST of every pair of populations.

Example
-------
>>> rng = np.random.default_rng(1)
>>> window = (rng.random((20, 50)) < 0.3).astype(np.uint8)
>>> groups = [np.arange(10), np.arange(10, 20)]
>>> image, stats, sites = window_features(window, np.sort(rng.random(50)) * 1e4, groups, length=10_000,
...                                       min_maf=0.05, settings=FeatureSettings(image_size=16))
>>> image.shape, stats.shape == (statistics_size(2, FeatureSettings(image_size=16)),), sites
((3, 16, 16), True, 50)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from genosynth._infra.options import parse_int
from genosynth.downstream.selection.imagene import sort_rows

MIN_IMAGE_SIZE = 16  # two 3x3 convolutions with 2x2 pooling leave at least 2 pixels


@dataclass(frozen=True)
class FeatureSettings:
    """``image_size`` of the CNN's images, ``sfs_bins`` and ``ld_bins`` of the summary statistics, and the most
    sites (evenly spaced) whose pairs the LD decay uses, ``ld_sites``."""

    image_size: int = 32
    sfs_bins: int = 10
    ld_bins: int = 5
    ld_sites: int = 150

    def __post_init__(self) -> None:
        parse_int("image_size", self.image_size, minimum=MIN_IMAGE_SIZE, maximum=512)
        parse_int("sfs_bins", self.sfs_bins, minimum=2, maximum=100)
        parse_int("ld_bins", self.ld_bins, minimum=1, maximum=50)
        parse_int("ld_sites", self.ld_sites, minimum=2)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def statistics_size(populations: int, settings: FeatureSettings) -> int:
    """Length of the summary-statistics vector for ``populations`` populations."""
    return 1 + populations * (settings.sfs_bins + 2 + settings.ld_bins) + populations * (populations - 1) // 2


def statistics_names(labels: list[str], settings: FeatureSettings) -> list[str]:
    """The name of each summary statistic, in vector order.

    Example
    -------
    >>> statistics_names(["A", "B"], FeatureSettings(sfs_bins=2, ld_bins=1))[:4] + statistics_names(["A", "B"],
    ...     FeatureSettings(sfs_bins=2, ld_bins=1))[-1:]
    ['sites_per_kb', 'A_sfs_1', 'A_sfs_2', 'A_pi_per_kb', 'fst_A_B']
    """
    names = ["sites_per_kb"]
    for label in labels:
        names += [f"{label}_sfs_{i + 1}" for i in range(settings.sfs_bins)]
        names += [f"{label}_pi_per_kb", f"{label}_segregating_per_kb"]
        names += [f"{label}_ld_{i + 1}" for i in range(settings.ld_bins)]
    names += [f"fst_{a}_{b}" for i, a in enumerate(labels) for b in labels[i + 1 :]]
    return names


def window_features(
    haplotypes: np.ndarray,
    positions: np.ndarray,
    groups: list[np.ndarray],
    *,
    length: float,
    min_maf: float,
    settings: FeatureSettings,
) -> tuple[np.ndarray, np.ndarray, int]:
    """(uint8 (image_channels(populations), size, size) image, float64 statistics, kept sites) of a window.

    Parameters
    ----------
    haplotypes
        uint8 (n_haplotypes, n_sites) 0/1 of every population.
    positions
        Site positions within the window (bp from its start), increasing.
    groups
        The rows of each population.
    length
        The window's length in bp (densities are per kb of it; LD distance bins span it).
    min_maf, settings
        The site filter and the feature settings.
    """
    haplotypes = np.asarray(haplotypes, dtype=np.uint8)
    frequency = haplotypes.mean(axis=0) if len(haplotypes) else np.zeros(haplotypes.shape[1])
    minor = np.minimum(frequency, 1 - frequency)
    kept = (minor > 0) & (minor >= min_maf)
    window = np.where(frequency > 0.5, 1 - haplotypes, haplotypes)[:, kept].astype(np.uint8)
    positions = np.asarray(positions, dtype=np.float64)[kept]
    size = settings.image_size
    columns = np.minimum((positions / length * size).astype(np.int64), size - 1)
    frequencies = [window[rows].mean(axis=0) if window.shape[1] else np.zeros(0) for rows in groups]
    channels = [_binned_image(window[rows], columns, size) for rows in groups]
    channels += [
        _joint_sfs(frequencies[i], frequencies[j], size) for i in range(len(groups)) for j in range(i + 1, len(groups))
    ]
    image = np.stack(channels)
    per_kb = 1e3 / length
    stats = [np.log1p(window.shape[1] * per_kb)]
    edges = np.linspace(0, 1, settings.sfs_bins + 1)
    for rows, p in zip(groups, frequencies):
        n = len(rows)
        counts = np.histogram(p, bins=edges)[0] if len(p) else np.zeros(settings.sfs_bins)
        stats += list(counts / max(len(p), 1))
        diversity = (2 * p * (1 - p)).sum() * n / max(n - 1, 1)
        stats += [np.log1p(diversity * per_kb), np.log1p(((p > 0) & (p < 1)).sum() * per_kb)]
        stats += list(_ld_decay(window[rows], positions, length=length, settings=settings))
    for i in range(len(groups)):
        for j in range(i + 1, len(groups)):
            stats.append(_hudson_fst(frequencies[i], len(groups[i]), frequencies[j], len(groups[j])))
    return image, np.asarray(stats, dtype=np.float64), int(window.shape[1])


def _binned_image(window: np.ndarray, columns: np.ndarray, size: int) -> np.ndarray:
    """uint8 (size, size): rows sorted and resampled to ``size``, minor alleles counted per column bin."""
    counts = np.zeros((len(window), size), dtype=np.int64)
    if window.shape[1]:
        np.add.at(counts.T, columns, sort_rows(window).T.astype(np.int64))
    rows = np.linspace(0, len(window) - 1, size).round().astype(np.int64)
    return np.minimum(counts[rows], 255).astype(np.uint8)


def _joint_sfs(p: np.ndarray, q: np.ndarray, size: int) -> np.ndarray:
    """uint8 (size, size): sites by the minor allele's frequency in two populations (rows: the first), at most 255."""
    counts = np.zeros((size, size), dtype=np.int64)
    if len(p):
        np.add.at(
            counts, (np.minimum((p * size).astype(int), size - 1), np.minimum((q * size).astype(int), size - 1)), 1
        )
    return np.minimum(counts, 255).astype(np.uint8)


def image_channels(populations: int) -> int:
    """Channels of a window's image: one per population, then one joint SFS per pair of populations.

    Example
    -------
    >>> image_channels(1), image_channels(3)
    (1, 6)
    """
    return populations + populations * (populations - 1) // 2


def image_input(images: np.ndarray) -> np.ndarray:
    """The CNN's float32 input of uint8 images: log(1 + count) per pixel."""
    return np.log1p(images.astype(np.float32))


def _ld_decay(window: np.ndarray, positions: np.ndarray, *, length: float, settings: FeatureSettings) -> np.ndarray:
    """Mean r^2 of the pairs of sites polymorphic in ``window`` in each distance bin (0 where a bin has none)."""
    polymorphic = np.flatnonzero(window.std(axis=0) > 0) if window.size else np.zeros(0, dtype=int)
    if len(polymorphic) > settings.ld_sites:
        polymorphic = polymorphic[np.linspace(0, len(polymorphic) - 1, settings.ld_sites).round().astype(int)]
    out = np.zeros(settings.ld_bins)
    if len(polymorphic) < 2:
        return out
    x = window[:, polymorphic].astype(np.float64)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    r2 = ((x.T @ x) / len(x)) ** 2
    first, second = np.triu_indices(len(polymorphic), k=1)
    distance = np.abs(positions[polymorphic][second] - positions[polymorphic][first])
    bins = np.minimum((distance / length * settings.ld_bins).astype(int), settings.ld_bins - 1)
    sums = np.bincount(bins, weights=r2[first, second], minlength=settings.ld_bins)
    counts = np.bincount(bins, minlength=settings.ld_bins)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out


def _hudson_fst(p1: np.ndarray, n1: int, p2: np.ndarray, n2: int) -> float:
    """Hudson's F_ST (Bhatia et al. 2013), ratio of averages over the sites; 0 without sites."""
    if len(p1) == 0:
        return 0.0
    within = p1 * (1 - p1) * n1 / max(n1 - 1, 1) + p2 * (1 - p2) * n2 / max(n2 - 1, 1)
    between = p1 * (1 - p2) + p2 * (1 - p1)
    total = between.sum()
    return float(1 - within.sum() / total) if total > 0 else 0.0


def data_windows(
    chromosomes: np.ndarray, positions: np.ndarray, *, length: int, min_sites: int = 1
) -> list[tuple[np.ndarray, int]]:
    """Consecutive, non-overlapping windows of ``length`` bp of each chromosome, from its first site: (site indices,
    window start) of those holding at least ``min_sites`` sites.

    Example
    -------
    >>> [(w.tolist(), s) for w, s in data_windows(np.array(["1"] * 4), np.array([10, 20, 115, 130]), length=100)]
    [([0, 1], 10), ([2, 3], 110)]
    """
    windows = []
    for chromosome in dict.fromkeys(np.asarray(chromosomes).tolist()):
        index = np.flatnonzero(np.asarray(chromosomes) == chromosome)
        first = int(positions[index].min())
        slot = (positions[index] - first) // length
        for value in np.unique(slot):
            members = index[slot == value]
            if len(members) >= min_sites:
                windows.append((members, first + int(value) * length))
    return windows
