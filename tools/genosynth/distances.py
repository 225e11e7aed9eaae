"""Nearest-neighbour Hamming distances between haplotype sets, as blocked matrix products (GPU when asked).

For 0/1 rows a and b, Hamming(a, b) = |a| + |b| - 2 a.b; the products run in float32, exact while the
number of sites stays below 2**24.
"""

from __future__ import annotations

import numpy as np

_BLOCK_ELEMENTS = 1 << 25  # elements of one query-block x reference distance tile


def nearest_hamming(queries: np.ndarray, reference: np.ndarray, *, exclude_self: bool = False,
                    device: str = "cpu") -> np.ndarray:
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
    import torch

    if queries.ndim != 2 or reference.ndim != 2 or queries.shape[1] != reference.shape[1]:
        raise ValueError(f"shapes {queries.shape} and {reference.shape} do not share a site axis")
    if exclude_self and queries.shape != reference.shape:
        raise ValueError("exclude_self needs the same set on both sides")
    if len(reference) - int(exclude_self) < 1:
        raise ValueError("the reference set has no haplotype to compare with")
    ref = torch.as_tensor(reference, device=device).to(torch.float32)
    ref_counts = ref.sum(dim=1)
    block = max(1, _BLOCK_ELEMENTS // max(1, len(reference)))
    nearest = np.empty(len(queries), dtype=np.int64)
    for lo in range(0, len(queries), block):
        hi = min(lo + block, len(queries))
        q = torch.as_tensor(queries[lo:hi], device=device).to(torch.float32)
        distance = q.sum(dim=1, keepdim=True) + ref_counts[None, :] - 2.0 * (q @ ref.T)
        if exclude_self:
            rows = torch.arange(hi - lo, device=device)
            distance[rows, rows + lo] = float("inf")
        nearest[lo:hi] = distance.min(dim=1).values.round().to(torch.int64).cpu().numpy()
    return nearest
