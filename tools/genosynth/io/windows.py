"""Windows along a chromosome: how a chromosome's sites are cut into windows, a window of a matrix with the sites
just before it (the context a windowed model is conditioned on), the record a windowed model carries in its model
file, and the checks that a list of windowed models chains into one sequence.

A model trained on the window ``CHR:START-END`` with ``context_sites=C`` is conditioned on the up to C sites
before the window on its chromosome (fewer near the chromosome's start, none for its first window). Sampling a
chain generates each haplotype window by window, conditioning window i+1 on the last sites window i (and those
before it) just generated; so the model records the sites of its context and the site just before its window,
which the chain checks against what the windows before it generate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from genosynth._infra.errors import InputError, OptionError
from genosynth._infra.options import parse_int
from genosynth.io.matrix import HaplotypeMatrix, SiteKey, Sites
from genosynth.io.regions import Region

MAX_CONTEXT_SITES = 10_000


@dataclass(frozen=True)
class Window:
    """A window of a matrix: its sites, the sites before it that a model is conditioned on, and the site just
    before it (None at the start of a chromosome or when unknown); :func:`split_window` cuts one.

    Examples
    --------
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> window = split_window(train, "1:100000001-", context_sites=5)
    >>> window.matrix.n_sites, window.context.n_sites, window.preceding_site[:2]
    (21, 5, ('1', 87221151))
    """

    region: Region | None
    matrix: HaplotypeMatrix
    context: HaplotypeMatrix
    preceding_site: SiteKey | None

    def record(self) -> dict[str, Any]:
        """What a model file stores about its window (``extra["window"]``)."""
        return {
            "region": None if self.region is None else str(self.region),
            "context": [list(key) for key in self.context.sites.keys()],
            "preceding_site": None if self.preceding_site is None else list(self.preceding_site),
        }


def parse_context_sites(value: Any) -> int:
    """``context_sites`` as a count of sites, 0 to MAX_CONTEXT_SITES."""
    return parse_int("context_sites", value, minimum=0, maximum=MAX_CONTEXT_SITES)


def split_window(matrix: HaplotypeMatrix, region: str | Region | None, *, context_sites: int = 0) -> Window:
    """The window ``region`` of ``matrix`` with the up to ``context_sites`` sites before it on its chromosome.

    Without a region the whole matrix is the window (no context, the preceding site unknown).

    Parameters
    ----------
    matrix
        The haplotypes of a chromosome (or more).
    region
        ``CHR``, ``CHR:START-END`` or ``CHR:START-`` (1-based, inclusive), or None for the whole matrix.
    context_sites
        The most sites before the window to keep as its context (fewer near the chromosome's start).

    Returns
    -------
    Window
        The window's matrix, its context and the site just before it.

    Raises
    ------
    OptionError
        A context without a region, or a region without sites in ``matrix``.

    Example
    -------
    >>> from genosynth.io.matrix import Sites
    >>> sites = Sites(np.array(["1"] * 5), np.arange(1, 6) * 10, np.array(["."] * 5), np.array(["A"] * 5),
    ...               np.array(["G"] * 5))
    >>> m = HaplotypeMatrix(np.zeros((2, 5), np.uint8), sites, np.array(["s"]), np.array([2], np.int8), np.array([""]))
    >>> w = split_window(m, "1:35-50", context_sites=2)
    >>> w.matrix.sites.pos.tolist(), w.context.sites.pos.tolist(), w.preceding_site
    ([40, 50], [20, 30], ('1', 30, 'A', 'G'))
    """
    context_sites = parse_context_sites(context_sites)
    if region is None:
        if context_sites:
            raise OptionError("context_sites", f"{context_sites}: a context needs the window it precedes (region)")
        return Window(None, matrix, matrix.select_sites(slice(0, 0)), None)
    region = Region.parse(region)
    window = region.site_slice(matrix.sites.chrom, matrix.sites.pos)
    if window.stop <= window.start:
        raise InputError(f"{matrix.name('the matrix')}: no sites in the window {region}")
    context = matrix.sites.preceding(window.start, context_sites)
    has_preceding = matrix.sites.preceding(window.start, 1).start < window.start
    preceding = matrix.sites.key(window.start - 1) if has_preceding else None
    return Window(region, matrix.select_sites(window), matrix.select_sites(context), preceding)


def site_keys(values: Sequence[Sequence[Any]] | None) -> list[SiteKey]:
    """Site keys from a model file's JSON lists."""
    return [(str(c), int(p), str(r), str(a)) for c, p, r, a in (values or [])]


@dataclass(frozen=True)
class ChainLink:
    """One model of a chain as the checks see it: its name, sites, context sites, preceding site, populations."""

    name: str
    sites: Sites
    context_sites: list[SiteKey]
    preceding_site: SiteKey | None
    populations: list[str]


def check_chain(links: Sequence[ChainLink]) -> None:
    """An InputError naming the model when ``links`` do not chain into one sequence: one chromosome, the same
    population labels, windows in order with neither gaps nor overlaps between them, and each window's context
    the sites the windows before it end with.

    Example
    -------
    >>> def link(name, positions, context=(), preceding=None):
    ...     n = len(positions)
    ...     sites = Sites(np.array(["1"] * n), np.array(positions), np.array(["."] * n), np.array(["A"] * n),
    ...                   np.array(["G"] * n))
    ...     return ChainLink(name, sites, [("1", p, "A", "G") for p in context], preceding, [])
    >>> check_chain([link("w1", [1, 2]), link("w2", [3, 4], context=[2], preceding=("1", 2, "A", "G"))])
    >>> check_chain([link("w1", [1, 2]), link("w2", [5, 6], preceding=("1", 4, "A", "G"))])
    Traceback (most recent call last):
    ...
    genosynth.InputError: w2: its window starts after 1:4, but the window before it (w1) ends at 1:2: sites between the windows are missing
    """
    first = links[0]
    if first.context_sites:
        raise InputError(
            f"{first.name}: conditioned on {len(first.context_sites)} sites before its window, so it "
            "cannot start a chain; give the models of the windows before it first"
        )
    chromosomes = set(first.sites.chrom.tolist())
    if len(links) > 1 and len(chromosomes) != 1:
        raise InputError(
            f"{first.name}: a chain's windows lie on one chromosome, but this model's sites are on "
            f"{', '.join(sorted(chromosomes))}"
        )
    chromosome = first.sites.chrom[0]
    emitted: list[SiteKey] = list(first.sites.keys())
    for previous, link in zip(links, links[1:]):
        other = set(link.sites.chrom.tolist())
        if other != {chromosome}:
            raise InputError(
                f"{link.name}: on chromosome {', '.join(sorted(other))}, but the chain's first window "
                f"({first.name}) is on {chromosome}; a chain is one chromosome"
            )
        if link.populations != first.populations:
            raise InputError(
                f"{link.name}: conditioned on populations {link.populations or 'none'}, but "
                f"{first.name} on {first.populations or 'none'}; a chain's models share their labels"
            )
        last = emitted[-1]
        start = (str(link.sites.chrom[0]), int(link.sites.pos[0]))
        if start[1] <= last[1]:
            raise InputError(
                f"{link.name}: its window starts at {start[0]}:{start[1]}, not after the window before "
                f"it ({previous.name}, ending at {last[0]}:{last[1]}): windows out of order or overlapping"
            )
        if link.preceding_site is None:
            raise InputError(
                f"{link.name}: does not record the site before its window (not trained with a region), "
                "so the chain cannot tell that no sites are missing before it"
            )
        if link.preceding_site != last:
            raise InputError(
                f"{link.name}: its window starts after {link.preceding_site[0]}:{link.preceding_site[1]}, "
                f"but the window before it ({previous.name}) ends at {last[0]}:{last[1]}: sites between "
                "the windows are missing"
            )
        needed = link.context_sites
        if needed and emitted[-len(needed) :] != needed:
            raise InputError(
                f"{link.name}: conditioned on {len(needed)} sites that are not the last sites of the "
                f"windows before it (from {needed[0][0]}:{needed[0][1]}); train it on the same matrix"
            )
        emitted.extend(link.sites.keys())
        del emitted[:-MAX_CONTEXT_SITES]


def plan_windows(
    sites: Sites, *, window_sites: int | None = None, starts: Sequence[Region] | None = None
) -> list[Region]:
    """Consecutive windows that together hold every site of each chromosome, as regions from a window's first
    site to its last: ``window_sites`` sites each (a last window of at most half that joins the one before);
    or windows starting where the regions of ``starts`` start (LD blocks, say: each window runs to the next
    start, the first from the chromosome's first site, and windows without sites are dropped); or, with
    neither, one window per chromosome. Sites at one position never straddle two windows.

    Example
    -------
    >>> sites = Sites(np.array(["1"] * 5 + ["2"] * 2), np.array([10, 20, 30, 40, 50, 5, 6]), np.array(["."] * 7),
    ...               np.array(["A"] * 7), np.array(["G"] * 7))
    >>> [str(r) for r in plan_windows(sites, window_sites=2)]
    ['1:10-20', '1:30-50', '2:5-6']
    >>> [str(r) for r in plan_windows(sites, starts=[Region("1", 25, 45)])]
    ['1:10-20', '1:30-50', '2:5-6']
    """
    if window_sites is not None and starts is not None:
        raise OptionError("window_sites", "or window starts (regions), not both")
    if window_sites is not None:
        window_sites = parse_int("window_sites", window_sites, minimum=1)
    windows = []
    for chrom in dict.fromkeys(sites.chrom.tolist()):
        pos = sites.pos[sites.chrom == chrom]
        if window_sites is not None:
            cuts = list(range(window_sites, len(pos), window_sites))
            if cuts and len(pos) - cuts[-1] <= window_sites / 2:
                cuts.pop()
        elif starts is not None:
            cuts = [int(np.searchsorted(pos, region.start, side="left")) for region in starts if region.chrom == chrom]
        else:
            cuts = []
        cuts = [int(np.searchsorted(pos, pos[cut], side="left")) for cut in cuts if 0 < cut < len(pos)]
        bounds = sorted({0, *cuts, len(pos)})
        windows += [Region(str(chrom), int(pos[lo]), int(pos[hi - 1])) for lo, hi in zip(bounds, bounds[1:]) if hi > lo]
    return windows
