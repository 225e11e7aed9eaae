"""Train/holdout split by individual, stratified by population: both haplotypes of a person on one side."""

from __future__ import annotations

import numpy as np

from genosynth._infra.errors import InputError, OptionError
from genosynth._infra.options import parse_float
from genosynth._infra.provenance import make_record, resolve_seed
from genosynth.io.matrix import HaplotypeMatrix


def split_individuals(
    populations: np.ndarray | int, *, fraction: float, seed: int, parameter: str = "fraction"
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and held-out individuals (each sorted).

    Within every population (all individuals form one group when labels are empty, or when ``populations`` is
    the number of individuals, without labels), ``round(fraction * n)`` individuals drawn at random go to the
    holdout; ``parameter`` names the fraction in error messages.

    Example
    -------
    >>> train, holdout = split_individuals(np.array(["A"] * 8 + ["B"] * 2), fraction=0.5, seed=1)
    >>> len(train), len(holdout)
    (5, 5)
    """
    fraction = parse_float(parameter, fraction, exclusive_minimum=0, below=1)
    if not isinstance(populations, np.ndarray):
        populations = np.full(int(populations), "")
    rng = np.random.default_rng(seed)
    holdout = []
    for population in dict.fromkeys(populations.tolist()):
        members = np.flatnonzero(populations == population)
        count = int(round(fraction * len(members)))
        holdout.extend(rng.choice(members, size=count, replace=False).tolist())
    holdout_index = np.array(sorted(holdout), dtype=np.int64)
    train_index = np.setdiff1d(np.arange(len(populations)), holdout_index)
    if len(holdout_index) == 0 or len(train_index) == 0:
        raise OptionError(
            parameter,
            f"{fraction}: leaves {len(train_index)} training and {len(holdout_index)} "
            f"held-out individuals out of {len(populations)}; both must be non-empty",
        )
    return train_index, holdout_index


def split_holdout(
    matrix: HaplotypeMatrix, *, fraction: float = 0.2, seed: int | None = None
) -> tuple[HaplotypeMatrix, HaplotypeMatrix]:
    """The training and held-out individuals of ``matrix`` (per population, ``fraction`` held out), each with a
    provenance record naming its role.

    Parameters
    ----------
    matrix
        The cohort.
    fraction
        The share of each population's individuals held out (at least one of each).
    seed
        Seed of the draw (random and recorded when None).

    Returns
    -------
    tuple of HaplotypeMatrix
        The training and the held-out individuals' haplotypes.

    Raises
    ------
    InputError
        Fewer than two individuals.

    Examples
    --------
    >>> import numpy as np
    >>> from genosynth.datasets import data_805
    >>> from genosynth.io import read_haplotypes
    >>> cohort = read_haplotypes(data_805().hapt, legend=data_805().legend).select_samples(np.arange(100))
    >>> train, holdout = split_holdout(cohort, fraction=0.2, seed=1)
    >>> len(train.samples), len(holdout.samples), holdout.provenance[-1]["step"]
    (80, 20, 'split-holdout')
    """
    seed = resolve_seed(seed)
    if len(matrix.samples) < 2:
        raise InputError(f"{matrix.name('the matrix')}: a holdout needs at least 2 individuals")
    parts = split_individuals(matrix.populations, fraction=fraction, seed=seed)
    record = make_record("split-holdout", parameters={"fraction": fraction}, seed=seed, inputs=[matrix.describe()])
    return tuple(
        matrix.select_samples(index).with_provenance(dict(record, role=role))  # type: ignore[return-value]
        for index, role in zip(parts, ("train", "holdout"))
    )
