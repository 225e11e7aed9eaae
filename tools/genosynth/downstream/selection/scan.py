"""Selection statistics by chromosome with scikit-allel (XP-EHH, iHS, PBS), how two scans of them agree, and
:func:`selection_scan`, a target population's scan, real and artificial, as one :class:`SelectionReport`.

Haplotypes are genosynth's (n_haplotypes, n_sites) 0/1 arrays; scikit-allel wants (n_sites, n_haplotypes),
so they are transposed here. Every statistic is computed chromosome by chromosome (EHH and windows never
cross a chromosome) and standardised genome-wide, as ``allel.standardize`` does on one chromosome.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a, b = (rng.integers(0, 2, (20, 50), dtype=np.uint8) for _ in range(2))
>>> chrom, pos = np.array(["1"] * 50), np.arange(1, 51) * 1000
>>> xpehh_by_chromosome(a, b, chromosomes=chrom, positions=pos).shape
(50,)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from genosynth._infra.errors import InputError, OptionError
from genosynth._infra.options import parse_float, parse_int
from genosynth._infra.progress import logger
from genosynth._infra.provenance import describe_file, make_record
from genosynth.assess.fidelity import pearson
from genosynth.io.matrix import HaplotypeMatrix, require_same_sites
from genosynth.io.tables import format_cell, write_columns
from genosynth.reports import Report, ReportParts

if TYPE_CHECKING:
    from genosynth.downstream.selection.cnn import CnnScan, CnnScanOptions


@dataclass(frozen=True)
class EhhOptions:
    """scikit-allel's EHH options, with its defaults; ``map_positions`` are genetic positions per site (cM)."""

    min_ehh: float = 0.05
    include_edges: bool = False
    gap_scale: int = 20_000
    max_gap: int = 200_000
    map_positions: np.ndarray | None = None

    def for_sites(self, index: np.ndarray) -> dict:
        """Keyword arguments of ``allel.xpehh``/``allel.ihs`` for the sites at ``index``."""
        return {
            "map_pos": None if self.map_positions is None else self.map_positions[index],
            "min_ehh": self.min_ehh,
            "include_edges": self.include_edges,
            "gap_scale": self.gap_scale,
            "max_gap": self.max_gap,
        }


def chromosome_runs(chromosomes: np.ndarray, positions: np.ndarray, *, name: str) -> list[tuple[str, np.ndarray]]:
    """Site indices of each chromosome, in file order; InputError unless positions increase strictly within each.

    Example
    -------
    >>> [(c, i.tolist()) for c, i in chromosome_runs(np.array(["1", "1", "2"]), np.array([5, 9, 3]), name="x")]
    [('1', [0, 1]), ('2', [2])]
    """
    runs: list[tuple[str, np.ndarray]] = []
    starts = np.flatnonzero(np.r_[True, chromosomes[1:] != chromosomes[:-1]])
    ends = np.r_[starts[1:], len(chromosomes)]
    seen: set[str] = set()
    for start, end in zip(starts, ends):
        chrom = str(chromosomes[start])
        if chrom in seen:
            raise InputError(
                f"{name}: chromosome {chrom} comes back at site {start + 1} after other chromosomes; "
                "sort the sites by chromosome and position"
            )
        seen.add(chrom)
        steps = np.diff(positions[start:end])
        bad = np.flatnonzero(steps <= 0)
        if len(bad):
            i = start + bad[0] + 1
            raise InputError(
                f"{name}: positions must increase strictly within a chromosome, but site {i + 1} "
                f"({chrom}:{positions[i]}) follows {chrom}:{positions[i - 1]}"
            )
        runs.append((chrom, np.arange(start, end)))
    return runs


def xpehh_by_chromosome(
    target: np.ndarray,
    versus: np.ndarray,
    *,
    chromosomes: np.ndarray,
    positions: np.ndarray,
    options: EhhOptions = EhhOptions(),
    name: str = "haplotypes",
) -> np.ndarray:
    """Unstandardised XP-EHH of ``target`` against ``versus`` (positive: longer haplotypes in target), per site.

    Parameters
    ----------
    target, versus
        uint8 (n_haplotypes, n_sites) arrays over the same sites.
    chromosomes, positions
        Site chromosome and position arrays (n_sites,).

    Returns
    -------
    float64 array (n_sites,), NaN where scikit-allel gives none (edges, gaps, sites monomorphic in both).
    """
    import allel

    _check_sites(target, versus, positions=positions)
    scores = np.full(target.shape[1], np.nan)
    for _, index in chromosome_runs(chromosomes, positions, name=name):
        scores[index] = allel.xpehh(
            target[:, index].T, versus[:, index].T, positions[index], use_threads=False, **options.for_sites(index)
        )
    return scores


def ihs_by_chromosome(
    haplotypes: np.ndarray,
    *,
    chromosomes: np.ndarray,
    positions: np.ndarray,
    options: EhhOptions = EhhOptions(),
    min_maf: float = 0.05,
    n_bins: int = 50,
    name: str = "haplotypes",
) -> np.ndarray:
    """iHS per site, standardised within ``n_bins`` bins of alternate-allele count (``allel.standardize_by_allele_count``).

    Returns float64 (n_sites,), NaN below ``min_maf``, at edges and gaps.
    """
    import allel

    raw = np.full(haplotypes.shape[1], np.nan)
    for _, index in chromosome_runs(chromosomes, positions, name=name):
        raw[index] = allel.ihs(
            haplotypes[:, index].T, positions[index], min_maf=min_maf, use_threads=False, **options.for_sites(index)
        )
    if not np.isfinite(raw).any():
        return raw
    alt_counts = haplotypes.sum(axis=0, dtype=np.int64)
    standardised, _ = allel.standardize_by_allele_count(raw, alt_counts, n_bins=n_bins, diagnostics=False)
    return standardised


@dataclass
class PbsWindows:
    """PBS in windows of consecutive sites; arrays have shape (n_windows,)."""

    chromosomes: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    values: np.ndarray


def pbs_by_chromosome(
    target: np.ndarray,
    versus: np.ndarray,
    outgroup: np.ndarray,
    *,
    chromosomes: np.ndarray,
    positions: np.ndarray,
    window: int = 10,
    step: int = 5,
    name: str = "haplotypes",
) -> PbsWindows:
    """Normalised population branch statistic of ``target`` in windows of ``window`` sites moved by ``step``.

    Windows are those of ``allel.pbs`` run on each chromosome separately; ``starts``/``ends`` are the
    positions of a window's first and last site.
    """
    import allel
    from allel.stats.window import index_windows

    counts = [allel.HaplotypeArray(h.T).count_alleles(max_allele=1) for h in (target, versus, outgroup)]
    chrom_out, starts, ends, values = [], [], [], []
    for chrom, index in chromosome_runs(chromosomes, positions, name=name):
        if len(index) < window:
            continue
        bounds = np.array(list(index_windows(index, window, 0, None, step)))
        with np.errstate(divide="ignore", invalid="ignore"):
            pbs = allel.pbs(*(c[index] for c in counts), window_size=window, window_step=step)
        chrom_out += [chrom] * len(bounds)
        starts.append(positions[index][bounds[:, 0]])
        ends.append(positions[index][bounds[:, 1] - 1])
        values.append(np.asarray(pbs, dtype=float))
    if not values:
        raise InputError(f"{name}: no chromosome holds the {window} sites one PBS window needs")
    return PbsWindows(np.array(chrom_out), np.concatenate(starts), np.concatenate(ends), np.concatenate(values))


def standardise(scores: np.ndarray) -> np.ndarray:
    """(score - mean) / sd over the finite scores (NaN stays NaN), as ``allel.standardize``."""
    finite = scores[np.isfinite(scores)]
    if len(finite) < 2 or finite.std() == 0:
        return np.full_like(scores, np.nan, dtype=float)
    return (scores - finite.mean()) / finite.std()


def spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    """Spearman rank correlation (ties get their average rank); None when undefined.

    Example
    -------
    >>> spearman(np.array([1.0, 2, 3, 4]), np.array([10.0, 20, 20, 40]))
    0.9486832980505138
    """
    return pearson(_average_ranks(x), _average_ranks(y))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    first = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values))
    ranks[order] = ((starts + ends - 1) / 2.0 + 1.0)[group]
    return ranks


def compare_scans(real: np.ndarray, synthetic: np.ndarray, *, percentile: float = 99.0) -> dict:
    """How a synthetic scan agrees with the real one: correlations over sites finite in both, NaNs counted,
    and the peaks (scores at or above each scan's ``percentile``) that both share.

    Example
    -------
    >>> out = compare_scans(np.arange(200.0), np.arange(200.0))
    >>> out["pearson"], out["peaks_real"], out["peaks_shared"]
    (1.0, 2, 2)
    """
    both = np.isfinite(real) & np.isfinite(synthetic)
    peaks_real, threshold_real = peaks(real, percentile=percentile)
    peaks_synthetic, threshold_synthetic = peaks(synthetic, percentile=percentile)
    return {
        "n": int(len(real)),
        "n_compared": int(both.sum()),
        "nan_real": int((~np.isfinite(real)).sum()),
        "nan_synthetic": int((~np.isfinite(synthetic)).sum()),
        "pearson": pearson(real[both], synthetic[both]) if both.sum() > 1 else None,
        "spearman": spearman(real[both], synthetic[both]) if both.sum() > 1 else None,
        "percentile": percentile,
        "threshold_real": threshold_real,
        "threshold_synthetic": threshold_synthetic,
        "peaks_real": int(peaks_real.sum()),
        "peaks_synthetic": int(peaks_synthetic.sum()),
        "peaks_shared": int((peaks_real & peaks_synthetic).sum()),
    }


def peaks(scores: np.ndarray, *, percentile: float = 99.0) -> tuple[np.ndarray, float | None]:
    """Mask of finite scores at or above their ``percentile``, and that threshold (None without finite scores)."""
    finite = np.isfinite(scores)
    if not finite.any():
        return np.zeros(len(scores), dtype=bool), None
    threshold = float(np.percentile(scores[finite], percentile))
    with np.errstate(invalid="ignore"):
        return finite & (scores >= threshold), threshold


def _check_sites(*arrays: np.ndarray, positions: np.ndarray) -> None:
    for array in arrays:
        if array.ndim != 2 or array.shape[1] != len(positions):
            raise ValueError(f"expected (n_haplotypes, {len(positions)}) haplotypes, got shape {array.shape}")


# -- selection_scan: the statistics of a target population, real and artificial, as one typed result --------

METHODS = ("xpehh", "pbs", "ihs", "cnn")  # the scans selection_scan runs, in the order it runs and reports them


@dataclass
class SelectionReport(Report):
    """Per-site XP-EHH (raw and standardised) and iHS, windowed PBS, the CNN's windowed posterior of S (``cnn``),
    for the real target haplotypes and the artificial ones (``"synthetic"``), with ``summary`` (NaN counts, top
    scores, peaks, real vs synthetic agreement, the CNN's accuracy); ``write(folder)`` writes xpehh.tsv, pbs.tsv,
    ihs.tsv, cnn.tsv (for the methods run), summary.json, plots and report.html.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> import genosynth
    >>> from genosynth.datasets import data_805
    >>> data = data_805()
    >>> real = genosynth.read_haplotypes(data.hapt, legend=data.legend, populations=data.samples,
    ...                                  population_column="Superpopulation code")
    >>> rows = np.concatenate([np.flatnonzero(real.populations == p)[:40] for p in ("EUR", "AFR", "EAS")])
    >>> chromosome1 = real.select_samples(rows).select_sites(np.flatnonzero(real.sites.chrom == "1"))
    >>> report = genosynth.selection_scan(chromosome1, target="EUR", versus="AFR", outgroup="EAS", methods=["pbs"],
    ...                                   window=5, window_step=2, progress=False)
    >>> folder = report.write(pathlib.Path(tempfile.mkdtemp()) / "scan")
    >>> (folder / "pbs.tsv").is_file(), (folder / "report.html").is_file()
    (True, True)
    """

    chromosomes: np.ndarray = field(repr=False)
    positions: np.ndarray = field(repr=False)
    scores: dict[str, dict[str, np.ndarray]] = field(repr=False)
    pbs: dict[str, PbsWindows] | None = field(repr=False)
    cnn: CnnScan | None = field(repr=False)
    summary: dict[str, Any]
    options: dict[str, Any]
    provenance: dict[str, Any]
    json_name = "summary.json"
    step = "selection-scan"

    @property
    def report_title(self) -> str:  # type: ignore[override]
        return f"genosynth selection-scan: {self.options['target']}"

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary, "provenance": self.provenance}

    def tables(self) -> dict[str, dict[str, np.ndarray]]:
        """The tables written, by file name: column name -> values."""
        site = {"CHROM": self.chromosomes, "POS": self.positions}
        tables = {}
        if "xpehh" in self.scores:
            xpehh = {"XPEHH": self.scores["xpehh"]["real"], "XPEHH_STD": self.scores["xpehh_std"]["real"]}
            if "synthetic" in self.scores["xpehh"]:
                xpehh |= {
                    "XPEHH_SYNTHETIC": self.scores["xpehh"]["synthetic"],
                    "XPEHH_SYNTHETIC_STD": self.scores["xpehh_std"]["synthetic"],
                }
            tables["xpehh.tsv"] = site | xpehh
        if "ihs" in self.scores:
            tables["ihs.tsv"] = (
                site
                | {"IHS_STD": self.scores["ihs"]["real"]}
                | ({"IHS_SYNTHETIC_STD": self.scores["ihs"]["synthetic"]} if "synthetic" in self.scores["ihs"] else {})
            )
        if self.pbs is not None:
            real = self.pbs["real"]
            tables["pbs.tsv"] = {
                "CHROM": real.chromosomes,
                "START": real.starts,
                "END": real.ends,
                "PBS": real.values,
            } | ({"PBS_SYNTHETIC": self.pbs["synthetic"].values} if "synthetic" in self.pbs else {})
        if self.cnn is not None:
            tables["cnn.tsv"] = self.cnn.columns()
        return tables

    def scan_summaries(self) -> list[tuple[str, dict]]:
        """(statistic, summary) of each scan run, in METHODS order; the CNN's is its P_SELECTION scan."""
        return [
            (statistic, self.summary[statistic]["p_selection"] if statistic == "cnn" else self.summary[statistic])
            for statistic in METHODS
            if statistic in self.summary
        ]

    def _write_files(self, folder: Path) -> None:
        for name, columns in self.tables().items():
            write_columns(folder / name, columns)

    def _report_parts(self, folder: Path) -> ReportParts:
        from genosynth.reports.selection import selection_figures

        rows = []
        for statistic, entry in self.scan_summaries():
            real_scan = entry["real"]
            rows.append((f"{statistic} scores (NaN)", f"{real_scan['n']} ({real_scan['nan']})"))
            if real_scan["top"]:
                top = real_scan["top"]
                rows.append((f"{statistic} top (real)", f"{top['chrom']}:{top['start']} {top['score']:.3f}"))
            if statistic == "cnn":
                rows += _cnn_rows(self.summary["cnn"])
            if "synthetic" in entry:
                agreement = entry["synthetic"]
                rows.append(
                    (
                        f"{statistic} Pearson / Spearman",
                        f"{format_cell(agreement['pearson'], '.3f')} / {format_cell(agreement['spearman'], '.3f')}",
                    )
                )
                rows.append((f"{statistic} peaks shared", f"{agreement['peaks_shared']} of {agreement['peaks_real']}"))
        return rows, None, selection_figures(folder, self)


def selection_scan(
    real: HaplotypeMatrix,
    *,
    target: str,
    versus: str | None = None,
    outgroup: str | None = None,
    synthetic: HaplotypeMatrix | None = None,
    methods: Sequence[str] | None = None,
    genetic_map: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    min_ehh: float = 0.05,
    include_edges: bool = False,
    gap_scale: int = 20_000,
    max_gap: int = 200_000,
    window: int = 10,
    window_step: int = 5,
    ihs: bool = False,
    min_maf: float = 0.05,
    percentile: float = 99.0,
    cnn: CnnScanOptions | None = None,
    progress: bool = True,
) -> SelectionReport:
    """Scan population ``target`` of ``real`` for selection with ``methods`` (any of xpehh, pbs, ihs, cnn):
    standardised XP-EHH against ``versus``, PBS with an ``outgroup`` in windows of ``window`` sites moved by
    ``window_step``, iHS, and the CNN's posterior of S = 2Ns in windows (options in ``cnn``, a
    :class:`~genosynth.downstream.selection.cnn.CnnScanOptions`); the same for ``synthetic`` (its haplotypes labelled
    ``target`` when it carries labels, else all of them) against the same real versus and outgroup haplotypes.
    Without ``methods``: XP-EHH, PBS when an ``outgroup`` is given, iHS with ``ihs``.

    ``genetic_map`` (chromosome -> (bp, cM) arrays, e.g. from :func:`~genosynth.io.tables.read_plink_map`)
    replaces physical positions in EHH integration; ``min_ehh``, ``include_edges``, ``gap_scale`` and
    ``max_gap`` are scikit-allel's EHH options; ``percentile`` sets where peaks begin.

    Parameters
    ----------
    real
        Real haplotypes labelled by population.
    target, versus, outgroup
        The population scanned, the one XP-EHH and PBS compare it with, and PBS's outgroup.
    synthetic
        Artificial haplotypes scanned the same way (against the same real versus and outgroup).
    methods
        Any of ``"xpehh"``, ``"pbs"``, ``"ihs"``, ``"cnn"``.
    genetic_map, min_ehh, include_edges, gap_scale, max_gap
        EHH integration (scikit-allel's options).
    window, window_step, min_maf, percentile
        PBS windows, the MAF filter, and where peaks begin.
    ihs, cnn, progress
        iHS without ``methods``; the CNN's options; progress lines.

    Returns
    -------
    SelectionReport
        Per-site and windowed scores with their summary.

    Raises
    ------
    OptionError
        A method without the population it needs, or a bad option.
    InputError
        Populations that are not in ``real``, or the same population named twice.

    Examples
    --------
    >>> import numpy as np
    >>> import genosynth
    >>> from genosynth.datasets import data_805
    >>> data = data_805()
    >>> real = genosynth.read_haplotypes(data.hapt, legend=data.legend, populations=data.samples,
    ...                                  population_column="Superpopulation code")
    >>> rows = np.concatenate([np.flatnonzero(real.populations == p)[:40] for p in ("EUR", "AFR", "EAS")])
    >>> chromosome1 = real.select_samples(rows).select_sites(np.flatnonzero(real.sites.chrom == "1"))
    >>> report = selection_scan(chromosome1, target="EUR", versus="AFR", outgroup="EAS", methods=["pbs"],
    ...                         window=5, window_step=2, progress=False)
    >>> report.summary["pbs"]["real"]["n"], report.summary["populations"]["target"]
    (25, {'name': 'EUR', 'haplotypes': 80})
    """
    methods = parse_methods(methods, outgroup=outgroup, ihs=ihs)
    if "xpehh" in methods or "pbs" in methods:
        if versus is None:
            raise OptionError(
                "versus",
                f"is needed by {' and '.join(m.upper() for m in methods if m in ('xpehh', 'pbs'))} "
                "(the population the target is compared with)",
            )
    if "pbs" in methods and outgroup is None:
        raise OptionError("outgroup", "is needed by PBS")
    named = [p for p in (target, versus, outgroup) if p is not None]
    if len(set(named)) < len(named):
        raise InputError("target, versus and outgroup must name different populations")
    parse_float("min_ehh", min_ehh, exclusive_minimum=0, below=1)
    parse_int("gap_scale", gap_scale, minimum=1)
    parse_int("max_gap", max_gap, minimum=1)
    parse_int("window", window, minimum=2)
    parse_int("window_step", window_step, minimum=1)
    parse_float("min_maf", min_maf, minimum=0, below=0.5)
    parse_float("percentile", percentile, minimum=50, below=100)
    if "cnn" in methods and cnn is None:
        from genosynth.downstream.selection.cnn import CnnScanOptions

        cnn = CnnScanOptions()
    say = logger("selection-scan", progress)
    name = real.name("the real set")
    groups = {"target": target} | ({"versus": versus} if versus else {}) | ({"outgroup": outgroup} if outgroup else {})
    haplotypes = {role: _population_haplotypes(real, population, name) for role, population in groups.items()}
    sets = {"real": haplotypes["target"]}
    if synthetic is not None:
        require_same_sites(
            real.sites, synthetic.sites, reference_name=name, other_name=synthetic.name("the synthetic set")
        )
        sets["synthetic"] = _synthetic_target(synthetic, target, say)
    chrom, pos = real.sites.chrom, real.sites.pos
    runs = chromosome_runs(chrom, pos, name=name)
    options = EhhOptions(
        min_ehh=min_ehh,
        include_edges=include_edges,
        gap_scale=gap_scale,
        max_gap=max_gap,
        map_positions=genetic_positions(genetic_map, chrom, pos) if genetic_map else None,
    )
    if "cnn" in methods:
        from genosynth.downstream.selection.cnn import cnn_scan, plan_cnn_scan

        plan = plan_cnn_scan(sets["real"], positions=pos, runs=runs, options=cnn, name=name)
    say(
        f"{real.n_sites} sites; "
        + ", ".join(f"{role} {population} {len(haplotypes[role])} haplotypes" for role, population in groups.items())
        + (f", synthetic {len(sets['synthetic'])}" if "synthetic" in sets else "")
        + f"; methods {','.join(methods)}"
    )
    scores: dict[str, dict[str, np.ndarray]] = {}
    if "xpehh" in methods:
        scores |= {"xpehh": {}, "xpehh_std": {}}
        for role, target_haplotypes in sets.items():
            say(f"XP-EHH of the {role} target haplotypes")
            raw = xpehh_by_chromosome(
                target_haplotypes, haplotypes["versus"], chromosomes=chrom, positions=pos, options=options, name=name
            )
            scores["xpehh"][role], scores["xpehh_std"][role] = raw, standardise(raw)
    pbs = None
    if "pbs" in methods:
        say(f"PBS in windows of {window} sites, step {window_step}")
        pbs = {
            role: pbs_by_chromosome(
                target_haplotypes,
                haplotypes["versus"],
                haplotypes["outgroup"],
                chromosomes=chrom,
                positions=pos,
                window=window,
                step=window_step,
                name=name,
            )
            for role, target_haplotypes in sets.items()
        }
    if "ihs" in methods:
        scores["ihs"] = {}
        for role, target_haplotypes in sets.items():
            say(f"iHS of the {role} target haplotypes")
            scores["ihs"][role] = ihs_by_chromosome(
                target_haplotypes, chromosomes=chrom, positions=pos, options=options, min_maf=min_maf, name=name
            )
    cnn_result = None
    if "cnn" in methods:
        cnn_result = cnn_scan(
            sets, chromosomes=chrom, positions=pos, plan=plan, options=cnn, say=say, progress=progress
        )
    summary = _scan_summaries(scores, pbs, chrom, pos, percentile)
    if cnn_result is not None:
        summary["cnn"] = _cnn_summary(cnn_result, percentile)
    summary["populations"] = {
        role: {"name": population, "haplotypes": len(haplotypes[role])} for role, population in groups.items()
    }
    settings = {
        "target": target,
        "versus": versus,
        "outgroup": outgroup,
        "methods": list(methods),
        "min_ehh": min_ehh,
        "include_edges": include_edges,
        "gap_scale": gap_scale,
        "max_gap": max_gap,
        "window": window,
        "window_step": window_step,
        "ihs": "ihs" in methods,
        "min_maf": min_maf,
        "percentile": percentile,
        "genetic_map": genetic_map is not None,
    } | (cnn.parameters() if cnn_result is not None else {})
    inputs = [real.describe()] + ([synthetic.describe()] if synthetic is not None else [])
    if cnn_result is not None and cnn.model is not None:
        inputs.append(describe_file(cnn.model))
    record = make_record(
        "selection-scan", parameters=settings, seed=cnn.seed if cnn_result is not None else None, inputs=inputs
    )
    return SelectionReport(
        chromosomes=chrom,
        positions=pos,
        scores=scores,
        pbs=pbs,
        cnn=cnn_result,
        summary=summary,
        options=settings,
        provenance=record,
    )


def parse_methods(methods: Sequence[str] | str | None, *, outgroup: str | None, ihs: bool) -> list[str]:
    """The methods to run, in METHODS order; None means XP-EHH, PBS with an outgroup, iHS with ``ihs``."""
    if methods is None:
        return ["xpehh"] + (["pbs"] if outgroup else []) + (["ihs"] if ihs else [])
    items = [m.strip().lower() for m in (methods.split(",") if isinstance(methods, str) else methods)]
    unknown = [m for m in items if m not in METHODS]
    if unknown or not items:
        raise OptionError(
            "methods", f"{','.join(items) or '(none)'}: expected a comma-separated list of {', '.join(METHODS)}"
        )
    chosen = set(items) | ({"ihs"} if ihs else set())
    return [m for m in METHODS if m in chosen]


def _cnn_summary(scan: CnnScan, percentile: float) -> dict:
    """P_SELECTION and S_MEAN over windows as the other scans summarise theirs, the top windows by P_SELECTION,
    how the network was trained and how well it classifies its held-out simulations."""
    real = scan.posteriors["real"]
    entry: dict[str, Any] = {}
    for key in ("p_selection", "s_mean"):
        entry[key] = {"real": _scan_summary(real[key], scan.chromosomes, scan.starts, scan.ends, percentile)}
        if "synthetic" in scan.posteriors:
            entry[key]["synthetic"] = compare_scans(real[key], scan.posteriors["synthetic"][key], percentile=percentile)
    entry["windows"] = int(len(scan.starts))
    entry["windows_p_selection_over_half"] = {
        role: int((p["p_selection"] > 0.5).sum()) for role, p in scan.posteriors.items()
    }
    top = int(np.argmax(real["p_selection"]))
    entry["top_window"] = {
        "chrom": str(scan.chromosomes[top]),
        "start": int(scan.starts[top]),
        "end": int(scan.ends[top]),
    } | {
        role: {
            key: float(p[key][top]) for key in ("p_selection", "s_mean", "s_map", "hpd_low", "hpd_high", "bayes_factor")
        }
        for role, p in scan.posteriors.items()
    }
    entry["training"] = scan.training
    return entry


def _cnn_rows(entry: dict) -> list[tuple[str, str]]:
    evaluation = entry["training"]["evaluation"]
    rows = [("cnn S classes", ", ".join(f"{value:g}" for value in entry["training"]["classes"]))]
    if "validation_accuracy" in evaluation:
        rows.append(("cnn validation accuracy", f"{evaluation['validation_accuracy']:.3f}"))
    if "test_accuracy" in evaluation:
        rows.append(
            (
                "cnn test accuracy (neutral vs strongest)",
                f"{evaluation['test_accuracy']:.3f} ({format_cell(evaluation['neutral_vs_strongest_accuracy'], '.3f')})",
            )
        )
    top = entry["top_window"]
    for role in ("real", "synthetic"):
        if role in top:
            rows.append(
                (
                    f"cnn top window S ({role})",
                    f"{top['chrom']}:{top['start']}-{top['end']} mean "
                    f"{top[role]['s_mean']:.0f}, 95% HPD {top[role]['hpd_low']:g}"
                    f"-{top[role]['hpd_high']:g}, P(selection) "
                    f"{top[role]['p_selection']:.3f}",
                )
            )
    return rows


def genetic_positions(
    genetic_map: Mapping[str, tuple[np.ndarray, np.ndarray]], chromosomes: np.ndarray, positions: np.ndarray
) -> np.ndarray:
    """Genetic position (cM) of every site, interpolated linearly in the map of its chromosome."""
    genetic = np.empty(len(positions))
    for chrom, index in chromosome_runs(chromosomes, positions, name="the sites"):
        bp, cm = genetic_map.get(str(chrom).removeprefix("chr"), (np.array([]), np.array([])))
        if len(bp) < 2:
            raise InputError(f"the genetic map has no map for chromosome {chrom} (at least 2 positions are needed)")
        genetic[index] = np.interp(positions[index], bp, cm)
    return genetic


def _population_haplotypes(matrix: HaplotypeMatrix, population: str, name: str) -> np.ndarray:
    rows = matrix.haplotype_population == population
    if rows.sum() < 2:
        known = ", ".join(sorted(set(matrix.populations.tolist()) - {""})) or "none"
        raise InputError(
            f"{name}: population {population!r} has {int(rows.sum())} haplotypes, at least 2 are "
            f"needed (populations: {known}; a population table gives labels)"
        )
    return matrix.haplotypes[rows]


def _synthetic_target(synthetic: HaplotypeMatrix, target: str, say: Any) -> np.ndarray:
    """The synthetic haplotypes labelled ``target`` when the set carries labels, else all of them."""
    labels = set(synthetic.populations.tolist()) - {""}
    name = synthetic.name("the synthetic set")
    haplotypes = (
        synthetic.haplotypes[synthetic.haplotype_population == target] if target in labels else synthetic.haplotypes
    )
    if labels and target not in labels:
        say(f"{name}: no haplotype is labelled {target}; all {synthetic.n_haplotypes} are used as the target's")
    if len(haplotypes) < 2:
        raise InputError(f"{name}: at least 2 synthetic haplotypes are needed, found {len(haplotypes)}")
    return haplotypes


def _scan_summaries(scores: dict, pbs: dict | None, chrom: np.ndarray, pos: np.ndarray, percentile: float) -> dict:
    summary: dict = {}
    for statistic, key in (("xpehh", "xpehh_std"), ("ihs", "ihs")):
        if key not in scores:
            continue
        entry = {"real": _scan_summary(scores[key]["real"], chrom, pos, pos, percentile)}
        if "synthetic" in scores[key]:
            entry["synthetic"] = compare_scans(scores[key]["real"], scores[key]["synthetic"], percentile=percentile)
        summary[statistic] = entry
    if pbs is not None:
        real = pbs["real"]
        entry = {"real": _scan_summary(real.values, real.chromosomes, real.starts, real.ends, percentile)}
        if "synthetic" in pbs:
            entry["synthetic"] = compare_scans(real.values, pbs["synthetic"].values, percentile=percentile)
        summary["pbs"] = entry
    return summary


def _scan_summary(
    scores: np.ndarray, chrom: np.ndarray, starts: np.ndarray, ends: np.ndarray, percentile: float
) -> dict:
    finite = np.isfinite(scores)
    mask, threshold = peaks(scores, percentile=percentile)
    top = int(np.nanargmax(scores)) if finite.any() else None
    return {
        "n": int(len(scores)),
        "nan": int((~finite).sum()),
        "threshold": threshold,
        "peaks": int(mask.sum()),
        "top": None
        if top is None
        else {"chrom": str(chrom[top]), "start": int(starts[top]), "end": int(ends[top]), "score": float(scores[top])},
    }
