"""Baselines that need no training (Yelmen et al. 2021): independent sites drawn at the reference allele
frequencies (no LD), and a Markov chain drawing each site given the previous ones with a window growing to w.

Markov chain: site j is drawn with the frequency of allele 1 among the reference haplotypes that carry the
generated haplotype's alleles at sites max(0, j-w)..j-1; where no reference haplotype carries that context,
the context is shortened from its far end until one does (down to the plain allele frequency).
"""

from __future__ import annotations

import numpy as np

from genosynth._infra.devices import require_memory
from genosynth._infra.options import parse_choice, parse_haplotype_count, parse_int
from genosynth._infra.progress import Progress
from genosynth._infra.provenance import make_record, resolve_seed
from genosynth.io.matrix import HaplotypeMatrix

MAX_WINDOW = 30
BASELINES = ("bernoulli", "markov")


def sample_baseline(
    reference: HaplotypeMatrix,
    n: int,
    *,
    method: str = "bernoulli",
    window: int = 10,
    seed: int | None = None,
    ploidy: int = 1,
    progress: bool = True,
) -> HaplotypeMatrix:
    """``n`` artificial haplotypes from a baseline fitted on ``reference``: ``"bernoulli"`` (independent sites at
    its allele frequencies) or ``"markov"`` (each site given up to ``window`` previous ones).

    Parameters
    ----------
    reference
        The real haplotypes the baseline is fitted on.
    n
        Haplotypes to draw (a multiple of ``ploidy``).
    method, window
        The baseline, and the Markov chain's order.
    seed, ploidy, progress
        Seed (random and recorded when None); haplotypes per artificial individual; progress lines.

    Returns
    -------
    HaplotypeMatrix
        ``n`` haplotypes on ``reference``'s sites.

    Examples
    --------
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> baseline = sample_baseline(train, 100, method="markov", window=10, seed=1, progress=False)
    >>> baseline.haplotypes.shape
    (100, 40)
    """
    parse_choice("method", method, BASELINES)
    n, ploidy = parse_haplotype_count(n, ploidy)
    window = parse_int("window", window, minimum=1, maximum=MAX_WINDOW)
    seed = resolve_seed(seed)
    # bytes per allele drawn: the Bernoulli draw's float64 uniforms, its comparison and the uint8 result
    require_memory(
        n * reference.n_sites * (10 if method == "bernoulli" else 2),
        f"{n} haplotypes x {reference.n_sites} sites",
        advice="ask for fewer haplotypes (-n)",
    )
    rng = np.random.default_rng(seed)
    if method == "bernoulli":
        haplotypes = bernoulli_haplotypes(reference.haplotypes, n, rng)
    else:
        meter = Progress("sample", unit="sites", total=reference.n_sites, enabled=progress)
        haplotypes = markov_haplotypes(reference.haplotypes, n, rng, window=window, on_site=lambda j: meter.update(1))
        meter.close()
    record = make_record(
        "sample",
        parameters={"baseline": method, "n": n, "window": window, "ploidy": ploidy},
        seed=seed,
        inputs=[reference.describe()],
    )
    return HaplotypeMatrix.artificial(
        haplotypes, reference.sites, ploidy=ploidy, provenance=reference.provenance + [record]
    )


def bernoulli_haplotypes(reference: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` haplotypes with independent sites at the reference allele frequencies (uint8 n x N).

    Example
    -------
    >>> ref = np.array([[0, 1], [0, 1]], dtype=np.uint8)
    >>> bernoulli_haplotypes(ref, 3, np.random.default_rng(0)).tolist()
    [[0, 1], [0, 1], [0, 1]]
    """
    frequencies = reference.mean(axis=0)
    return (rng.random((n, reference.shape[1])) < frequencies).astype(np.uint8)


def markov_haplotypes(
    reference: np.ndarray, n: int, rng: np.random.Generator, *, window: int = 10, on_site=None
) -> np.ndarray:
    """``n`` haplotypes from the window-``window`` Markov chain fitted on ``reference`` (uint8 n x N).

    ``on_site(j)`` is called after each site (progress). Contexts are encoded as integers, so the window is
    at most 30 sites; each context length costs one sort of the reference codes at that site.

    Example
    -------
    >>> ref = np.array([[0, 0, 0], [1, 1, 1]], dtype=np.uint8)
    >>> h = markov_haplotypes(ref, 20, np.random.default_rng(1), window=2)
    >>> bool(np.all((h == 0).all(axis=1) | (h == 1).all(axis=1)))
    True
    """
    if not 1 <= window <= MAX_WINDOW:
        raise ValueError(f"window must be 1..{MAX_WINDOW}")
    n_sites = reference.shape[1]
    out = np.zeros((n, n_sites), dtype=np.uint8)
    ref = reference.astype(np.int64)
    for j in range(n_sites):
        width = min(j, window)
        probability = np.full(n, -1.0)
        pending = np.ones(n, dtype=bool)
        for w in range(width, -1, -1):  # shorten the context only where no reference haplotype carries it
            if w == 0:
                probability[pending] = ref[:, j].mean()
                break
            weights = 1 << np.arange(w, dtype=np.int64)
            codes, where, total = np.unique(ref[:, j - w : j] @ weights, return_inverse=True, return_counts=True)
            ones = np.bincount(where.reshape(-1), weights=ref[:, j], minlength=len(codes))
            rows = np.flatnonzero(pending)
            gen_code = out[rows, j - w : j].astype(np.int64) @ weights
            slot = np.minimum(np.searchsorted(codes, gen_code), len(codes) - 1)
            seen = codes[slot] == gen_code
            probability[rows[seen]] = ones[slot[seen]] / total[slot[seen]]
            pending[rows[seen]] = False
            if not pending.any():
                break
        out[:, j] = rng.random(n) < probability
        if on_site is not None:
            on_site(j)
    return out
