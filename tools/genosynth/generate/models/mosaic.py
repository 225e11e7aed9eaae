"""The mosaic baseline: each artificial haplotype copies segments of reference haplotypes along a Li-Stephens path.

Li & Stephens (2003), the model behind HAPNEST (Wharrie et al. 2023, Bioinformatics 39(9): btad535): walking
along the sites, the haplotype copies one reference haplotype (its donor); between two sites a genetic distance
``d`` Morgans apart it jumps to a donor drawn uniformly from the reference (possibly the same one) with
probability ``1 - exp(-4 Ne d / K)``, ``K`` the number of reference haplotypes, and each allele is miscopied
(flipped) with a small probability. Segments are then about ``K / (4 Ne)`` Morgans long: the larger the
reference, the longer the stretches copied from one individual.

The privacy knob, ``max_segment_cm``: a donor is left for another one once the haplotype has copied it over that
many centimorgans, so no artificial haplotype repeats a longer stretch of any real one (up to the length of one
inter-site gap). Its default, 0.2 cM, follows the chromosome benchmark (docs: whole chromosomes): on a 1000
Genomes-density simulation of chr22 (4008 training haplotypes) copying without a bound gave most artificial
haplotypes as exact copies of training ones (privacy loss 0.098), 0.5 cM still failed the 0.05 privacy limit, and
0.2 cM was the largest bound measured within it; on the genome-wide 805 SNPs (sites centimorgans apart) it changes
fidelity by nothing measurable. With population labels each artificial haplotype is given a population (in the reference's
proportions) and copies donors of that population only.

Genetic distances come from a constant rate (``cm_per_mb``, 1 cM per Mb by default) or from a genetic map in
HapMap format (``Chromosome Position(bp) Rate(cM/Mb) Map(cM)``, a header line, one file for the reference's
chromosome), linearly interpolated at the sites. The walk visits the sites once, left to right, so its time grows
with haplotypes x sites and its memory with the output alone.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from genosynth._infra.errors import InputError
from genosynth._infra.options import parse_float

if TYPE_CHECKING:
    from genosynth.io.hdf5 import MatrixBlocks
    from genosynth.io.matrix import HaplotypeMatrix, Sites


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
        Longest genetic stretch copied from one donor before a forced switch to another (None: no limit; the
        default is the module text's).
    cm_per_mb
        Constant recombination rate used where no genetic map is given.

    Examples
    --------
    >>> MosaicSettings(ne=10_000, max_segment_cm=1.0).max_segment_cm
    1.0
    >>> MosaicSettings(ne=0)
    Traceback (most recent call last):
    genosynth.OptionError: ne must be > 0
    """

    ne: float = 10_000.0
    miscopy: float | None = None
    max_segment_cm: float | None = 0.2
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
    return _map_columns(str(path), chromosome, *_file_version(path))


@functools.lru_cache(maxsize=4)
def _map_columns(path: str, chromosome: str | None, mtime_ns: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_read_map` once per state of the file (a chromosome streamed in blocks reads it once)."""
    bp, cm = [], []
    wanted = None if chromosome is None else str(chromosome).removeprefix("chr")
    for number, name, position, centimorgan, line in _map_lines(path, mtime_ns, size):
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
    new_chromosome = np.zeros(reference.shape[1], dtype=bool)
    if chromosome_starts is not None:
        new_chromosome[np.asarray(chromosome_starts, dtype=np.int64)] = True
    walk = MosaicWalk(len(reference), n, rng, settings=settings, reference_groups=reference_groups, groups=groups)
    return walk.copy(reference, centimorgans, new_chromosome, donors_out=donors_out, on_site=on_site)


class MosaicWalk:
    """The copying paths of ``n`` haplotypes through ``k`` reference haplotypes, walked one block of sites after
    another: each haplotype's donor and the start of its current segment carry over from one block to the next,
    so that any split of the sites into blocks copies the same haplotypes (:func:`mosaic_haplotypes` is one
    block).

    Examples
    --------
    >>> reference = np.random.default_rng(0).integers(0, 2, (20, 100), dtype=np.uint8)
    >>> centimorgans, first = np.linspace(0, 50, 100), np.zeros(100, bool)
    >>> walk = MosaicWalk(20, 5, np.random.default_rng(1))
    >>> parts = [walk.copy(reference[:, lo:lo + 30], centimorgans[lo:lo + 30], first[lo:lo + 30])
    ...          for lo in range(0, 100, 30)]
    >>> whole = MosaicWalk(20, 5, np.random.default_rng(1)).copy(reference, centimorgans, first)
    >>> bool((np.hstack(parts) == whole).all())
    True
    """

    def __init__(
        self,
        k: int,
        n: int,
        rng: np.random.Generator,
        *,
        settings: MosaicSettings = MosaicSettings(),
        reference_groups: np.ndarray | None = None,
        groups: np.ndarray | None = None,
    ) -> None:
        if k < 1:
            raise InputError("the mosaic baseline needs at least one reference haplotype")
        self.k, self.n, self.rng, self.settings = k, n, rng, settings
        self.pools = _pools(k, reference_groups, groups, n)
        self.miscopy = default_miscopy(k) if settings.miscopy is None else settings.miscopy
        self.members = [np.flatnonzero(self.pools[0] == p) for p in range(len(self.pools[1]))]  # haplotypes per pool
        self.pool_sizes = [len(rows) for rows in self.pools[1]]
        self.donors = _draw(self.pools, np.arange(n), rng)
        self.segment_start = np.zeros(n)
        self.last_centimorgan: float | None = None  # None before the first site

    def _jumpers(self, morgans: float) -> np.ndarray:
        """The haplotypes that jump to a new donor over a gap of ``morgans``: each with probability
        ``1 - exp(-4 Ne d / K)``, K its pool's size, drawn as the count of jumpers in each pool, then which ones (the
        same law as a draw per haplotype, at the cost of the jumpers only)."""
        if morgans <= 0:
            return np.empty(0, dtype=np.int64)
        chosen = []
        for members, size in zip(self.members, self.pool_sizes):
            count = self.rng.binomial(len(members), -np.expm1(-4 * self.settings.ne * morgans / size))
            if count:
                chosen.append(members[_subset(self.rng, len(members), count)])
        return np.concatenate(chosen) if chosen else np.empty(0, dtype=np.int64)

    def copy(
        self,
        reference: np.ndarray,
        centimorgans: np.ndarray,
        new_chromosome: np.ndarray,
        *,
        donors_out: np.ndarray | None = None,
        on_site: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """The next ``b`` sites of every haplotype (uint8 n x b, a view of b x n rows) from the reference's alleles there (uint8 K x b),
        the sites' genetic positions and whether each begins another chromosome (the walk's first site always
        does); ``donors_out`` (n x b) receives each allele's donor, ``on_site(j)`` is called after each site."""
        reference = np.asarray(reference, dtype=np.uint8)
        centimorgans = np.asarray(centimorgans, dtype=np.float64)
        new_chromosome = np.asarray(new_chromosome, dtype=bool).copy()
        n_sites = reference.shape[1]
        if reference.shape[0] != self.k:
            raise ValueError(f"reference has {reference.shape[0]} haplotypes, the walk copies from {self.k}")
        if self.last_centimorgan is None and n_sites:
            new_chromosome[0] = True
        before = np.r_[self.last_centimorgan if self.last_centimorgan is not None else -np.inf, centimorgans[:-1]]
        if (
            centimorgans.shape != (n_sites,)
            or new_chromosome.shape != (n_sites,)
            or np.any((centimorgans < before) & ~new_chromosome)
        ):
            raise ValueError("centimorgans must give one genetic position per site, non-decreasing within a chromosome")
        n, rng, settings = self.n, self.rng, self.settings
        donors, segment_start = self.donors, self.segment_start
        out = np.empty((n_sites, n), dtype=np.uint8)  # sites as rows: each site's alleles written contiguously
        for j in range(n_sites):
            if new_chromosome[j]:
                if self.last_centimorgan is not None:  # the walk's first donors were drawn with the walk
                    donors[:] = _draw(self.pools, np.arange(n), rng)
                segment_start[:] = centimorgans[j]
            else:
                jump = self._jumpers((centimorgans[j] - before[j]) / 100)
                if len(jump):
                    previous = donors[jump]
                    donors[jump] = _draw(self.pools, jump, rng)
                    # a jump back onto the same donor continues its segment: the bound holds on what is copied
                    segment_start[jump[donors[jump] != previous]] = centimorgans[j]
                if settings.max_segment_cm is not None:
                    forced = centimorgans[j] - segment_start > settings.max_segment_cm  # a jump back included
                    if forced.any():
                        donors[forced] = _draw(self.pools, np.flatnonzero(forced), rng, avoid=donors[forced])
                        segment_start[forced] = centimorgans[j]
            self.last_centimorgan = centimorgans[j]
            out[j] = reference[donors, j]
            if self.miscopy:  # each allele flipped with that probability: the flips' count, then which ones
                flips = rng.binomial(n, self.miscopy)
                if flips:
                    out[j, _subset(rng, n, flips)] ^= 1
            if donors_out is not None:
                donors_out[:, j] = donors
            if on_site is not None:
                on_site(j)
        return out.T  # writers take the sites back as rows without a copy


def _subset(rng: np.random.Generator, n: int, m: int) -> np.ndarray:
    """``m`` distinct integers below ``n`` (sorted), every such set equally likely: draws with repeats, redrawn
    until distinct (numpy's ``choice`` without replacement shuffles all ``n`` when ``n`` is small).

    >>> sorted(set(_subset(np.random.default_rng(1), 10, 4).tolist())).__len__()
    4
    """
    if 2 * m > n:
        return np.sort(rng.permutation(n)[:m])
    chosen = np.unique(rng.integers(0, n, m))
    while len(chosen) < m:
        chosen = np.unique(np.r_[chosen, rng.integers(0, n, m - len(chosen))])
    return chosen


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
    population: str | None = None,
    by_population: bool | None = None,
    seed: int | None = None,
    ploidy: int = 1,
    progress: bool = True,
) -> HaplotypeMatrix:
    """``n`` artificial haplotypes copied from ``reference`` along Li-Stephens paths (see the module's text),
    gathered in memory; :func:`write_mosaic` writes the same haplotypes to a file a block of sites at a time.

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
    population
        Every artificial sample of this population, copying only its reference haplotypes (a label of the
        reference's samples).
    by_population
        Without ``population``: each artificial sample draws a population in the reference's proportions and
        copies only donors of it; None: when every reference sample has a population label.
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
    >>> sample_mosaic(real, 10, population="EAS", seed=1, progress=False).population_counts()
    {'EAS': 10}
    """
    from genosynth.io.matrix import Sites

    draw = _MosaicDraw(
        _matrix_blocks(reference, block_sites=max(1, reference.n_sites)),
        n,
        settings=settings,
        genetic_map=genetic_map,
        population=population,
        by_population=by_population,
        seed=seed,
        ploidy=ploidy,
        block_sites=max(1, reference.n_sites),
    )
    parts = list(draw.blocks(progress=progress))
    return dataclasses.replace(
        draw.header,
        haplotypes=np.hstack([block for _, block in parts]) if parts else np.empty((n, 0), np.uint8),
        sites=Sites.concatenate([sites for sites, _ in parts]),
    )


@dataclass(frozen=True)
class MosaicOutput:
    """What :func:`write_mosaic` wrote: the file, its haplotypes and sites, and its provenance record.

    Examples
    --------
    >>> output = MosaicOutput(Path("ag.vcf.gz"), 10, 805, {"step": "sample"})
    >>> output.to_dict()
    {'path': 'ag.vcf.gz', 'n_haplotypes': 10, 'n_sites': 805, 'step': 'sample'}
    """

    path: Path
    n_haplotypes: int
    n_sites: int
    record: dict

    def to_dict(self) -> dict:
        """The output as JSON-ready fields."""
        return {"path": str(self.path), "n_haplotypes": self.n_haplotypes, "n_sites": self.n_sites, **self.record}


def write_mosaic(
    reference: str | Path | HaplotypeMatrix,
    n: int,
    output: str | Path,
    *,
    legend: str | Path | None = None,
    settings: MosaicSettings = MosaicSettings(),
    genetic_map: str | Path | None = None,
    population: str | None = None,
    by_population: bool | None = None,
    seed: int | None = None,
    ploidy: int = 1,
    block_sites: int = 50_000,
    progress: bool = True,
    on_block: Callable[[int], None] | None = None,
) -> MosaicOutput:
    """Write :func:`sample_mosaic`'s haplotypes (the same ones, for the same seed) to ``output`` (matrix, VCF or
    .hapt, atomically) a block of sites at a time, so that memory does not grow with the chromosome's length.

    Parameters
    ----------
    reference
        The real haplotypes: a matrix file (.h5), read ``block_sites`` sites at a time; a VCF or .hapt file, read
        whole (convert a chromosome-sized one with vcf-to-matrix first); or a matrix in memory.
    output, legend
        The file written, and the legend beside a .hapt output (default: beside it).
    block_sites
        Sites generated and written at a time (fewer where ``n`` haplotypes of that many sites would pass 256
        MiB); the output does not depend on it.
    settings, genetic_map, population, by_population, seed, ploidy, progress
        As :func:`sample_mosaic` takes them.
    on_block
        Called with the number of sites written so far after each block is written (a benchmark reads the
        process's memory there).

    Returns
    -------
    MosaicOutput
        The file written, its size and its provenance record.

    Examples
    --------
    >>> import tempfile
    >>> from genosynth.datasets import data_805
    >>> from genosynth.io import read_haplotypes
    >>> data = data_805()
    >>> real = read_haplotypes(data.hapt, legend=data.legend)
    >>> folder = Path(tempfile.mkdtemp())
    >>> written = write_mosaic(real, 20, folder / "mosaic.vcf.gz", seed=1, block_sites=100, progress=False)
    >>> written.n_haplotypes, written.n_sites, written.record["parameters"]["max_segment_cm"]
    (20, 805, 0.2)
    >>> read_haplotypes(folder / "mosaic.vcf.gz").n_sites
    805
    """
    from genosynth._infra.options import parse_haplotype_count, parse_int
    from genosynth.io import HaplotypeWriter, read_haplotypes
    from genosynth.io.detect import detect_format
    from genosynth.io.hdf5 import read_matrix_blocks
    from genosynth.io.matrix import HaplotypeMatrix

    n, ploidy = parse_haplotype_count(n, ploidy)
    block_sites = max(1, min(parse_int("block_sites", block_sites, minimum=1), _BLOCK_BYTES // n))
    if isinstance(reference, HaplotypeMatrix):
        blocks = _matrix_blocks(reference, block_sites=block_sites)
    elif detect_format(Path(reference)).format == "matrix":
        blocks = read_matrix_blocks(reference, block_sites=block_sites)
    else:
        blocks = _matrix_blocks(read_haplotypes(reference), block_sites=block_sites)
    draw = _MosaicDraw(
        blocks,
        n,
        settings=settings,
        genetic_map=genetic_map,
        population=population,
        by_population=by_population,
        seed=seed,
        ploidy=ploidy,
        block_sites=block_sites,
    )
    header = draw.header
    n_sites = 0
    with HaplotypeWriter(
        output,
        samples=header.samples,
        ploidy=header.ploidy,
        populations=header.populations,
        label=header.label,
        provenance=header.provenance,
        contigs=blocks.chromosomes,
        legend=legend,
    ) as writer:
        for sites, haplotypes in draw.blocks(progress=progress):
            writer.append(sites, haplotypes)
            n_sites += len(sites)
            if on_block is not None:
                on_block(n_sites)
    return MosaicOutput(Path(output), header.n_haplotypes, n_sites, header.provenance[-1])


_BLOCK_BYTES = 1 << 28  # the most bytes of output (n haplotypes x block sites) generated at a time


def _matrix_blocks(matrix: HaplotypeMatrix, *, block_sites: int) -> MatrixBlocks:
    """A matrix in memory as consecutive blocks of ``block_sites`` sites, its header described as a whole."""
    from genosynth.io.hdf5 import MatrixBlocks

    header = dataclasses.replace(matrix.select_sites(slice(0, 0)), source=matrix.describe())
    return MatrixBlocks(
        header,
        matrix.n_sites,
        list(dict.fromkeys(matrix.sites.chrom.tolist())),
        (matrix.select_sites(slice(lo, lo + block_sites)) for lo in range(0, matrix.n_sites, block_sites)),
    )


class _MosaicDraw:
    """One mosaic draw from a reference read in blocks: the artificial samples' header (with the provenance
    record) made before any site, then the blocks of copied haplotypes."""

    def __init__(
        self,
        reference: MatrixBlocks,
        n: int,
        *,
        settings: MosaicSettings,
        genetic_map: str | Path | None,
        population: str | None,
        by_population: bool | None,
        seed: int | None,
        ploidy: int,
        block_sites: int,
    ) -> None:
        from genosynth._infra.devices import require_memory
        from genosynth._infra.errors import OptionError
        from genosynth._infra.options import parse_haplotype_count
        from genosynth._infra.provenance import describe_file, make_record, resolve_seed
        from genosynth.io.matrix import HaplotypeMatrix, Sites

        n, ploidy = parse_haplotype_count(n, ploidy)
        seed = resolve_seed(seed)
        head = reference.header
        name = head.name("the reference")
        if min(block_sites, reference.n_sites) * n:
            require_memory(
                n * min(block_sites, reference.n_sites) * 2,
                f"{n} haplotypes x {min(block_sites, reference.n_sites)} sites",
                advice="ask for fewer haplotypes (-n)",
            )
        labels = np.repeat(head.populations, head.ploidy)
        labelled = bool(len(labels)) and all(label != "" for label in labels)
        if population is not None:
            known = sorted(set(labels.tolist()) - {""})
            if not known:
                raise OptionError("population", f"needs population labels, and {name} has none")
            if population not in known:
                raise OptionError(
                    "population", f"{population!r} is not a population of {name} (it has {', '.join(known)})"
                )
            by_population = True
        elif by_population is None:
            by_population = labelled
        elif by_population and not labelled:
            raise OptionError("by_population", f"needs a population label on every sample of {name}")
        rng = np.random.default_rng(seed)
        groups = None
        if population is not None:
            groups = np.full(n, population)
        elif by_population:
            groups = np.repeat(rng.choice(labels, n // ploidy), ploidy)
        self.walk = MosaicWalk(
            len(labels),
            n,
            rng,
            settings=settings,
            reference_groups=labels if by_population else None,
            groups=groups,
        )
        self.settings, self.genetic_map, self.name, self.n_sites = settings, genetic_map, name, reference.n_sites
        self.reference = reference
        parameters = {
            "baseline": "mosaic",
            "n": n,
            "ploidy": ploidy,
            "population": population,
            "by_population": by_population,
            "genetic_map": None if genetic_map is None else Path(genetic_map).name,
            **{field: getattr(settings, field) for field in settings.__dataclass_fields__},
            "miscopy_applied": self.walk.miscopy,
        }
        inputs = [dict(head.source or {})] + ([] if genetic_map is None else [describe_file(genetic_map)])
        record = make_record("sample", parameters=parameters, seed=seed, inputs=inputs)
        self.header = HaplotypeMatrix.artificial(
            np.empty((n, 0), np.uint8),
            Sites.concatenate([]),
            ploidy=ploidy,
            populations=groups,
            provenance=head.provenance + [record],
        )

    def blocks(self, *, progress: bool) -> Iterator[tuple[Sites, np.ndarray]]:
        """(sites, copied haplotypes n x sites) of each block of the reference in turn."""
        from genosynth._infra.progress import Progress

        meter = Progress("sample", unit="sites", total=self.n_sites, enabled=progress)
        chromosome, position = None, None
        for block in self.reference.blocks:
            chromosomes, positions = block.sites.chrom, block.sites.pos
            if not len(positions):
                continue
            new = np.r_[chromosomes[0] != chromosome, chromosomes[1:] != chromosomes[:-1]]
            unsorted = ~new & (positions < np.r_[position if position is not None else 0, positions[:-1]])
            if unsorted.any():
                where = int(np.flatnonzero(unsorted)[0])
                raise InputError(
                    f"{self.name}: sites of chromosome {chromosomes[where]} are not sorted by position at "
                    f"{block.sites.label(where)} (the mosaic walks along them)"
                )
            centimorgans = np.empty(len(positions))
            starts = np.flatnonzero(np.r_[True, new[1:]])  # the block's runs of one chromosome
            for lo, hi in zip(starts, np.r_[starts[1:], len(positions)]):
                centimorgans[lo:hi] = genetic_positions(
                    positions[lo:hi],
                    cm_per_mb=self.settings.cm_per_mb,
                    genetic_map=self.genetic_map,
                    chromosome=str(chromosomes[lo]),
                )
            haplotypes = self.walk.copy(block.haplotypes, centimorgans, new, on_site=lambda j: meter.update(1))
            chromosome, position = chromosomes[-1], positions[-1]
            yield block.sites, haplotypes
        meter.close()
