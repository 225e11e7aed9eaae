"""Hamming distances between haplotype sets, as blocked matrix products (GPU when asked): nearest neighbours
and the distribution of all pairwise distances, without ever holding the whole distance matrix.

For 0/1 rows a and b, Hamming(a, b) = |a| + |b| - 2 a.b; counted over the sites a mask v marks visible,
v.a + v.b - 2 (v*a).b. The products run in float32, exact while the number of sites stays below 2**24.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_TILE_ROWS = 4096  # haplotypes per side of one distance tile


@dataclass
class HammingSummary:
    """What one pass over all pairwise distances between sets ``a`` and ``b`` collects.

    nearest_a[i] is the distance from a[i] to its nearest b (for a set against itself: to its nearest other
    member); nearest_b[j] the distance from b[j] to its nearest a (None for a set against itself);
    histogram[d] counts the pairs at distance d (each unordered pair once for a set against itself).
    """

    nearest_a: np.ndarray
    nearest_b: np.ndarray | None
    histogram: np.ndarray | None


def hamming_summary(
    a: np.ndarray, b: np.ndarray | None = None, *, histogram: bool = False, device: str = "cpu"
) -> HammingSummary:
    """Nearest-neighbour distances (and optionally the histogram of all distances) between two sets.

    Parameters
    ----------
    a, b
        uint8 arrays (n_a, n_sites) and (n_b, n_sites) of 0/1 alleles; ``b`` None compares ``a`` with
        itself, each unordered pair once and no haplotype with itself (it may still match a copy).
    histogram
        Also count the pairs at each distance 0..n_sites.
    device
        A torch device name ("cpu", "cuda").

    Example
    -------
    >>> a = np.array([[0, 1, 1], [1, 1, 1], [0, 0, 0]], dtype=np.uint8)
    >>> s = hamming_summary(a, histogram=True)
    >>> s.nearest_a.tolist(), s.histogram.tolist()
    ([1, 1, 2], [0, 1, 1, 1])
    """
    import torch

    within = b is None
    b = a if within else b
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"shapes {a.shape} and {b.shape} do not share a site axis")
    if len(b) - int(within) < 1 or len(a) < 1:
        raise ValueError("a set has no haplotype to compare with")
    n_sites = a.shape[1]
    inf = torch.tensor(float("inf"), device=device)
    nearest_a = torch.full((len(a),), float("inf"), device=device)
    nearest_b = torch.full((len(b),), float("inf"), device=device)
    counts = torch.zeros(n_sites + 1, dtype=torch.int64, device=device) if histogram else None
    b_tiles = [(lo, _as_float(b[lo : lo + _TILE_ROWS], device)) for lo in range(0, len(b), _TILE_ROWS)]
    for a_lo in range(0, len(a), _TILE_ROWS):
        qa = _as_float(a[a_lo : a_lo + _TILE_ROWS], device)
        qa_counts = qa.sum(dim=1, keepdim=True)
        for b_lo, qb in b_tiles:
            if within and b_lo < a_lo:
                continue  # the symmetric tile was done
            distance = qa_counts + qb.sum(dim=1)[None, :] - 2.0 * (qa @ qb.T)
            if within and b_lo == a_lo:
                upper = torch.ones_like(distance, dtype=torch.bool).triu(diagonal=1)
                distance = torch.where(torch.eye(len(qa), dtype=torch.bool, device=device), inf, distance)
                if counts is not None:
                    counts += torch.bincount(distance[upper].round().to(torch.int64), minlength=n_sites + 1)
            elif counts is not None:
                counts += torch.bincount(distance.flatten().round().to(torch.int64), minlength=n_sites + 1)
            rows = slice(a_lo, a_lo + len(qa))
            cols = slice(b_lo, b_lo + len(qb))
            nearest_a[rows] = torch.minimum(nearest_a[rows], distance.min(dim=1).values)
            if within:  # the tile stands for its mirror image too
                nearest_a[cols] = torch.minimum(nearest_a[cols], distance.min(dim=0).values)
            else:
                nearest_b[cols] = torch.minimum(nearest_b[cols], distance.min(dim=0).values)
    return HammingSummary(
        nearest_a=nearest_a.round().to(torch.int64).cpu().numpy(),
        nearest_b=None if within else nearest_b.round().to(torch.int64).cpu().numpy(),
        histogram=None if counts is None else counts.cpu().numpy(),
    )


def nearest_hamming(
    queries: np.ndarray, reference: np.ndarray, *, exclude_self: bool = False, device: str = "cpu"
) -> np.ndarray:
    """Distance from each query haplotype to its nearest reference haplotype.

    Parameters
    ----------
    queries, reference
        uint8 arrays (n_queries, n_sites) and (n_reference, n_sites) of 0/1 alleles.
    exclude_self
        ``queries`` is ``reference`` itself: row i is not compared with row i (it may still match a copy).
    device
        A torch device name ("cpu", "cuda").

    Returns
    -------
    int64 array (n_queries,)

    Example
    -------
    >>> q = np.array([[0, 1, 1], [1, 1, 1]], dtype=np.uint8)
    >>> nearest_hamming(q, q, exclude_self=True).tolist()
    [1, 1]
    """
    if exclude_self and queries.shape != reference.shape:
        raise ValueError("exclude_self needs the same set on both sides")
    return hamming_summary(queries, None if exclude_self else reference, device=device).nearest_a


def nearest_on_visible(
    queries: np.ndarray, visible: np.ndarray, reference: np.ndarray, *, device: str = "cpu"
) -> np.ndarray:
    """Index of each query's nearest reference haplotype, counting only the sites ``visible`` marks for that query
    (the first of equally near ones).

    Parameters
    ----------
    queries, visible
        uint8 arrays (n_queries, n_sites): 0/1 alleles, and 1 where a query's site counts.
    reference
        uint8 array (n_reference, n_sites) of 0/1 alleles.
    device
        A torch device name ("cpu", "cuda").

    Example
    -------
    >>> q = np.array([[1, 1, 0]], dtype=np.uint8)
    >>> r = np.array([[1, 1, 1], [0, 0, 0]], dtype=np.uint8)
    >>> nearest_on_visible(q, np.array([[1, 1, 0]], dtype=np.uint8), r).tolist()  # the third site hidden
    [0]
    >>> nearest_on_visible(q, np.array([[0, 0, 1]], dtype=np.uint8), r).tolist()  # only the third visible
    [1]
    """
    import torch

    if (
        queries.shape != visible.shape
        or queries.ndim != 2
        or reference.ndim != 2
        or reference.shape[1] != queries.shape[1]
    ):
        raise ValueError(f"shapes {queries.shape}, {visible.shape} and {reference.shape} do not share a site axis")
    if len(reference) < 1:
        raise ValueError("the reference set has no haplotype")
    best = torch.full((len(queries),), float("inf"), device=device)
    index = torch.zeros(len(queries), dtype=torch.int64, device=device)
    reference_tiles = [
        (lo, _as_float(reference[lo : lo + _TILE_ROWS], device)) for lo in range(0, len(reference), _TILE_ROWS)
    ]
    for q_lo in range(0, len(queries), _TILE_ROWS):
        mask = _as_float(visible[q_lo : q_lo + _TILE_ROWS], device)
        shown = _as_float(queries[q_lo : q_lo + _TILE_ROWS], device) * mask
        rows = slice(q_lo, q_lo + len(mask))
        for r_lo, tile in reference_tiles:
            distance = shown.sum(dim=1, keepdim=True) + mask @ tile.T - 2.0 * (shown @ tile.T)
            values, where = distance.min(dim=1)
            nearer = values < best[rows]
            best[rows] = torch.where(nearer, values, best[rows])
            index[rows] = torch.where(nearer, where + r_lo, index[rows])
    return index.cpu().numpy()


def _as_float(rows: np.ndarray, device: str):
    import torch

    return torch.as_tensor(rows, device=device).to(torch.float32)
