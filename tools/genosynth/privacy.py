"""Privacy metrics of an artificial haplotype set against its training set and a held-out set.

AATS (nearest-neighbour adversarial accuracy, Yale et al. 2019, as used by Yelmen et al. 2021), with
Hamming distances and strict inequalities:
    AA_truth = mean over real r of [d(r, S) > d(r, R \\ r)],  AA_syn = mean over synthetic s of [d(s, R) > d(s, S \\ s)],
    AATS = (AA_truth + AA_syn) / 2,  privacy loss = AATS(holdout) - AATS(train).
AATS is only comparable between equal-sized sets, so the larger of (real, synthetic) is subsampled to the
smaller one, averaged over ``repeats`` draws; a set already of equal size is used whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .distances import hamming_summary


@dataclass
class AATS:
    """Adversarial accuracy of one real set against one synthetic set."""

    aa_truth: float
    aa_syn: float

    @property
    def aats(self) -> float:
        return (self.aa_truth + self.aa_syn) / 2


def adversarial_accuracy(real: np.ndarray, synthetic: np.ndarray, *, repeats: int, rng: np.random.Generator,
                         device: str = "cpu") -> AATS:
    """AATS of ``real`` vs ``synthetic`` (uint8 haplotype rows), equal sizes by subsampling the larger set.

    Example
    -------
    >>> h = np.random.default_rng(0).integers(0, 2, (20, 50), dtype=np.uint8)
    >>> adversarial_accuracy(h, h, repeats=1, rng=np.random.default_rng(0)).aats
    0.0
    """
    n = min(len(real), len(synthetic))
    draws = 1 if len(real) == len(synthetic) else repeats
    results = []
    for _ in range(draws):
        r = real if len(real) == n else real[np.sort(rng.choice(len(real), n, replace=False))]
        s = synthetic if len(synthetic) == n else synthetic[np.sort(rng.choice(len(synthetic), n, replace=False))]
        between = hamming_summary(r, s, device=device)
        results.append(aats_from_nearest(real_to_synthetic=between.nearest_a,
                                         real_to_real=hamming_summary(r, device=device).nearest_a,
                                         synthetic_to_real=between.nearest_b,
                                         synthetic_to_synthetic=hamming_summary(s, device=device).nearest_a))
    return AATS(aa_truth=float(np.mean([x.aa_truth for x in results])),
                aa_syn=float(np.mean([x.aa_syn for x in results])))


def aats_from_nearest(*, real_to_synthetic: np.ndarray, real_to_real: np.ndarray, synthetic_to_real: np.ndarray,
                      synthetic_to_synthetic: np.ndarray) -> AATS:
    """AATS from the four nearest-neighbour distance vectors of two equal-sized sets (within-set ones
    excluding each haplotype itself)."""
    if len(real_to_synthetic) != len(synthetic_to_real):
        raise ValueError("AATS needs equal-sized sets; use adversarial_accuracy to subsample")
    return AATS(aa_truth=float(np.mean(real_to_synthetic > real_to_real)),
                aa_syn=float(np.mean(synthetic_to_real > synthetic_to_synthetic)))


def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Area under the ROC curve of scores (higher = more likely positive), ties counted as half.

    Example
    -------
    >>> roc_auc(np.array([3.0, 4.0]), np.array([1.0, 3.0]))
    0.875
    """
    scores = np.concatenate([positive, negative])
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    # average ranks over ties (1-based)
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    n_pos, n_neg = len(positive), len(negative)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_curve(positive: np.ndarray, negative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every score threshold, from the highest score down."""
    thresholds = np.unique(np.concatenate([positive, negative]))[::-1]
    tpr = np.array([0.0] + [(positive >= t).mean() for t in thresholds])
    fpr = np.array([0.0] + [(negative >= t).mean() for t in thresholds])
    return fpr, tpr
