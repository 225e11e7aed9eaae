"""Genomic windows as ImaGene images (Torada et al. 2019) and the posterior summaries of a classifier over S bins.

An image has the window's haplotypes as rows and its polymorphic sites as columns, the minor allele as 1.
Sites whose minor allele frequency is below ``min_maf`` are dropped (ImaGene's ``filter_freq``); rows are
sorted by how often each haplotype occurs, the most common first (ImaGene's ``rows_freq``); columns by their
minor allele frequency, the most frequent first, identical columns kept together (ImaGene's ``cols_freq``
orders identical columns by their count, which for real windows, where few columns repeat, is close to an
arbitrary order; the allele frequency makes the column axis the window's site frequency spectrum). The
sorted matrix is resized to ``size`` x ``size`` with anti-aliased bilinear resampling and pushed to 0/1
at 0.5 (ImaGene's ``resize(..., set_to_boundaries=True)``).

Example
-------
>>> import numpy as np
>>> window = np.array([[0, 1, 1], [0, 1, 0], [1, 1, 0], [0, 1, 0]], dtype=np.uint8)
>>> haplotype_image(window, size=4, min_maf=0.0).shape
(4, 4)
"""

from __future__ import annotations

import numpy as np

MIN_IMAGE_SIZE = 64  # the three 3x3 convolutions with 3x3 pooling leave at least one pixel
HPD_MASS = 0.95


def sort_window(haplotypes: np.ndarray, *, min_maf: float = 0.01) -> np.ndarray:
    """The window polarised to the minor allele, filtered by ``min_maf`` and sorted (rows, then columns).

    Parameters
    ----------
    haplotypes
        uint8 (n_haplotypes, n_sites) array of 0/1.
    min_maf
        Sites with a lower minor allele frequency are dropped, and so are monomorphic ones.

    Returns
    -------
    uint8 (n_haplotypes, n_kept) array.

    Example
    -------
    >>> sort_window(np.array([[1, 0], [1, 1], [0, 0]], dtype=np.uint8), min_maf=0.0).tolist()
    [[0, 0], [0, 1], [1, 0]]
    """
    if haplotypes.ndim != 2:
        raise ValueError(f"expected a (n_haplotypes, n_sites) window, got shape {haplotypes.shape}")
    window = np.asarray(haplotypes, dtype=np.uint8)
    frequency = _frequencies(window)
    window = np.where(frequency > 0.5, 1 - window, window).astype(np.uint8)
    keep = _kept(frequency, min_maf)
    window, minor = window[:, keep], np.minimum(frequency, 1 - frequency)[keep]
    if window.shape[1] == 0:
        return window
    window = sort_rows(window)
    _, column_of = np.unique(window, axis=1, return_inverse=True)
    column_order = np.lexsort((column_of.ravel(), -minor))
    return np.ascontiguousarray(window[:, column_order])


def sort_rows(window: np.ndarray) -> np.ndarray:
    """The rows of ``window`` ordered by how often each occurs, the most common first, identical rows together
    (ImaGene's ``rows_freq``).

    Example
    -------
    >>> sort_rows(np.array([[1, 0], [0, 1], [1, 0]], dtype=np.uint8)).tolist()
    [[1, 0], [1, 0], [0, 1]]
    """
    if window.shape[0] == 0 or window.shape[1] == 0:
        return window
    _, row_of, row_counts = np.unique(window, axis=0, return_inverse=True, return_counts=True)
    return window[np.lexsort((row_of.ravel(), -row_counts[row_of.ravel()]))]


def kept_sites(window: np.ndarray, *, min_maf: float) -> np.ndarray:
    """Boolean mask of the sites an image keeps: polymorphic, with a minor allele frequency of at least ``min_maf``.

    Example
    -------
    >>> kept_sites(np.array([[0, 1, 1], [0, 0, 1], [0, 0, 1], [0, 0, 0]], dtype=np.uint8), min_maf=0.2).tolist()
    [False, True, True]
    """
    return _kept(_frequencies(window), min_maf)


def _frequencies(window: np.ndarray) -> np.ndarray:
    return window.mean(axis=0) if window.size else np.zeros(window.shape[1])


def _kept(frequency: np.ndarray, min_maf: float) -> np.ndarray:
    minor = np.minimum(frequency, 1 - frequency)
    return (minor > 0) & (minor >= min_maf)


def resize_image(window: np.ndarray, *, size: int) -> np.ndarray:
    """``window`` (rows x columns of 0/1) resized to ``size`` x ``size`` and pushed to 0/1 at 0.5 (uint8).

    The resampling is separable, with a triangle (bilinear) kernel widened by the scale when shrinking, as
    anti-aliased resizing does; a window without rows or columns is an all-zero image.

    Example
    -------
    >>> resize_image(np.ones((3, 5), dtype=np.uint8), size=4).tolist()
    [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]]
    """
    if window.shape[1] == 0 or window.shape[0] == 0:
        return np.zeros((size, size), dtype=np.uint8)
    pixels = _resampling(window.shape[0], size) @ window.astype(np.float64) @ _resampling(window.shape[1], size).T
    return (pixels >= 0.5 - 1e-9).astype(np.uint8)


def _resampling(length: int, size: int) -> np.ndarray:
    """(size, length) weights taking ``length`` samples to ``size`` (triangle kernel, rows summing to 1)."""
    scale = length / size
    support = max(scale, 1.0)
    centres = (np.arange(size) + 0.5) * scale - 0.5
    weights = np.maximum(0.0, 1.0 - np.abs(np.arange(length)[None, :] - centres[:, None]) / support)
    return weights / weights.sum(axis=1, keepdims=True)


def haplotype_image(haplotypes: np.ndarray, *, size: int = 128, min_maf: float = 0.01) -> np.ndarray:
    """The ImaGene image of a window: :func:`sort_window` then :func:`resize_image` (uint8 (size, size))."""
    return resize_image(sort_window(haplotypes, min_maf=min_maf), size=size)


def parse_s_grid(text: str | list[float] | tuple[float, ...]) -> np.ndarray:
    """The S = 2Ns classes: at least two distinct non-negative values including 0 (neutral), sorted.

    Example
    -------
    >>> parse_s_grid("0,200,100").tolist()
    [0.0, 100.0, 200.0]
    >>> parse_s_grid("100,-5")
    Traceback (most recent call last):
    genosynth.OptionError: s_grid -5: S must be >= 0
    """
    from genosynth._infra.errors import OptionError

    items = [item.strip() for item in text.split(",")] if isinstance(text, str) else list(text)
    items = [item for item in items if item != ""]
    if not items:
        raise OptionError("s_grid", "is empty: give S values such as 0,100,200,300,400")
    values = []
    for item in items:
        try:
            value = float(item)
        except (TypeError, ValueError):
            raise OptionError("s_grid", f"{item!r}: not a number") from None
        if not np.isfinite(value) or value < 0:
            raise OptionError("s_grid", f"{item}: S must be >= 0")
        values.append(value)
    grid = np.array(sorted(values))
    if len(np.unique(grid)) != len(grid):
        raise OptionError("s_grid", f"{','.join(map(str, items))}: values repeat")
    if len(grid) < 2 or grid[0] != 0:
        raise OptionError("s_grid", f"{','.join(map(str, items))}: needs 0 (neutral) and at least one S > 0")
    return grid


def posterior_summary(probabilities: np.ndarray, classes: np.ndarray) -> dict[str, np.ndarray]:
    """Per-window summaries of class probabilities over the S grid (``classes[0]`` is 0, neutrality).

    Returns arrays (n_windows,): ``p_selection`` (1 - P(S = 0)), ``s_mean`` (posterior mean), ``s_map``
    (the most probable class), ``hpd_low``/``hpd_high`` (the narrowest run of adjacent classes holding at least
    95% of the probability) and ``bayes_factor`` (posterior odds of selection over neutrality divided by the
    prior odds of the simulated classes, K - 1 to 1; ImaGene reports the posterior odds alone).

    Example
    -------
    >>> out = posterior_summary(np.array([[0.02, 0.08, 0.9]]), np.array([0.0, 200.0, 400.0]))
    >>> [round(float(out[key][0]), 6) for key in ("s_mean", "hpd_low", "hpd_high", "bayes_factor")]
    [376.0, 200.0, 400.0, 24.5]
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape[1] != len(classes):
        raise ValueError(f"expected (n_windows, {len(classes)}) probabilities, got shape {probabilities.shape}")
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    neutral = np.clip(probabilities[:, 0], 1e-12, 1.0)
    cumulative = np.concatenate([np.zeros((len(probabilities), 1)), np.cumsum(probabilities, axis=1)], axis=1)
    k = len(classes)
    low, high = np.triu_indices(k)  # every run of adjacent classes [low, high]
    mass = cumulative[:, high + 1] - cumulative[:, low]
    width = np.broadcast_to(classes[high] - classes[low], mass.shape)
    # the narrowest run holding the mass; among equally narrow ones, the one holding the most
    score = np.where(mass >= HPD_MASS - 1e-9, width - mass * 1e-9, np.inf)
    best = np.argmin(score, axis=1)
    return {
        "p_selection": 1.0 - probabilities[:, 0],
        "s_mean": probabilities @ classes,
        "s_map": classes[np.argmax(probabilities, axis=1)],
        "hpd_low": classes[low[best]],
        "hpd_high": classes[high[best]],
        "bayes_factor": (1.0 - neutral) / neutral / (k - 1),
    }
