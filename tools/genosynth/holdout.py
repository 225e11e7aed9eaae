"""Train/holdout split by individual, stratified by population: both haplotypes of a person on one side."""

from __future__ import annotations

import numpy as np

from .errors import InputError


def split_individuals(populations: np.ndarray, *, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and held-out individuals (each sorted).

    Within every population (all individuals form one group when labels are empty), ``round(fraction * n)``
    individuals drawn at random go to the holdout.

    Example
    -------
    >>> train, holdout = split_individuals(np.array(["A"] * 8 + ["B"] * 2), fraction=0.5, seed=1)
    >>> len(train), len(holdout)
    (5, 5)
    """
    if not 0.0 < fraction < 1.0:
        raise InputError(f"--holdout {fraction}: must lie strictly between 0 and 1")
    rng = np.random.default_rng(seed)
    holdout = []
    for population in dict.fromkeys(populations.tolist()):
        members = np.flatnonzero(populations == population)
        count = int(round(fraction * len(members)))
        holdout.extend(rng.choice(members, size=count, replace=False).tolist())
    holdout_index = np.array(sorted(holdout), dtype=np.int64)
    train_index = np.setdiff1d(np.arange(len(populations)), holdout_index)
    if len(holdout_index) == 0 or len(train_index) == 0:
        raise InputError(f"--holdout {fraction}: leaves {len(train_index)} training and {len(holdout_index)} "
                         f"held-out individuals out of {len(populations)}; both must be non-empty")
    return train_index, holdout_index
