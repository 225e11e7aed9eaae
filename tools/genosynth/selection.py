"""Selection statistics by chromosome with scikit-allel (XP-EHH, iHS, PBS), and how two scans of them agree.

Haplotypes are genosynth's (n_haplotypes, n_sites) 0/1 arrays; scikit-allel wants (n_sites, n_haplotypes),
so they are transposed here. Every statistic is computed chromosome by chromosome (EHH and windows never
cross a chromosome) and standardised genome-wide, as ``allel.standardize`` does on one chromosome.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a, b = (rng.integers(0, 2, (20, 50), dtype=np.uint8) for _ in range(2))
>>> chrom, pos = np.array(["1"] * 50), np.arange(1, 51) * 1000
>>> xpehh_by_chromosome(a, b, chromosomes=chrom, positions=pos).shape
(50,)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .fidelity import pearson


@dataclass(frozen=True)
class EhhOptions:
    """scikit-allel's EHH options, with its defaults; ``map_positions`` are genetic positions per site (cM)."""

    min_ehh: float = 0.05
    include_edges: bool = False
    gap_scale: int = 20_000
    max_gap: int = 200_000
    map_positions: np.ndarray | None = None

    def for_sites(self, index: np.ndarray) -> dict:
        """Keyword arguments of ``allel.xpehh``/``allel.ihs`` for the sites at ``index``."""
        return {"map_pos": None if self.map_positions is None else self.map_positions[index],
                "min_ehh": self.min_ehh, "include_edges": self.include_edges,
                "gap_scale": self.gap_scale, "max_gap": self.max_gap}


def chromosome_runs(chromosomes: np.ndarray, positions: np.ndarray, *, name: str) -> list[tuple[str, np.ndarray]]:
    """Site indices of each chromosome, in file order; InputError unless positions increase strictly within each.

    Example
    -------
    >>> [(c, i.tolist()) for c, i in chromosome_runs(np.array(["1", "1", "2"]), np.array([5, 9, 3]), name="x")]
    [('1', [0, 1]), ('2', [2])]
    """
    runs: list[tuple[str, np.ndarray]] = []
    starts = np.flatnonzero(np.r_[True, chromosomes[1:] != chromosomes[:-1]])
    ends = np.r_[starts[1:], len(chromosomes)]
    seen: set[str] = set()
    for start, end in zip(starts, ends):
        chrom = str(chromosomes[start])
        if chrom in seen:
            raise InputError(f"{name}: chromosome {chrom} comes back at site {start + 1} after other chromosomes; "
                             "sort the sites by chromosome and position")
        seen.add(chrom)
        steps = np.diff(positions[start:end])
        bad = np.flatnonzero(steps <= 0)
        if len(bad):
            i = start + bad[0] + 1
            raise InputError(f"{name}: positions must increase strictly within a chromosome, but site {i + 1} "
                             f"({chrom}:{positions[i]}) follows {chrom}:{positions[i - 1]}")
        runs.append((chrom, np.arange(start, end)))
    return runs


def xpehh_by_chromosome(target: np.ndarray, versus: np.ndarray, *, chromosomes: np.ndarray, positions: np.ndarray,
                        options: EhhOptions = EhhOptions(), name: str = "haplotypes") -> np.ndarray:
    """Unstandardised XP-EHH of ``target`` against ``versus`` (positive: longer haplotypes in target), per site.

    Parameters
    ----------
    target, versus
        uint8 (n_haplotypes, n_sites) arrays over the same sites.
    chromosomes, positions
        Site chromosome and position arrays (n_sites,).

    Returns
    -------
    float64 array (n_sites,), NaN where scikit-allel gives none (edges, gaps, sites monomorphic in both).
    """
    import allel

    _check_sites(target, versus, positions=positions)
    scores = np.full(target.shape[1], np.nan)
    for _, index in chromosome_runs(chromosomes, positions, name=name):
        scores[index] = allel.xpehh(target[:, index].T, versus[:, index].T, positions[index],
                                    use_threads=False, **options.for_sites(index))
    return scores


def ihs_by_chromosome(haplotypes: np.ndarray, *, chromosomes: np.ndarray, positions: np.ndarray,
                      options: EhhOptions = EhhOptions(), min_maf: float = 0.05, n_bins: int = 50,
                      name: str = "haplotypes") -> np.ndarray:
    """iHS per site, standardised within ``n_bins`` bins of alternate-allele count (``allel.standardize_by_allele_count``).

    Returns float64 (n_sites,), NaN below ``min_maf``, at edges and gaps.
    """
    import allel

    raw = np.full(haplotypes.shape[1], np.nan)
    for _, index in chromosome_runs(chromosomes, positions, name=name):
        raw[index] = allel.ihs(haplotypes[:, index].T, positions[index], min_maf=min_maf, use_threads=False,
                               **options.for_sites(index))
    if not np.isfinite(raw).any():
        return raw
    alt_counts = haplotypes.sum(axis=0, dtype=np.int64)
    standardised, _ = allel.standardize_by_allele_count(raw, alt_counts, n_bins=n_bins, diagnostics=False)
    return standardised


@dataclass
class PbsWindows:
    """PBS in windows of consecutive sites; arrays have shape (n_windows,)."""

    chromosomes: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    values: np.ndarray


def pbs_by_chromosome(target: np.ndarray, versus: np.ndarray, outgroup: np.ndarray, *, chromosomes: np.ndarray,
                      positions: np.ndarray, window: int = 10, step: int = 5, name: str = "haplotypes") -> PbsWindows:
    """Normalised population branch statistic of ``target`` in windows of ``window`` sites moved by ``step``.

    Windows are those of ``allel.pbs`` run on each chromosome separately; ``starts``/``ends`` are the
    positions of a window's first and last site.
    """
    import allel
    from allel.stats.window import index_windows

    counts = [allel.HaplotypeArray(h.T).count_alleles(max_allele=1) for h in (target, versus, outgroup)]
    chrom_out, starts, ends, values = [], [], [], []
    for chrom, index in chromosome_runs(chromosomes, positions, name=name):
        if len(index) < window:
            continue
        bounds = np.array(list(index_windows(index, window, 0, None, step)))
        with np.errstate(divide="ignore", invalid="ignore"):
            pbs = allel.pbs(*(c[index] for c in counts), window_size=window, window_step=step)
        chrom_out += [chrom] * len(bounds)
        starts.append(positions[index][bounds[:, 0]])
        ends.append(positions[index][bounds[:, 1] - 1])
        values.append(np.asarray(pbs, dtype=float))
    if not values:
        raise InputError(f"{name}: no chromosome holds the {window} sites one PBS window needs")
    return PbsWindows(np.array(chrom_out), np.concatenate(starts), np.concatenate(ends), np.concatenate(values))


def standardise(scores: np.ndarray) -> np.ndarray:
    """(score - mean) / sd over the finite scores (NaN stays NaN), as ``allel.standardize``."""
    finite = scores[np.isfinite(scores)]
    if len(finite) < 2 or finite.std() == 0:
        return np.full_like(scores, np.nan, dtype=float)
    return (scores - finite.mean()) / finite.std()


def spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    """Spearman rank correlation (ties get their average rank); None when undefined.

    Example
    -------
    >>> spearman(np.array([1.0, 2, 3, 4]), np.array([10.0, 20, 20, 40]))
    0.9486832980505138
    """
    return pearson(_average_ranks(x), _average_ranks(y))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    first = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values))
    ranks[order] = ((starts + ends - 1) / 2.0 + 1.0)[group]
    return ranks


def compare_scans(real: np.ndarray, synthetic: np.ndarray, *, percentile: float = 99.0) -> dict:
    """How a synthetic scan agrees with the real one: correlations over sites finite in both, NaNs counted,
    and the peaks (scores at or above each scan's ``percentile``) that both share.

    Example
    -------
    >>> out = compare_scans(np.arange(200.0), np.arange(200.0))
    >>> out["pearson"], out["peaks_real"], out["peaks_shared"]
    (1.0, 2, 2)
    """
    both = np.isfinite(real) & np.isfinite(synthetic)
    peaks_real, threshold_real = peaks(real, percentile=percentile)
    peaks_synthetic, threshold_synthetic = peaks(synthetic, percentile=percentile)
    return {
        "n": int(len(real)), "n_compared": int(both.sum()),
        "nan_real": int((~np.isfinite(real)).sum()), "nan_synthetic": int((~np.isfinite(synthetic)).sum()),
        "pearson": pearson(real[both], synthetic[both]) if both.sum() > 1 else None,
        "spearman": spearman(real[both], synthetic[both]) if both.sum() > 1 else None,
        "percentile": percentile, "threshold_real": threshold_real, "threshold_synthetic": threshold_synthetic,
        "peaks_real": int(peaks_real.sum()), "peaks_synthetic": int(peaks_synthetic.sum()),
        "peaks_shared": int((peaks_real & peaks_synthetic).sum()),
    }


def peaks(scores: np.ndarray, *, percentile: float = 99.0) -> tuple[np.ndarray, float | None]:
    """Mask of finite scores at or above their ``percentile``, and that threshold (None without finite scores)."""
    finite = np.isfinite(scores)
    if not finite.any():
        return np.zeros(len(scores), dtype=bool), None
    threshold = float(np.percentile(scores[finite], percentile))
    with np.errstate(invalid="ignore"):
        return finite & (scores >= threshold), threshold


def _check_sites(*arrays: np.ndarray, positions: np.ndarray) -> None:
    for array in arrays:
        if array.ndim != 2 or array.shape[1] != len(positions):
            raise ValueError(f"expected (n_haplotypes, {len(positions)}) haplotypes, got shape {array.shape}")
