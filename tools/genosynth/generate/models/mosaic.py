"""The mosaic baseline: each artificial haplotype copies segments of reference haplotypes along a Li-Stephens path.

Li & Stephens (2003), the model behind HAPNEST (Wharrie et al. 2023, Bioinformatics 39(9): btad535): walking
along the sites, the haplotype copies one reference haplotype (its donor); between two sites a genetic distance
``d`` Morgans apart it jumps to a donor drawn uniformly from the reference (possibly the same one) with
probability ``1 - exp(-4 Ne d / K)``, ``K`` the number of reference haplotypes, and each allele is miscopied
(flipped) with a small probability. Segments are then about ``K / (4 Ne)`` Morgans long: the larger the
reference, the longer the stretches copied from one individual.

The privacy knob, ``max_segment_cm``: a donor is left for another one once the haplotype has copied it over that
many centimorgans, so no artificial haplotype repeats a longer stretch of any real one (up to the length of one
inter-site gap). With population labels each artificial haplotype is given a population (in the reference's
proportions) and copies donors of that population only.

Genetic distances come from a constant rate (``cm_per_mb``, 1 cM per Mb by default) or from a genetic map in
HapMap format (``Chromosome Position(bp) Rate(cM/Mb) Map(cM)``, a header line, one file for the reference's
chromosome), linearly interpolated at the sites. The walk visits the sites once, left to right, so its time grows
with haplotypes x sites and its memory with the output alone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from genosynth._infra.errors import InputError
from genosynth._infra.options import parse_float

if TYPE_CHECKING:
    from genosynth.io.matrix import HaplotypeMatrix


@dataclass(frozen=True)
class MosaicSettings:
    """The copying model's parameters (see the module's text).

    Parameters
    ----------
    ne
        Effective population size in the switch rate ``4 Ne d / K``.
    miscopy
        Probability that an allele is flipped from its donor's; None: Li and Stephens' ``theta / (2 (K + theta))``
        with Watterson's ``theta = 1 / sum_{i<K} 1/i``.
    max_segment_cm
        Longest genetic stretch copied from one donor before a forced switch to another (None: no limit).
    cm_per_mb
        Constant recombination rate used where no genetic map is given.

    Examples
    --------
    >>> MosaicSettings(ne=10_000, max_segment_cm=1.0).max_segment_cm
    1.0
    >>> MosaicSettings(ne=0)
    Traceback (most recent call last):
    genosynth._infra.errors.OptionError: ne must be > 0
    """

    ne: float = 10_000.0
    miscopy: float | None = None
    max_segment_cm: float | None = None
    cm_per_mb: float = 1.0

    def __post_init__(self) -> None:
        parse_float("ne", self.ne, exclusive_minimum=0)
        if self.miscopy is not None:
            parse_float("miscopy", self.miscopy, minimum=0, maximum=0.5)
        if self.max_segment_cm is not None:
            parse_float("max_segment_cm", self.max_segment_cm, exclusive_minimum=0)
        parse_float("cm_per_mb", self.cm_per_mb, exclusive_minimum=0)


def default_miscopy(n_reference: int) -> float:
    """Li and Stephens' miscopy probability for ``n_reference`` donors.

    >>> round(default_miscopy(4008), 8)
    1.406e-05
    """
    theta = 1.0 / np.sum(1.0 / np.arange(1, max(2, n_reference)))
    return float(theta / (2 * (n_reference + theta)))


def genetic_positions(
    positions: np.ndarray,
    *,
    cm_per_mb: float = 1.0,
    genetic_map: str | Path | None = None,
    chromosome: str | None = None,
) -> np.ndarray:
    """Centimorgan positions of base-pair ``positions`` on one chromosome: a constant rate, or the rows of
    ``chromosome`` (all rows when None) of a HapMap-format map, interpolated linearly and extended beyond its ends
    at its first and last rates.

    >>> genetic_positions(np.array([1_000_000, 3_500_000])).tolist()
    [1.0, 3.5]
    """
    positions = np.asarray(positions, dtype=np.float64)
    if genetic_map is None:
        return positions * cm_per_mb / 1e6
    bp, cm = _read_map(Path(genetic_map), chromosome)
    inside = np.interp(positions, bp, cm)
    below, above = positions < bp[0], positions > bp[-1]
    first_rate = (cm[1] - cm[0]) / max(bp[1] - bp[0], 1.0) if len(bp) > 1 else cm_per_mb / 1e6
    last_rate = (cm[-1] - cm[-2]) / max(bp[-1] - bp[-2], 1.0) if len(bp) > 1 else cm_per_mb / 1e6
    inside[below] = cm[0] - (bp[0] - positions[below]) * first_rate
    inside[above] = cm[-1] + (positions[above] - bp[-1]) * last_rate
    return inside


def _read_map(path: Path, chromosome: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Base-pair and centimorgan columns of a HapMap-format genetic map's rows of ``chromosome`` (``chr`` prefixes
    ignored), checked to increase."""
    bp, cm = [], []
    wanted = None if chromosome is None else str(chromosome).removeprefix("chr")
    for number, name, position, centimorgan, line in _map_lines(str(path), *_file_version(path)):
        if wanted is not None and number > 1 and name != wanted:
            continue
        if position is None:
            if number == 1:  # the header line
                continue
            raise InputError(f"{path}: line {number}: expected 'chromosome position rate cM', got {line[:80]!r}")
        bp.append(position)
        cm.append(centimorgan)
        if len(bp) > 1 and (bp[-1] <= bp[-2] or cm[-1] < cm[-2]):
            raise InputError(f"{path}: line {number}: positions must increase and centimorgans not decrease")
    if not bp:
        raise InputError(
            f"{path}: no map rows (chromosome position rate cM)"
            + (f" for chromosome {chromosome}" if chromosome is not None else "")
        )
    return np.array(bp), np.array(cm)


def _file_version(path: Path) -> tuple[int, int]:
    """What tells one state of a file from another for the parsed-map cache: its modification time and size."""
    status = Path(path).stat()
    return status.st_mtime_ns, status.st_size


@functools.lru_cache(maxsize=4)
def _map_lines(path: str, mtime_ns: int, size: int) -> tuple[tuple[int, str, float | None, float | None, str], ...]:
    """A genetic map's non-blank, non-comment lines parsed once (a whole-genome map is read once, not once per
    chromosome): (line number, chromosome without ``chr``, position, centimorgans, line), the two numbers None
    where the line does not parse."""
    from genosynth.io.tables import read_lines

    rows = []
    for number, line in enumerate(read_lines(path), start=1):
        fields = line.split()
        if not fields or line.startswith("#"):
            continue
        try:
            rows.append((number, fields[0].removeprefix("chr"), float(fields[1]), float(fields[3]), line))
        except (IndexError, ValueError):
            rows.append((number, fields[0].removeprefix("chr"), None, None, line))
    return tuple(rows)


def mosaic_haplotypes(
    reference: np.ndarray,
    n: int,
    rng: np.random.Generator,
    *,
    centimorgans: np.ndarray,
    chromosome_starts: np.ndarray | None = None,
    settings: MosaicSettings = MosaicSettings(),
    reference_groups: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    donors_out: np.ndarray | None = None,
    on_site: Callable[[int], None] | None = None,
) -> np.ndarray:
    """``n`` haplotypes (uint8 n x N) copied from ``reference`` (uint8 K x N) along Li-Stephens paths.

    ``centimorgans`` are the sites' genetic positions, non-decreasing within a chromosome; ``chromosome_starts``
    the indices of the sites that begin another chromosome, where every haplotype draws a fresh donor (unlinked
    sites). With ``reference_groups`` (K labels) and
    ``groups`` (n labels) haplotype ``i`` copies only reference haplotypes of label ``groups[i]``. ``donors_out``,
    an int array n x N, receives each allele's donor (for tests and diagnostics); ``on_site(j)`` is called after
    each site.

    Examples
    --------
    >>> reference = np.array([[0, 0, 0, 0], [1, 1, 1, 1]], dtype=np.uint8)
    >>> out = mosaic_haplotypes(reference, 4, np.random.default_rng(1), centimorgans=np.zeros(4),
    ...                         settings=MosaicSettings(miscopy=0.0))
    >>> out.tolist()  # no genetic distance: no switch, each haplotype one donor's copy
    [[0, 0, 0, 0], [1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]]
    """
    reference = np.asarray(reference, dtype=np.uint8)
    k, n_sites = reference.shape
    if k < 1 or n_sites < 1:
        raise InputError("the mosaic baseline needs at least one reference haplotype and one site")
    centimorgans = np.asarray(centimorgans, dtype=np.float64)
    new_chromosome = np.zeros(n_sites, dtype=bool)
    if chromosome_starts is not None:
        new_chromosome[np.asarray(chromosome_starts, dtype=np.int64)] = True
    if centimorgans.shape != (n_sites,) or np.any((np.diff(centimorgans) < 0) & ~new_chromosome[1:]):
        raise ValueError("centimorgans must give one genetic position per site, non-decreasing within a chromosome")
    pools = _pools(k, reference_groups, groups, n)
    miscopy = default_miscopy(k) if settings.miscopy is None else settings.miscopy
    out = np.empty((n, n_sites), dtype=np.uint8)
    donors = _draw(pools, np.arange(n), rng)
    pool_size = np.array([len(rows) for rows in pools[1]], dtype=np.float64)[pools[0]]  # K of each haplotype's pool
    segment_start = np.full(n, centimorgans[0])
    for j in range(n_sites):
        if j and new_chromosome[j]:
            donors = _draw(pools, np.arange(n), rng)
            segment_start[:] = centimorgans[j]
        elif j:
            gap_morgans = (centimorgans[j] - centimorgans[j - 1]) / 100
            jump = rng.random(n) < -np.expm1(-4 * settings.ne * gap_morgans / pool_size)
            if jump.any():
                previous = donors[jump]
                donors[jump] = _draw(pools, np.flatnonzero(jump), rng)
                # a jump back onto the same donor continues its segment: the bound holds on what is copied
                segment_start[np.flatnonzero(jump)[donors[jump] != previous]] = centimorgans[j]
            if settings.max_segment_cm is not None:
                forced = centimorgans[j] - segment_start > settings.max_segment_cm  # a jump back included
                if forced.any():
                    donors[forced] = _draw(pools, np.flatnonzero(forced), rng, avoid=donors[forced])
                    segment_start[forced] = centimorgans[j]
        alleles = reference[donors, j]
        if miscopy:
            alleles ^= (rng.random(n) < miscopy).astype(np.uint8)
        out[:, j] = alleles
        if donors_out is not None:
            donors_out[:, j] = donors
        if on_site is not None:
            on_site(j)
    return out


def _pools(
    k: int, reference_groups: np.ndarray | None, groups: np.ndarray | None, n: int
) -> tuple[np.ndarray, list[np.ndarray]]:
    """(pool index of each generated haplotype, the reference rows of each pool)."""
    if reference_groups is None or groups is None:
        return np.zeros(n, dtype=np.int64), [np.arange(k)]
    labels = sorted(set(np.asarray(groups).tolist()))
    reference_groups = np.asarray(reference_groups)
    rows = [np.flatnonzero(reference_groups == label) for label in labels]
    empty = [label for label, r in zip(labels, rows) if len(r) == 0]
    if empty:
        raise InputError(f"no reference haplotype of population {empty[0]!r} to copy from")
    index = {label: i for i, label in enumerate(labels)}
    return np.array([index[g] for g in np.asarray(groups).tolist()], dtype=np.int64), rows


def _draw(
    pools: tuple[np.ndarray, list[np.ndarray]],
    which: np.ndarray,
    rng: np.random.Generator,
    avoid: np.ndarray | None = None,
) -> np.ndarray:
    """A uniformly drawn donor from each haplotype's pool (another than ``avoid`` where the pool allows)."""
    pool_of, rows = pools
    donors = np.empty(len(which), dtype=np.int64)
    for p, members in enumerate(rows):
        mine = np.flatnonzero(pool_of[which] == p)
        if not len(mine):
            continue
        if avoid is None or len(members) < 2:
            donors[mine] = members[rng.integers(0, len(members), len(mine))]
            continue
        # uniform over the pool less the current donor: draw among len-1 slots and skip the current one's slot
        current = np.searchsorted(members, avoid[mine])
        slot = rng.integers(0, len(members) - 1, len(mine))
        donors[mine] = members[slot + (slot >= current)]
    return donors


def sample_mosaic(
    reference: HaplotypeMatrix,
    n: int,
    *,
    settings: MosaicSettings = MosaicSettings(),
    genetic_map: str | Path | None = None,
    by_population: bool | None = None,
    seed: int | None = None,
    ploidy: int = 1,
    progress: bool = True,
) -> HaplotypeMatrix:
    """``n`` artificial haplotypes copied from ``reference`` along Li-Stephens paths (see the module's text).

    Parameters
    ----------
    reference
        The real haplotypes copied from, sorted by position within each chromosome.
    n, ploidy
        Haplotypes to draw, and haplotypes per artificial sample (1 or 2).
    settings
        The copying model: effective population size, miscopy probability, the privacy knob ``max_segment_cm``
        and the constant recombination rate.
    genetic_map
        A HapMap-format genetic map (rows of every chromosome of ``reference``); None: ``settings.cm_per_mb``.
    by_population
        Each artificial sample draws a population in the reference's proportions and copies only donors of it;
        None: when every reference sample has a population label.
    seed, progress
        Seed of the draw (random, and recorded, when None); progress on standard error.

    Returns
    -------
    HaplotypeMatrix
        The artificial haplotypes on the reference's sites, labelled with their populations, with a provenance
        record of the settings.

    Examples
    --------
    >>> import genosynth
    >>> from genosynth.datasets import data_805
    >>> data = data_805()
    >>> real = genosynth.read_haplotypes(data.hapt, legend=data.legend, populations=data.samples,
    ...                                  population_column="Superpopulation code")
    >>> artificial = sample_mosaic(real, 100, settings=MosaicSettings(max_segment_cm=5.0), seed=1, progress=False)
    >>> artificial.n_haplotypes, artificial.n_sites, set(artificial.populations) <= set(real.populations)
    (100, 805, True)
    """
    from genosynth._infra.devices import require_memory
    from genosynth._infra.options import parse_haplotype_count
    from genosynth._infra.progress import Progress
    from genosynth._infra.provenance import make_record, resolve_seed
    from genosynth.io.matrix import HaplotypeMatrix

    n, ploidy = parse_haplotype_count(n, ploidy)
    seed = resolve_seed(seed)
    require_memory(
        n * reference.n_sites * 2, f"{n} haplotypes x {reference.n_sites} sites", advice="ask for fewer haplotypes (-n)"
    )
    chromosomes, positions = reference.sites.chrom, reference.sites.pos
    starts = np.flatnonzero(chromosomes[1:] != chromosomes[:-1]) + 1
    centimorgans = np.empty(reference.n_sites)
    for lo, hi in zip(np.r_[0, starts], np.r_[starts, reference.n_sites]):
        if np.any(np.diff(positions[lo:hi]) < 0):
            raise InputError(
                f"{reference.name('the reference')}: sites of chromosome {chromosomes[lo]} are not sorted "
                "by position (the mosaic walks along them)"
            )
        centimorgans[lo:hi] = genetic_positions(
            positions[lo:hi], cm_per_mb=settings.cm_per_mb, genetic_map=genetic_map, chromosome=str(chromosomes[lo])
        )
    labels = np.repeat(reference.populations, reference.ploidy)
    if by_population is None:
        by_population = bool(len(labels)) and all(label != "" for label in labels)
    rng = np.random.default_rng(seed)
    groups = None
    if by_population:
        per_sample = rng.choice(labels, n // ploidy)
        groups = np.repeat(per_sample, ploidy)
    meter = Progress("sample", unit="sites", total=reference.n_sites, enabled=progress)
    haplotypes = mosaic_haplotypes(
        reference.haplotypes,
        n,
        rng,
        centimorgans=centimorgans,
        chromosome_starts=starts,
        settings=settings,
        reference_groups=labels if by_population else None,
        groups=groups,
        on_site=lambda j: meter.update(1),
    )
    meter.close()
    parameters = {
        "baseline": "mosaic",
        "n": n,
        "ploidy": ploidy,
        "by_population": by_population,
        "genetic_map": None if genetic_map is None else Path(genetic_map).name,
        **{name: getattr(settings, name) for name in settings.__dataclass_fields__},
    }
    record = make_record("sample", parameters=parameters, seed=seed, inputs=[reference.describe()])
    return HaplotypeMatrix.artificial(
        haplotypes, reference.sites, ploidy=ploidy, populations=groups, provenance=reference.provenance + [record]
    )
