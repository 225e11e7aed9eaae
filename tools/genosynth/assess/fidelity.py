"""Fidelity metrics of artificial haplotypes against real ones, as in Yelmen et al. 2021 and its S figures:
PCA and the 2-D Wasserstein distance of PC clouds, allele frequencies, LD, 3-point correlations; and
:func:`evaluate`, all of them for any number of sets as one :class:`FidelityReport`.

Every function takes uint8 haplotype arrays (n_haplotypes, n_sites) of 0/1 alleles; sets may differ in
size. Undefined values (a constant vector in a correlation) are returned as None, never as NaN.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.devices import resolve_device
from genosynth._infra.errors import InputError, OptionError
from genosynth._infra.options import parse_int
from genosynth._infra.progress import logger
from genosynth._infra.provenance import make_record, resolve_seed
from genosynth.io.matrix import HaplotypeMatrix, intersect_sites, require_same_sites
from genosynth.io.regions import Region, window_starts
from genosynth.io.tables import format_cell, write_tsv
from genosynth.reports import Report, ReportParts
from genosynth.reports.html import HtmlTable

THREE_POINT_SEPARATIONS = (1, 4, 16, 64, 256, 512, 1024, "random")


def allele_frequencies(haplotypes: np.ndarray) -> np.ndarray:
    """Alternate-allele frequency of every site (float64, n_sites).

    Example
    -------
    >>> allele_frequencies(np.array([[0, 1], [1, 1]], dtype=np.uint8)).tolist()
    [0.5, 1.0]
    """
    return haplotypes.mean(axis=0, dtype=np.float64)


def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation, None when either vector is constant or empty.

    Example
    -------
    >>> pearson(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 7.0])) > 0.99
    True
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(x) < 2:
        return None
    dx, dy = x - x.mean(), y - y.mean()
    denominator = np.sqrt((dx * dx).sum() * (dy * dy).sum())
    return float((dx * dy).sum() / denominator) if denominator > 0 else None


def fixed_fraction(real_frequencies: np.ndarray, synthetic_frequencies: np.ndarray) -> float | None:
    """Fraction of the sites polymorphic in the real set that are fixed (frequency 0 or 1) in the synthetic one.

    Example
    -------
    >>> fixed_fraction(np.array([0.5, 0.1, 0.0]), np.array([0.4, 0.0, 0.0]))
    0.5
    """
    polymorphic = (real_frequencies > 0) & (real_frequencies < 1)
    if not polymorphic.any():
        return None
    s = synthetic_frequencies[polymorphic]
    return float(np.mean((s == 0) | (s == 1)))


@dataclass
class Pca:
    """Principal components of haplotypes: ``scores`` (n_haplotypes, k) and each component's share of variance."""

    scores: np.ndarray
    explained_variance_ratio: np.ndarray


def principal_components(
    haplotypes: np.ndarray, *, n_components: int = 6, seed: int = 0, power_iterations: int = 7, device: str = "cpu"
) -> Pca:
    """PCA of the centred haplotype matrix, in torch on ``device``; the centred matrix is never formed.

    Exact (eigendecomposition of the smaller Gram matrix) when n_haplotypes or n_sites is at most 2000,
    which covers the paper's 805-SNP data; otherwise randomized SVD (Halko et al. 2011, as scikit-learn's PCA
    uses for matrices that size) with ``power_iterations`` from a start drawn with ``seed``. Signs are fixed
    so that each component's largest loading is positive. ``n_components`` is capped at
    min(n_haplotypes - 1, n_sites).

    Example
    -------
    >>> h = np.repeat(np.array([[0, 0, 1, 1], [1, 1, 0, 0]], dtype=np.uint8), 5, axis=0)
    >>> pca = principal_components(h, n_components=1)
    >>> round(float(pca.explained_variance_ratio[0]), 3)
    1.0
    """
    import torch

    n, p = haplotypes.shape
    k = min(n_components, n - 1, p)
    if k < 1:
        raise ValueError(f"PCA needs at least 2 haplotypes and 1 site, got shape {haplotypes.shape}")
    x = torch.as_tensor(haplotypes, device=device).to(torch.float32)
    mean = x.mean(dim=0, dtype=torch.float64)
    if min(n, p) <= _EXACT_PCA_LIMIT:
        loadings, singular = _exact_loadings(x, mean, k)
    else:
        loadings, singular = _randomized_loadings(x, mean.to(torch.float32), k, seed, power_iterations)
    signs = torch.sign(loadings[loadings.abs().argmax(dim=0), torch.arange(k, device=device)])
    loadings = loadings * signs[None, :]
    scores = (x @ loadings.to(torch.float32)).to(torch.float64) - (mean @ loadings)[None, :]
    total_variance = float(x.var(dim=0, unbiased=True).to(torch.float64).sum())
    explained = (singular**2 / (n - 1)) / total_variance if total_variance > 0 else torch.zeros(k)
    return Pca(scores=scores.cpu().numpy(), explained_variance_ratio=explained.cpu().numpy())


_EXACT_PCA_LIMIT = 2000


def _exact_loadings(x, mean, k: int):
    """Top-k right singular vectors (p, k) and singular values of X - 1 mean^T, from the smaller Gram matrix.

    Products of 0/1 float32 matrices are exact integers below 2**24, so the Gram matrices are exact."""
    import torch

    n, p = x.shape
    if p <= n:  # (X - 1m^T)^T (X - 1m^T) = X^T X - n m m^T
        gram = (x.T @ x).to(torch.float64) - n * torch.outer(mean, mean)
        values, vectors = torch.linalg.eigh(gram)
        values, loadings = values.flip(0)[:k], vectors.flip(1)[:, :k]
        return loadings, values.clamp(min=0).sqrt()
    row = x.to(torch.float64) @ mean  # X m
    gram = (x @ x.T).to(torch.float64) - row[:, None] - row[None, :] + mean @ mean
    values, vectors = torch.linalg.eigh(gram)
    values, left = values.flip(0)[:k], vectors.flip(1)[:, :k]
    singular = values.clamp(min=0).sqrt()
    loadings = ((x.T.to(torch.float64) @ left) - torch.outer(mean, left.sum(dim=0))) / singular.clamp(min=1e-12)[
        None, :
    ]
    return loadings, singular


def _randomized_loadings(x, mean, k: int, seed: int, power_iterations: int):
    """Approximate top-k right singular vectors (p, k) and singular values of X - 1 mean^T (float64)."""
    import torch

    n, p = x.shape
    width = min(k + 10, n, p)
    omega = torch.randn(p, width, generator=torch.Generator().manual_seed(seed)).to(x.device)

    def centred_times(m):  # (X - 1 mean^T) m
        return x @ m - (mean @ m)[None, :]

    def centred_transposed_times(m):  # (X - 1 mean^T)^T m
        return x.T @ m - mean[:, None] * m.sum(dim=0)[None, :]

    q, _ = torch.linalg.qr(centred_times(omega))
    for _ in range(power_iterations):
        z, _ = torch.linalg.qr(centred_transposed_times(q))
        q, _ = torch.linalg.qr(centred_times(z))
    b = centred_transposed_times(q).T.to(torch.float64)  # (width, p) = Q^T (X - 1 mean^T)
    _, singular, vt = torch.linalg.svd(b, full_matrices=False)
    return vt[:k].T, singular[:k]


def wasserstein_2d(real_points: np.ndarray, synthetic_points: np.ndarray) -> float:
    """Exact earth mover's distance between two point clouds with uniform weights (sets may differ in size),
    on squared Euclidean costs divided by their maximum: the normalisation of Yelmen et al. 2021.

    POT's network simplex is run with an iteration limit high enough to converge; a run that still stops
    early raises instead of returning its wrong value.

    Example
    -------
    >>> a = np.array([[0.0, 0.0], [1.0, 0.0]])
    >>> wasserstein_2d(a, a)
    0.0
    """
    import ot

    cost = ot.dist(np.asarray(real_points, dtype=np.float64), np.asarray(synthetic_points, dtype=np.float64))
    top = cost.max()
    if top == 0:
        return 0.0
    cost /= top
    value, log = ot.emd2(
        ot.unif(len(real_points)), ot.unif(len(synthetic_points)), cost, numItermax=100_000_000, log=True
    )
    if log.get("warning"):
        raise RuntimeError(f"optimal transport did not converge: {log['warning']}")
    return max(0.0, float(value))


def wasserstein_1d(u: np.ndarray, v: np.ndarray) -> float:
    """Exact 1-Wasserstein distance between two samples of real values (sizes may differ)."""
    import ot

    return float(ot.wasserstein_1d(np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64), p=1))


def histogram_wasserstein(counts_a: np.ndarray, counts_b: np.ndarray) -> float | None:
    """1-Wasserstein distance between two distributions on the integers 0..n given as counts.

    Example
    -------
    >>> histogram_wasserstein(np.array([1, 0, 0]), np.array([0, 0, 2]))
    2.0
    """
    total_a, total_b = counts_a.sum(), counts_b.sum()
    if total_a == 0 or total_b == 0:
        return None
    return float(np.abs(np.cumsum(counts_a) / total_a - np.cumsum(counts_b) / total_b)[:-1].sum())


@dataclass
class LdComparison:
    """r² between pairs of sites, for the real set and each other set.

    ``sites`` are the indices kept (polymorphic in every set); ``bin_edges`` the base-pair distance bins of the
    decay curves; ``decay[name]`` the mean r² per bin over same-chromosome pairs (None for empty bins).
    Correlations of r² between the real set and each set: ``r`` over same-chromosome pairs (within
    ``max_distance`` bp when given), ``r_all_pairs`` over every pair, across chromosomes too (Yelmen et al.
    2021's definition), and, when window boundaries are given, ``r_boundary`` over the pairs that straddle a
    boundary (each site within ``span`` sites of it) beside ``r_within`` over the pairs inside one window at the
    same separations (fewer than 2 x span sites apart). ``boundary_decay[name]`` and ``within_decay[name]`` are
    their mean r² by separation in sites (1 to 2 x span - 1). ``strength``, ``boundary_strength`` and
    ``within_strength`` are each set's mean r² over the pairs of ``r``, ``r_boundary`` and ``r_within`` as a
    fraction of the real set's (see :meth:`_PairClass.strengths`): a correlation is blind to LD that is uniformly
    weaker, these are not.
    """

    sites: np.ndarray
    n_pairs: int
    bin_edges: np.ndarray
    decay: dict[str, list[float | None]] = field(default_factory=dict)
    r: dict[str, float | None] = field(default_factory=dict)
    r_all_pairs: dict[str, float | None] = field(default_factory=dict)
    r_boundary: dict[str, float | None] = field(default_factory=dict)
    r_within: dict[str, float | None] = field(default_factory=dict)
    boundary_decay: dict[str, list[float | None]] = field(default_factory=dict)
    within_decay: dict[str, list[float | None]] = field(default_factory=dict)
    strength: dict[str, float | None] = field(default_factory=dict)
    boundary_strength: dict[str, float | None] = field(default_factory=dict)
    within_strength: dict[str, float | None] = field(default_factory=dict)
    pairs: dict[str, int] = field(default_factory=dict)


class _PairClass:
    """Running sums over one class of site pairs: the moments of (real r², set r²) for each set, and with
    ``buckets`` the mean r² of each set per bucket (a distance bin, or a separation in sites), from bucket
    ``first_bucket`` on."""

    def __init__(
        self, names: list[str], others: list[str], device: str, buckets: int = 0, first_bucket: int = 0
    ) -> None:
        import torch

        self.others = others
        self.count = 0
        self.moments = {name: torch.zeros(5, dtype=torch.float64, device=device) for name in others}
        self.buckets = buckets
        self.first_bucket = first_bucket
        self.bucket_sums = {name: torch.zeros(buckets, dtype=torch.float64, device=device) for name in names}
        self.bucket_counts = torch.zeros(buckets, dtype=torch.float64, device=device)

    def add(self, r2: dict[str, Any], keep: Any, bucket: Any = None) -> None:
        import torch

        if not keep.any():
            return
        self.count += int(keep.sum())
        values = {name: r2[name][keep] for name in r2}
        for name in self.others:
            x, y = values["real"], values[name]
            self.moments[name] += torch.stack([x.sum(), y.sum(), (x * x).sum(), (y * y).sum(), (x * y).sum()])
        if self.buckets:
            index = bucket[keep]
            self.bucket_counts += torch.bincount(index, minlength=self.buckets).to(torch.float64)
            for name, v in values.items():
                self.bucket_sums[name] += torch.bincount(index, weights=v, minlength=self.buckets)

    def correlations(self) -> dict[str, float | None]:
        result: dict[str, float | None] = {}
        for name in self.others:
            sx, sy, sxx, syy, sxy = self.moments[name].cpu().numpy()
            n = max(self.count, 1)
            variance_x, variance_y = sxx - sx * sx / n, syy - sy * sy / n
            covariance = sxy - sx * sy / n
            result[name] = (
                float(covariance / np.sqrt(variance_x * variance_y))
                if self.count > 1 and variance_x > 0 and variance_y > 0
                else None
            )
        return result

    def strengths(self, sizes: Mapping[str, int]) -> dict[str, float | None]:
        """Each set's mean r² over these pairs as a fraction of the real set's, both corrected for the bias of r²
        in a sample of n haplotypes (about 1/n for unlinked sites: (r² - 1/n) / (1 - 1/n)), so that sets of
        different sizes compare; ``sizes`` are the haplotype counts by name, "real" included. None without pairs
        or without LD in the real set."""

        def corrected_mean(total: float, n: int) -> float:
            return (total / self.count - 1 / n) / (1 - 1 / n)

        sums = {name: self.moments[name][:2].cpu().numpy() for name in self.others}  # (real's sum, the set's)
        real = corrected_mean(next(iter(sums.values()))[0], sizes["real"]) if self.count and sums else 0.0
        return {
            name: float(corrected_mean(total, sizes[name]) / real) if real > 0 else None
            for name, (_, total) in sums.items()
        }

    def curves(self) -> dict[str, list[float | None]]:
        counts = self.bucket_counts.cpu().numpy()[self.first_bucket :]
        return {
            name: [float(v / c) if c else None for v, c in zip(sums.cpu().numpy()[self.first_bucket :], counts)]
            for name, sums in self.bucket_sums.items()
        }


def compare_ld(
    real: np.ndarray,
    others: Mapping[str, np.ndarray],
    *,
    positions: np.ndarray,
    chromosomes: np.ndarray,
    bins: int = 50,
    tile: int = 2048,
    max_distance: int | None = None,
    boundaries: list[tuple[str, int]] | None = None,
    span: int = 50,
    device: str = "cpu",
) -> LdComparison:
    """LD (r²) of ``real`` and each set of ``others`` over site pairs, after removing sites fixed in any set: decay
    curves in ``bins`` distance bins and r² correlations with the real set (see :class:`LdComparison`).

    ``boundaries`` are the (CHROM, POS) where windows after a chromosome's first start (a chained set's
    windows); ``span`` how many sites on each side of a boundary its pairs reach. All pairs are visited in site
    tiles of ``tile`` x ``tile``; no n_sites² matrix is held.
    """
    import torch

    sets = {"real": real, **others}
    polymorphic = np.ones(real.shape[1], dtype=bool)
    for h in sets.values():
        frequencies = allele_frequencies(h)
        polymorphic &= (frequencies > 0) & (frequencies < 1)
    sites = np.flatnonzero(polymorphic)
    chrom_names, chrom_codes = np.unique(chromosomes[sites], return_inverse=True)
    chrom_codes = chrom_codes.reshape(-1)
    pos = positions[sites].astype(np.int64)
    span_bp = max(
        (int(pos[chrom_codes == c].max() - pos[chrom_codes == c].min()) for c in np.unique(chrom_codes)), default=0
    )
    if max_distance is not None:
        span_bp = min(span_bp, int(max_distance))
    edges = np.linspace(0, max(span_bp, 1), bins + 1)
    result = LdComparison(sites=sites, n_pairs=0, bin_edges=edges)
    names, other_names = list(sets), list(others)
    separations = 2 * span - 1
    classes = {
        "same_chromosome": _PairClass(names, other_names, device, bins),
        "all_pairs": _PairClass(names, other_names, device),
    }
    if boundaries is not None:
        classes["boundary"] = _PairClass(names, other_names, device, separations + 1, first_bucket=1)
        classes["within"] = _PairClass(names, other_names, device, separations + 1, first_bucket=1)
    if len(sites) >= 2:
        window, from_start, to_end = _window_indices(chrom_names, chrom_codes, pos, boundaries or [])
        z_by_set = {name: standardised(h[:, sites], device) for name, h in sets.items()}
        as_tensor = {"pos": pos, "chrom": chrom_codes, "window": window, "from_start": from_start, "to_end": to_end}
        t = {key: torch.as_tensor(value, device=device) for key, value in as_tensor.items()}
        width = float(edges[1] - edges[0])
        index = torch.arange(len(sites), device=device)
        for lo in range(0, len(sites), tile):
            for hi_lo in range(lo, len(sites), tile):
                rows, cols = slice(lo, lo + tile), slice(hi_lo, hi_lo + tile)
                upper = index[rows, None] < index[None, cols]
                if not upper.any():
                    continue
                r2 = {}
                for name, z in z_by_set.items():
                    r = (z[:, rows].T @ z[:, cols]) / len(z)
                    r2[name] = (r * r).to(torch.float64)
                classes["all_pairs"].add(r2, upper)
                distance = (t["pos"][None, cols] - t["pos"][rows, None]).abs()
                same = upper & (t["chrom"][rows, None] == t["chrom"][None, cols])
                if max_distance is not None:
                    same &= distance <= max_distance
                classes["same_chromosome"].add(r2, same, torch.clamp((distance / width).to(torch.int64), max=bins - 1))
                if boundaries is not None:
                    separation = index[None, cols] - index[rows, None]
                    close = upper & (separation <= separations)
                    classes["within"].add(
                        r2,
                        close & (t["window"][rows, None] == t["window"][None, cols]),
                        separation.clamp(0, separations),
                    )
                    straddle = (
                        close
                        & (t["window"][rows, None] + 1 == t["window"][None, cols])
                        & (t["to_end"][rows, None] < span)
                        & (t["from_start"][None, cols] < span)
                    )
                    classes["boundary"].add(r2, straddle, separation.clamp(0, separations))
    result.decay = classes["same_chromosome"].curves()
    result.n_pairs = classes["same_chromosome"].count
    result.r = classes["same_chromosome"].correlations()
    result.r_all_pairs = classes["all_pairs"].correlations()
    sizes = {name: len(h) for name, h in sets.items()}
    result.strength = classes["same_chromosome"].strengths(sizes)
    result.pairs = {name: pair_class.count for name, pair_class in classes.items()}
    if boundaries is not None:
        result.r_boundary, result.r_within = classes["boundary"].correlations(), classes["within"].correlations()
        result.boundary_strength = classes["boundary"].strengths(sizes)
        result.within_strength = classes["within"].strengths(sizes)
        result.boundary_decay, result.within_decay = classes["boundary"].curves(), classes["within"].curves()
    return result


def _window_indices(
    chrom_names: np.ndarray, chrom_codes: np.ndarray, pos: np.ndarray, boundaries: list[tuple[str, int]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each site (sorted by chromosome block and position): a window number, adjacent only for consecutive
    windows of one chromosome; how many sites of its window precede it; how many follow it."""
    starts_by_chrom: dict[str, list[int]] = {}
    for chrom, start in boundaries:
        starts_by_chrom.setdefault(str(chrom), []).append(int(start))
    window = np.zeros(len(pos), dtype=np.int64)
    stride = len(boundaries) + 2
    for code, name in enumerate(chrom_names):
        on = chrom_codes == code
        starts = np.sort(np.asarray(starts_by_chrom.get(str(name), []), dtype=np.int64))
        window[on] = code * stride + np.searchsorted(starts, pos[on], side="right")
    change = np.concatenate([[True], window[1:] != window[:-1]])
    first = np.maximum.accumulate(np.where(change, np.arange(len(pos)), 0))
    last_change = np.concatenate([window[1:] != window[:-1], [True]])
    last = np.minimum.accumulate(np.where(last_change, np.arange(len(pos)), len(pos))[::-1])[::-1]
    return window, np.arange(len(pos)) - first, last - np.arange(len(pos))


def r_squared_matrix(haplotypes: np.ndarray) -> np.ndarray:
    """r² between every pair of the given (polymorphic) sites, float64 (n_sites, n_sites)."""
    frequencies = allele_frequencies(haplotypes)
    z = (haplotypes - frequencies) / np.sqrt(frequencies * (1 - frequencies))
    r = (z.T @ z) / len(haplotypes)
    return r * r


def standardised(haplotypes: np.ndarray, device: str):
    """Z = (X - p) / sqrt(p (1 - p)) column by column, float32 on ``device``: Z_i.Z_j / n_haplotypes = r_ij."""
    import torch

    x = torch.as_tensor(haplotypes, device=device).to(torch.float32)
    p = x.mean(dim=0)
    return (x - p) / torch.sqrt(p * (1 - p))


def choose_triplets(
    n_sites: int, *, n_triplets: int = 8000, separations=THREE_POINT_SEPARATIONS, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Site triplets (i, i+s, i+2s) for each separation s, and three distinct random sites for "random".

    At most ``n_triplets`` distinct triplets per separation (fewer when the data has fewer); a separation too
    wide for the data is left out.

    Example
    -------
    >>> t = choose_triplets(10, n_triplets=3, separations=(4, 8), rng=np.random.default_rng(0))
    >>> sorted(t), t["4"].shape, bool((t["4"][:, 1] - t["4"][:, 0] == 4).all())
    (['4'], (2, 3), True)
    """
    triplets = {}
    for separation in separations:
        if separation == "random":
            if n_sites >= 3:
                picks = np.array([np.sort(rng.choice(n_sites, 3, replace=False)) for _ in range(n_triplets)])
                triplets["random"] = picks
            continue
        starts = n_sites - 2 * separation
        if starts < 1:
            continue
        first = np.sort(rng.choice(starts, min(n_triplets, starts), replace=False))
        triplets[str(separation)] = np.stack([first, first + separation, first + 2 * separation], axis=1)
    return triplets


def three_point_correlations(haplotypes: np.ndarray, triplets: np.ndarray, *, chunk: int = 1024) -> np.ndarray:
    """Connected 3-point correlation of each site triplet:
    <xyz> - <xy><z> - <xz><y> - <yz><x> + 2<x><y><z>, averaged over haplotypes (float64, n_triplets).

    Example
    -------
    >>> h = np.array([[0, 0, 0], [1, 1, 1]], dtype=np.uint8)
    >>> three_point_correlations(h, np.array([[0, 1, 2]])).tolist()
    [0.0]
    """
    out = np.empty(len(triplets), dtype=np.float64)
    for lo in range(0, len(triplets), chunk):
        t = triplets[lo : lo + chunk]
        x, y, z = (haplotypes[:, t[:, k]].astype(np.float32) for k in range(3))
        mx, my, mz = x.mean(0, dtype=np.float64), y.mean(0, dtype=np.float64), z.mean(0, dtype=np.float64)
        mxy, mxz, myz = ((a * b).mean(0, dtype=np.float64) for a, b in ((x, y), (x, z), (y, z)))
        mxyz = (x * y * z).mean(0, dtype=np.float64)
        out[lo : lo + len(t)] = mxyz - mxy * mz - mxz * my - myz * mx + 2 * mx * my * mz
    return out


# -- evaluate: every metric of every set, as one typed result ------------------------------------------------

SET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")  # the whole name (fullmatch: no trailing newline)
RESERVED_SET_NAMES = ("real", "holdout")
AATS_REPEATS = 3  # subsampling draws when a set and the real set differ in size
TSV_COLUMNS = (
    "n_haplotypes",
    "af_r",
    "fixed_fraction",
    "ld_r",
    "ld_strength",
    "ld_r_all_pairs",
    "boundary_ld_r",
    "within_window_ld_r",
    "boundary_ld_strength",
    "within_window_ld_strength",
    "w2d_pca",
    "pairwise_w",
    "pairwise_between_w",
    "aats",
    "nn_real_to_set_median",
)


@dataclass
class FidelityReport(Report):
    """How faithfully each artificial set reproduces the real one (``metrics["sets"][name]``), with what the
    plots need; ``write(folder)`` writes metrics.json, metrics.tsv, the plots and report.html.

    Examples
    --------
    >>> import json
    >>> import genosynth
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> baseline = genosynth.sample_baseline(train, 90, seed=1, progress=False)
    >>> report = genosynth.evaluate(train, {"bernoulli": baseline}, seed=1, progress=False)
    >>> sorted(json.loads(json.dumps(report.to_dict()))["sets"])  # what metrics.json holds
    ['bernoulli']
    """

    metrics: dict[str, Any]
    provenance: dict[str, Any]
    plot_data: dict[str, Any] = field(repr=False)
    report_title = "genosynth evaluate"
    json_name = "metrics.json"
    step = "evaluate"

    @property
    def sets(self) -> dict[str, dict[str, Any]]:
        """Metrics by set name (the held-out set, when given, first)."""
        return self.metrics["sets"]

    def to_dict(self) -> dict[str, Any]:
        return {**self.metrics, "provenance": self.provenance}

    def rows(self) -> list[list[Any]]:
        """One row per set: its name and the TSV_COLUMNS."""
        return [[name] + [m[c] for c in TSV_COLUMNS] for name, m in self.sets.items()]

    def _write_files(self, folder: Path) -> None:
        write_tsv(folder / "metrics.tsv", ("set",) + TSV_COLUMNS, self.rows())

    def _report_parts(self, folder: Path) -> ReportParts:
        from genosynth.reports.fidelity import FidelityPlots

        figures = FidelityPlots(folder, list(self.sets), self.plot_data, self.metrics).all()
        summary = [
            ("sites", str(self.metrics["n_sites"])),
            ("real haplotypes", str(self.metrics["real"]["n_haplotypes"])),
            ("sets", str(len(self.sets))),
        ]
        return summary, None, figures

    def _report_tables(self) -> list[HtmlTable]:
        from genosynth.reports.fidelity import metrics_table

        return [metrics_table(self.sets)]

    def __repr__(self) -> str:
        shown = "; ".join(
            f"{name}: AF r {format_cell(m['af_r'], '.3f')}, LD r {format_cell(m['ld_r'], '.3f')} "
            f"(strength {format_cell(m['ld_strength'], '.2f')}), "
            f"W2D {format_cell(m['w2d_pca'], '.4f')}, AATS {format_cell(m['aats'], '.3f')}"
            for name, m in self.sets.items()
        )
        return f"FidelityReport({self.metrics['n_sites']} sites; {shown})"


def parse_set_name(name: str) -> str:
    """A set name for tables and plots: 1-64 letters, digits or ``_.+-`` starting with a letter or digit, and not
    one of the names reserved for the real sets."""
    if not SET_NAME.fullmatch(name):
        raise OptionError(
            "synthetic", f"{name!r}: a set name is 1-64 letters, digits or _.+- starting with a letter or digit"
        )
    if name.lower() in RESERVED_SET_NAMES:
        raise OptionError("synthetic", f"{name!r}: the name is reserved for the real sets")
    return name


def evaluate(
    real: HaplotypeMatrix,
    synthetic: Mapping[str, HaplotypeMatrix],
    *,
    holdout: HaplotypeMatrix | None = None,
    intersect: bool = False,
    components: int = 6,
    triplets: int = 8000,
    ld_heatmap_sites: int = 200,
    windows: Sequence[str | Region] | None = None,
    boundary_span: int = 50,
    ld_max_distance: int | None = None,
    seed: int | None = None,
    device: str = "auto",
    progress: bool = True,
) -> FidelityReport:
    """Compare artificial haplotype sets with a real one: the metrics of Yelmen et al. 2021.

    Parameters
    ----------
    real
        The real haplotypes.
    synthetic
        Artificial sets by name (1-64 letters, digits or ``_.+-``; "real" and "holdout" are reserved).
    holdout
        Real held-out haplotypes, judged like a set as the reference "perfect generator".
    intersect
        Keep the sites (CHROM, POS, REF, ALT) common to all sets instead of an error when they differ.
    components, triplets, ld_heatmap_sites
        Principal components computed, site triplets per 3-point-correlation separation, sites in each LD heatmap.
    windows, boundary_span
        The windows a chained set was generated in (regions); by default those its provenance records. LD over
        the pairs that straddle a boundary (each site within ``boundary_span`` sites of it) is then reported as
        ``boundary_ld_r`` beside ``within_window_ld_r`` over pairs inside windows at the same separations, with
        ``boundary_ld_strength`` and ``within_window_ld_strength``.
    ld_max_distance
        Only same-chromosome pairs at most this many bp apart count in ``ld_r``, ``ld_strength`` and the decay
        curve. ``ld_r`` correlates the real and the set's r² over those pairs; ``ld_strength`` is the set's mean
        r² over them as a fraction of the real set's (1: as strong; both corrected for their sample sizes), which
        a correlation cannot see: LD uniformly half as strong keeps ``ld_r`` at 1.
    seed, device, progress
        Seed of PCA starts, triplets and AATS subsampling (random and recorded when None); where distances, PCA
        and LD are computed; progress lines on standard error.

    Returns
    -------
    FidelityReport

    Raises
    ------
    OptionError
        A bad option, named by its keyword.
    InputError
        Sets that are not on the real set's sites.

    Examples
    --------
    >>> import genosynth
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> baseline = genosynth.sample_baseline(train, 90, seed=1, progress=False)
    >>> report = evaluate(train, {"bernoulli": baseline}, holdout=holdout, seed=1, progress=False)
    >>> sorted(report.sets), 0.9 < report.sets["bernoulli"]["af_r"] <= 1
    (['bernoulli', 'holdout'], True)
    """
    parse_int("components", components, minimum=2)
    parse_int("triplets", triplets, minimum=1)
    parse_int("ld_heatmap_sites", ld_heatmap_sites, minimum=2)
    parse_int("boundary_span", boundary_span, minimum=1, maximum=10_000)
    if ld_max_distance is not None:
        parse_int("ld_max_distance", ld_max_distance, minimum=1)
    if not synthetic:
        raise OptionError("synthetic", "names no set to judge")
    for name in synthetic:
        parse_set_name(name)
    say = logger("evaluate", progress)
    seed = resolve_seed(seed)
    device = resolve_device(device)
    sets = ({"holdout": holdout} if holdout is not None else {}) | dict(synthetic)
    real, sets = _common_sites(real, sets, intersect=intersect, say=say)
    for name, matrix in {"real": real, **sets}.items():
        if matrix.n_haplotypes < 2:
            raise InputError(f"{matrix.name(name)}: at least 2 haplotypes are needed, found {matrix.n_haplotypes}")
    say(
        f"real {real.n_haplotypes} haplotypes x {real.n_sites} sites; "
        + ", ".join(f"{name} {m.n_haplotypes}" for name, m in sets.items())
        + f"; on {device}"
    )
    boundaries = (
        window_starts([Region.parse(w, parameter="windows") for w in windows])
        if windows is not None
        else _recorded_boundaries(sets.values())
    )
    metrics, plot_data = _fidelity_metrics(
        real,
        sets,
        components=components,
        triplets=triplets,
        ld_heatmap_sites=ld_heatmap_sites,
        boundaries=boundaries,
        boundary_span=boundary_span,
        ld_max_distance=ld_max_distance,
        seed=seed,
        device=device,
        say=say,
    )
    record = make_record(
        "evaluate",
        parameters={
            "sets": list(sets),
            "intersect": intersect,
            "components": components,
            "triplets": triplets,
            "ld_heatmap_sites": ld_heatmap_sites,
            "windows": None if windows is None else [str(w) for w in windows],
            "boundary_span": boundary_span,
            "ld_max_distance": ld_max_distance,
            "device": device,
        },
        seed=seed,
        inputs=[real.describe()] + [m.describe() for m in sets.values()],
    )
    return FidelityReport(metrics=metrics, provenance=record, plot_data=plot_data)


def _recorded_boundaries(sets: Any) -> list[tuple[str, int]] | None:
    """The window boundaries the first chained set among ``sets`` records in its provenance (sample's
    ``windows``), None when no set is chained."""
    for matrix in sets:
        for record in reversed(matrix.provenance):
            windows = (record.get("parameters") or {}).get("windows") if record.get("step") == "sample" else None
            if windows and len(windows) > 1:
                return window_starts([Region(str(chrom), int(first), int(last)) for chrom, first, last in windows])
            if record.get("step") == "sample":
                break
    return None


def _common_sites(
    real: HaplotypeMatrix, sets: dict[str, HaplotypeMatrix], *, intersect: bool, say: Any
) -> tuple[HaplotypeMatrix, dict[str, HaplotypeMatrix]]:
    """The sets on the real set's sites: checked equal, or cut to the sites all share with ``intersect``."""
    if not intersect:
        for name, matrix in sets.items():
            require_same_sites(
                real.sites, matrix.sites, reference_name=real.name("the real set"), other_name=matrix.name(name)
            )
        return real, sets
    kept = intersect_sites([real, *sets.values()])
    for (name, matrix), cut in zip(sets.items(), kept[1:]):
        if cut.n_sites < matrix.n_sites:
            say(
                f"intersect: {name} ({matrix.name(name)}) loses {matrix.n_sites - cut.n_sites} of its "
                f"{matrix.n_sites} sites"
            )
    if kept[0].n_sites < real.n_sites:
        say(f"intersect: the real set loses {real.n_sites - kept[0].n_sites} of its {real.n_sites} sites")
    if kept[0].n_sites == 0:
        raise InputError("the sets have no site in common (intersect)")
    return kept[0], dict(zip(sets, kept[1:]))


def _fidelity_metrics(
    real: HaplotypeMatrix,
    sets: dict[str, HaplotypeMatrix],
    *,
    components: int,
    triplets: int,
    ld_heatmap_sites: int,
    boundaries: list[tuple[str, int]] | None,
    boundary_span: int,
    ld_max_distance: int | None,
    seed: int,
    device: str,
    say: Any,
) -> tuple[dict, dict]:
    from genosynth.assess.distances import hamming_summary
    from genosynth.assess.privacy import aats_from_nearest, adversarial_accuracy

    rng = np.random.default_rng(seed)
    r = real.haplotypes
    af_real = allele_frequencies(r)
    say("pairwise differences within the real set")
    within_real = hamming_summary(r, histogram=True, device=device)
    say("PCA of all sets combined")
    combined = principal_components(
        np.concatenate([r] + [m.haplotypes for m in sets.values()]), n_components=components, seed=seed, device=device
    )
    data = {
        "af_real": af_real,
        "within_real": within_real,
        "combined_pca": combined,
        "per_set": {},
        "set_sizes": [real.n_haplotypes] + [m.n_haplotypes for m in sets.values()],
    }
    metrics: dict[str, Any] = {
        "n_sites": int(real.n_sites),
        "real": {
            "n_haplotypes": int(real.n_haplotypes),
            "source": real.name(None),
            "n_polymorphic": int(((af_real > 0) & (af_real < 1)).sum()),
            "nn_real_to_real_median": float(np.median(within_real.nearest_a)),
            "pca_explained_variance_ratio": combined.explained_variance_ratio.tolist(),
        },
        "sets": {},
    }
    for name, matrix in sets.items():
        say(f"{name}: allele frequencies, paired PCA, Wasserstein distances, pairwise differences, AATS")
        h = matrix.haplotypes
        af = allele_frequencies(h)
        paired = principal_components(np.concatenate([r, h]), n_components=components, seed=seed, device=device)
        real_pc, set_pc = paired.scores[: len(r)], paired.scores[len(r) :]
        within = hamming_summary(h, histogram=True, device=device)
        between = hamming_summary(r, h, histogram=True, device=device)
        if len(h) == len(r):
            aats = aats_from_nearest(
                real_to_synthetic=between.nearest_a,
                real_to_real=within_real.nearest_a,
                synthetic_to_real=between.nearest_b,
                synthetic_to_synthetic=within.nearest_a,
            )
        else:
            aats = adversarial_accuracy(r, h, repeats=AATS_REPEATS, rng=rng, device=device)
        metrics["sets"][name] = {
            "source": matrix.name(None),
            "n_haplotypes": int(len(h)),
            "af_r": pearson(af_real, af),
            "fixed_fraction": fixed_fraction(af_real, af),
            "w2d_pca": wasserstein_2d(real_pc[:, :2], set_pc[:, :2]),
            "pc_w1": [wasserstein_1d(real_pc[:, k], set_pc[:, k]) for k in range(paired.scores.shape[1])],
            "pairwise_w": histogram_wasserstein(within_real.histogram, within.histogram),
            "pairwise_between_w": histogram_wasserstein(within_real.histogram, between.histogram),
            "aats": aats.aats,
            "aa_truth": aats.aa_truth,
            "aa_syn": aats.aa_syn,
            "aats_ties": aats.ties,
            "aats_se": aats.standard_error,
            "aats_size": aats.size,
            "nn_real_to_set_median": float(np.median(between.nearest_a)),
            "nn_set_to_real_median": float(np.median(between.nearest_b)),
            "exact_copies_of_real": int((between.nearest_b == 0).sum()),
        }
        data["per_set"][name] = {"af": af, "paired_pca": paired, "within": within, "between": between}
    say("LD over all site pairs" + (f", across {len(boundaries)} window boundaries" if boundaries else ""))
    others = {name: m.haplotypes for name, m in sets.items()}
    ld = compare_ld(
        r,
        others,
        positions=real.sites.pos,
        chromosomes=real.sites.chrom,
        max_distance=ld_max_distance,
        boundaries=boundaries,
        span=boundary_span,
        device=device,
    )
    data["ld"] = ld
    shown = ld.sites[:ld_heatmap_sites]
    data["ld_heatmaps"] = (
        {name: (r_squared_matrix(r[:, shown]), r_squared_matrix(h[:, shown])) for name, h in others.items()}
        if len(shown) >= 2
        else {}
    )
    metrics["ld"] = {
        "sites": int(len(ld.sites)),
        "pairs": ld.n_pairs,
        "pairs_by_class": ld.pairs,
        "max_distance_bp": ld_max_distance,
        "bin_edges_bp": ld.bin_edges.tolist(),
        "decay": ld.decay,
        "window_boundaries": None if boundaries is None else [list(b) for b in boundaries],
        "boundary_span": boundary_span if boundaries is not None else None,
        "boundary_decay": ld.boundary_decay or None,
        "within_window_decay": ld.within_decay or None,
    }
    say("3-point correlations")
    chosen = choose_triplets(real.n_sites, n_triplets=triplets, rng=rng)
    real_c3 = {sep: three_point_correlations(r, t) for sep, t in chosen.items()}
    data["three_point"] = {"real": real_c3}
    for name, h in others.items():
        c3 = {sep: three_point_correlations(h, t) for sep, t in chosen.items()}
        data["three_point"][name] = c3
        m = metrics["sets"][name]
        m["ld_r"] = ld.r[name]
        m["ld_r_all_pairs"] = ld.r_all_pairs[name]
        m["boundary_ld_r"] = ld.r_boundary.get(name)
        m["within_window_ld_r"] = ld.r_within.get(name)
        m["ld_strength"] = ld.strength[name]
        m["boundary_ld_strength"] = ld.boundary_strength.get(name)
        m["within_window_ld_strength"] = ld.within_strength.get(name)
        m["three_point_r"] = {sep: pearson(real_c3[sep], c3[sep]) for sep in chosen}
    metrics["three_point_triplets"] = {sep: int(len(t)) for sep, t in chosen.items()}
    return metrics, data
