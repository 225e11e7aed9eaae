"""selection-scan: XP-EHH, PBS (and iHS) of a target population, real and artificial, with plots and agreement."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..atomic import atomic_outputs
from ..errors import InputError
from ..haplotype_sets import read_haplotype_set, require_same_sites
from ..matrix import HaplotypeMatrix
from ..progress import log
from ..provenance import make_record, parameters_of
from ..report import format_value, new_figure, save_figure_beside, write_html_report, write_json
from ..sample_tables import read_population_table
from ..selection import (EhhOptions, chromosome_runs, compare_scans, ihs_by_chromosome, pbs_by_chromosome, peaks,
                         standardise, xpehh_by_chromosome)

STEP = "selection-scan"
DESCRIPTION = ("Scan a target population for selection with scikit-allel (standardised XP-EHH against a second "
               "population, PBS in windows with an outgroup, optionally iHS), for the real haplotypes and for an "
               "artificial set of the target population on the same sites; write xpehh.tsv, pbs.tsv, summary.json "
               "(real vs synthetic correlations and shared 99th-percentile peaks), plots and report.html.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("matrix", type=Path, help="real haplotypes with population labels: matrix, VCF/BCF or .hapt")
    parser.add_argument("--target", required=True, help="population scanned for selection")
    parser.add_argument("--versus", required=True, help="population XP-EHH compares the target with")
    parser.add_argument("--outgroup", help="third population; PBS is computed when given")
    parser.add_argument("--synthetic", type=Path,
                        help="artificial haplotypes of the target population on the same sites (matrix, VCF or .hapt)")
    parser.add_argument("--legend", type=Path, help="legend of a .hapt MATRIX or --synthetic")
    parser.add_argument("--populations", type=Path,
                        help="sample -> population table (TSV) replacing the labels stored in MATRIX")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output directory")
    parser.add_argument("--map", type=Path, help="PLINK .map genetic map (CHROM ID cM POS); positions in bp otherwise")
    parser.add_argument("--min-ehh", type=float, default=0.05, help="EHH below which integration stops")
    parser.add_argument("--include-edges", action="store_true", help="score sites whose EHH never decays to --min-ehh")
    parser.add_argument("--gap-scale", type=int, default=20_000, help="gaps wider than this (bp) are scaled down")
    parser.add_argument("--max-gap", type=int, default=200_000, help="a gap wider than this (bp) stops EHH integration")
    parser.add_argument("--window", type=int, default=10, help="PBS window in sites")
    parser.add_argument("--step", dest="window_step", type=int, default=5, help="PBS window step in sites")
    parser.add_argument("--ihs", action="store_true", help="also compute iHS of the target (and synthetic) haplotypes")
    parser.add_argument("--min-maf", type=float, default=0.05, help="iHS: sites with a lower minor allele frequency get NaN")
    parser.add_argument("--percentile", type=float, default=99.0, help="peaks are scores at or above this percentile")


def run(args: argparse.Namespace) -> None:
    _validate_options(args)
    real = read_haplotype_set(args.matrix, legend=args.legend)
    if args.populations:
        real.populations = read_population_table(args.populations, samples=real.samples)
    groups = {"target": args.target, "versus": args.versus}
    if args.outgroup:
        groups["outgroup"] = args.outgroup
    haplotypes = {role: _population_haplotypes(real, population, args.matrix) for role, population in groups.items()}
    synthetic = None
    if args.synthetic:
        synthetic_set = read_haplotype_set(args.synthetic, legend=args.legend)
        require_same_sites(real.sites, synthetic_set.sites, reference_name=str(args.matrix), other_name=str(args.synthetic))
        synthetic = _synthetic_target(synthetic_set, args.target, args.synthetic)
    chrom, pos = real.sites.chrom, real.sites.pos
    chromosome_runs(chrom, pos, name=str(args.matrix))
    options = EhhOptions(min_ehh=args.min_ehh, include_edges=args.include_edges, gap_scale=args.gap_scale,
                         max_gap=args.max_gap, map_positions=_genetic_positions(args.map, chrom, pos) if args.map else None)
    sets = {"real": haplotypes["target"]} | ({"synthetic": synthetic} if synthetic is not None else {})
    log(STEP, f"{real.n_sites} sites; target {args.target} {len(haplotypes['target'])} haplotypes, versus "
              f"{args.versus} {len(haplotypes['versus'])}"
              + (f", outgroup {args.outgroup} {len(haplotypes['outgroup'])}" if args.outgroup else "")
              + (f", synthetic {len(synthetic)}" if synthetic is not None else ""))

    results: dict[str, dict[str, np.ndarray]] = {"xpehh": {}, "xpehh_std": {}}
    for name, target in sets.items():
        log(STEP, f"XP-EHH of the {name} target haplotypes")
        raw = xpehh_by_chromosome(target, haplotypes["versus"], chromosomes=chrom, positions=pos, options=options,
                                  name=str(args.matrix))
        results["xpehh"][name], results["xpehh_std"][name] = raw, standardise(raw)
    pbs = None
    if args.outgroup:
        log(STEP, f"PBS in windows of {args.window} sites, step {args.window_step}")
        pbs = {name: pbs_by_chromosome(target, haplotypes["versus"], haplotypes["outgroup"], chromosomes=chrom,
                                       positions=pos, window=args.window, step=args.window_step, name=str(args.matrix))
               for name, target in sets.items()}
    if args.ihs:
        results["ihs"] = {}
        for name, target in sets.items():
            log(STEP, f"iHS of the {name} target haplotypes")
            results["ihs"][name] = ihs_by_chromosome(target, chromosomes=chrom, positions=pos, options=options,
                                                     min_maf=args.min_maf, name=str(args.matrix))

    record = make_record(STEP, parameters=parameters_of(args), seed=None,
                         inputs=[p for p in (args.matrix, args.synthetic, args.populations, args.map, args.legend) if p])
    summary = _summary(results, pbs, chrom, pos, args.percentile)
    summary["populations"] = {role: {"name": population, "haplotypes": len(haplotypes[role])}
                              for role, population in groups.items()}
    summary["provenance"] = record
    _write_outputs(args.output, chrom, pos, results, pbs, summary, record, args)
    for statistic in ("xpehh", "pbs", "ihs"):
        if "synthetic" in summary.get(statistic, {}):
            agreement = summary[statistic]["synthetic"]
            log(STEP, f"{statistic.upper()} real vs synthetic: Pearson {format_value(agreement['pearson'], '.3f')}, "
                      f"Spearman {format_value(agreement['spearman'], '.3f')}, peaks shared "
                      f"{agreement['peaks_shared']}/{agreement['peaks_real']}")
    log(STEP, f"report in {args.output}/report.html")


def _validate_options(args: argparse.Namespace) -> None:
    if len({args.target, args.versus, args.outgroup} - {None}) < (3 if args.outgroup else 2):
        raise InputError("--target, --versus and --outgroup must name different populations")
    if not 0 < args.min_ehh < 1:
        raise InputError(f"--min-ehh must lie in (0, 1), got {args.min_ehh}")
    if args.gap_scale < 1 or args.max_gap < 1:
        raise InputError("--gap-scale and --max-gap must be >= 1 bp")
    if args.window < 2 or args.window_step < 1:
        raise InputError(f"--window must be >= 2 sites and --step >= 1, got {args.window} and {args.window_step}")
    if not 0 <= args.min_maf < 0.5:
        raise InputError(f"--min-maf must lie in [0, 0.5), got {args.min_maf}")
    if not 50 <= args.percentile < 100:
        raise InputError(f"--percentile must lie in [50, 100), got {args.percentile}")


def _population_haplotypes(matrix: HaplotypeMatrix, population: str, path: Path) -> np.ndarray:
    rows = matrix.haplotype_population == population
    if rows.sum() < 2:
        known = ", ".join(sorted(set(matrix.populations.tolist()) - {""})) or "none"
        raise InputError(f"{path}: population {population!r} has {int(rows.sum())} haplotypes, at least 2 are needed "
                         f"(populations: {known}; --populations gives labels)")
    return matrix.haplotypes[rows]


def _synthetic_target(synthetic: HaplotypeMatrix, target: str, path: Path) -> np.ndarray:
    """The synthetic haplotypes labelled ``target`` when the set carries labels, else all of them."""
    labels = set(synthetic.populations.tolist()) - {""}
    haplotypes = synthetic.haplotypes[synthetic.haplotype_population == target] if target in labels else synthetic.haplotypes
    if labels and target not in labels:
        log(STEP, f"{path}: no haplotype is labelled {target}; all {synthetic.n_haplotypes} are used as the target's")
    if len(haplotypes) < 2:
        raise InputError(f"{path}: at least 2 synthetic haplotypes are needed, found {len(haplotypes)}")
    return haplotypes


def _genetic_positions(path: Path, chromosomes: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Genetic position (cM) of every site, interpolated linearly in a PLINK .map file of the same chromosomes."""
    table: dict[str, list[tuple[int, float]]] = {}
    try:
        lines = path.read_text().splitlines()
    except OSError as err:
        raise InputError(f"{path}: cannot read ({err.strerror})") from None
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        try:
            chrom, centimorgans, bp = fields[0], float(fields[2]), int(fields[3])
        except (IndexError, ValueError):
            raise InputError(f"{path}: line {number}: expected CHROM ID cM POS (PLINK .map)") from None
        entries = table.setdefault(chrom.removeprefix("chr"), [])
        if entries and (bp <= entries[-1][0] or centimorgans < entries[-1][1]):
            raise InputError(f"{path}: line {number}: positions and cM must increase along chromosome {chrom}")
        entries.append((bp, centimorgans))
    genetic = np.empty(len(positions))
    for chrom, index in chromosome_runs(chromosomes, positions, name=str(path)):
        entries = table.get(str(chrom).removeprefix("chr"))
        if not entries or len(entries) < 2:
            raise InputError(f"{path}: no map for chromosome {chrom} (at least 2 lines needed)")
        bp, cm = np.array(entries).T
        genetic[index] = np.interp(positions[index], bp, cm)
    return genetic


def _summary(results: dict, pbs: dict | None, chrom: np.ndarray, pos: np.ndarray, percentile: float) -> dict:
    summary: dict = {}
    for statistic, key in (("xpehh", "xpehh_std"), ("ihs", "ihs")):
        if key not in results:
            continue
        scores = results[key]
        entry = {"real": _scan_summary(scores["real"], chrom, pos, pos, percentile)}
        if "synthetic" in scores:
            entry["synthetic"] = compare_scans(scores["real"], scores["synthetic"], percentile=percentile)
        summary[statistic] = entry
    if pbs is not None:
        real = pbs["real"]
        entry = {"real": _scan_summary(real.values, real.chromosomes, real.starts, real.ends, percentile)}
        if "synthetic" in pbs:
            entry["synthetic"] = compare_scans(real.values, pbs["synthetic"].values, percentile=percentile)
        summary["pbs"] = entry
    return summary


def _scan_summary(scores: np.ndarray, chrom: np.ndarray, starts: np.ndarray, ends: np.ndarray, percentile: float) -> dict:
    finite = np.isfinite(scores)
    mask, threshold = peaks(scores, percentile=percentile)
    top = int(np.nanargmax(scores)) if finite.any() else None
    return {"n": int(len(scores)), "nan": int((~finite).sum()), "threshold": threshold, "peaks": int(mask.sum()),
            "top": None if top is None else {"chrom": str(chrom[top]), "start": int(starts[top]), "end": int(ends[top]),
                                             "score": float(scores[top])}}


def _write_outputs(directory: Path, chrom: np.ndarray, pos: np.ndarray, results: dict, pbs: dict | None,
                   summary: dict, record: dict, args: argparse.Namespace) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    figures = []
    names = list(results["xpehh"])
    columns = {"XPEHH": results["xpehh"]["real"], "XPEHH_STD": results["xpehh_std"]["real"]}
    if "synthetic" in results["xpehh"]:
        columns |= {"XPEHH_SYNTHETIC": results["xpehh"]["synthetic"], "XPEHH_SYNTHETIC_STD": results["xpehh_std"]["synthetic"]}
    _write_table(directory / "xpehh.tsv", {"CHROM": chrom, "POS": pos} | columns)
    figures.append((f"Standardised XP-EHH, {args.target} vs {args.versus}",
                    _plot_scan(directory / "xpehh.tsv", chrom, pos, {n: results["xpehh_std"][n] for n in names},
                               "standardised XP-EHH", summary["xpehh"], args.percentile)))
    if "ihs" in results:
        _write_table(directory / "ihs.tsv", {"CHROM": chrom, "POS": pos, "IHS_STD": results["ihs"]["real"]}
                     | ({"IHS_SYNTHETIC_STD": results["ihs"]["synthetic"]} if "synthetic" in results["ihs"] else {}))
        figures.append((f"Standardised iHS, {args.target}",
                        _plot_scan(directory / "ihs.tsv", chrom, pos, results["ihs"], "standardised iHS", summary["ihs"], args.percentile)))
    if pbs is not None:
        real = pbs["real"]
        _write_table(directory / "pbs.tsv", {"CHROM": real.chromosomes, "START": real.starts, "END": real.ends,
                                             "PBS": real.values}
                     | ({"PBS_SYNTHETIC": pbs["synthetic"].values} if "synthetic" in pbs else {}))
        middle = (real.starts + real.ends) / 2
        figures.append((f"PBS of {args.target} (with {args.versus}, outgroup {args.outgroup}), windows of {args.window} sites",
                        _plot_scan(directory / "pbs.tsv", real.chromosomes, middle,
                                   {name: windows.values for name, windows in pbs.items()}, "PBS", summary["pbs"], args.percentile)))
    write_json(directory / "summary.json", summary)
    rows = []
    for statistic in ("xpehh", "pbs", "ihs"):
        if statistic in summary:
            real_scan = summary[statistic]["real"]
            rows.append((f"{statistic} scores (NaN)", f"{real_scan['n']} ({real_scan['nan']})"))
            if real_scan["top"]:
                top = real_scan["top"]
                rows.append((f"{statistic} top (real)", f"{top['chrom']}:{top['start']} {top['score']:.3f}"))
            if "synthetic" in summary[statistic]:
                agreement = summary[statistic]["synthetic"]
                rows.append((f"{statistic} Pearson / Spearman", f"{format_value(agreement['pearson'], '.3f')} / "
                                                                f"{format_value(agreement['spearman'], '.3f')}"))
                rows.append((f"{statistic} peaks shared", f"{agreement['peaks_shared']} of {agreement['peaks_real']}"))
    write_html_report(directory / "report.html", title=f"genosynth selection-scan: {args.target}", summary=rows,
                      verdict=None, figures=figures, provenance=record)


def _write_table(path: Path, columns: dict[str, np.ndarray]) -> None:
    """A TSV with a header; floats with 6 significant digits and NaN written as ``NaN`` (read by R and pandas)."""
    def cell(value: object) -> str:
        if isinstance(value, (float, np.floating)):
            return "NaN" if not np.isfinite(value) else f"{value:.6g}"
        return str(value)

    with atomic_outputs(path) as (temp,):
        with open(temp, "w") as out:
            out.write("\t".join(columns) + "\n")
            for row in zip(*columns.values()):
                out.write("\t".join(cell(v) for v in row) + "\n")


def _plot_scan(table: Path, chrom: np.ndarray, pos: np.ndarray, scores: dict[str, np.ndarray], label: str,
               summary: dict, percentile: float) -> Path:
    """Scores along the genome, one panel per set (real, synthetic), with each set's percentile line (Fig 3 style)."""
    runs = chromosome_runs(chrom, pos, name=str(table))
    x, ticks, start = np.empty(len(pos)), [], 0.0
    for c, index in runs:
        shift = start - pos[index[0]] if len(runs) > 1 else 0.0
        x[index] = (pos[index] + shift) / 1e6
        ticks.append(x[index].mean())
        start = (pos[index[-1]] + shift) + 1.0
    fig = new_figure(8, 2.6 * len(scores))
    axes = fig.subplots(len(scores), 1, sharex=True, sharey=True, squeeze=False)[:, 0]
    for ax, (name, values) in zip(axes, scores.items()):
        ax.scatter(x, values, s=4, color="black" if name == "real" else "tab:orange", rasterized=True)
        threshold = summary["real"]["threshold"] if name == "real" else summary["synthetic"]["threshold_synthetic"]
        if threshold is not None:
            ax.axhline(threshold, color="tab:red", linestyle="--", linewidth=1, label=f"{percentile:g}th percentile")
        ax.set_ylabel(f"{label}\n({name})")
        ax.legend(loc="upper right")
    if len(runs) > 1:
        axes[-1].set_xticks(ticks, [c for c, _ in runs])
        axes[-1].set_xlabel("chromosome")
    else:
        axes[-1].set_xlabel(f"position on chromosome {runs[0][0]} (Mb)")
    return save_figure_beside(fig, table)
