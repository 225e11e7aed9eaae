"""impute-augment: add artificial haplotypes to a reference panel and measure what that does to imputation."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..atomic import atomic_outputs
from ..errors import InputError
from ..haplotype_sets import read_haplotype_set, site_keys, write_haplotype_set
from ..imputation import Dosages, SiteKey, impute, r2_by_bin, read_dosages, site_r2, write_site_subset
from ..matrix import HaplotypeMatrix
from ..progress import log
from ..provenance import make_record, parameters_of, resolve_seed
from ..report import format_value, new_figure, save_figure, write_html_report, write_json

STEP = "impute-augment"
DESCRIPTION = ("Build an augmented reference panel (real panel + artificial haplotypes, bgzipped and indexed), mask "
               "a target to array sites, impute it with Beagle 5 (or minimac4) from the panel alone, the augmented "
               "panel and optionally a panel with private real data, and score imputed dosages against the truth "
               "by minor-allele-frequency bin: impute.json, impute.tsv, a plot, report.html and the engine logs.")
ENGINES = ("beagle", "minimac4")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--panel", type=Path, required=True, help="real reference panel: phased VCF/BCF or matrix")
    parser.add_argument("--synthetic", type=Path, required=True, help="artificial haplotypes: matrix, VCF or .hapt")
    parser.add_argument("--legend", type=Path, help="legend of a .hapt --synthetic")
    parser.add_argument("--target", type=Path, required=True,
                        help="VCF/BCF of the individuals to impute with all their genotypes (the truth that is masked)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output directory")
    parser.add_argument("--private", type=Path,
                        help="real private haplotypes (VCF/matrix) for the 'perfect' panel: panel + private")
    parser.add_argument("--ploidy", type=int, choices=(1, 2), default=1,
                        help="add artificial haplotypes as haploid samples (1) or paired into phased diploids (2)")
    array = parser.add_mutually_exclusive_group()
    array.add_argument("--keep-every", type=int, default=10,
                       help="the genotyping array keeps every K-th common site; the others are imputed and scored")
    array.add_argument("--array-sites", type=Path, help="file of array sites, CHROM and POS per line, instead")
    parser.add_argument("--engine", choices=ENGINES, default="beagle",
                        help="imputation program (minimac4 needs a phased target)")
    parser.add_argument("--threads", type=int, default=2, help="threads of the imputation program")
    parser.add_argument("--memory", default="2g", help="Java heap limit of Beagle (-Xmx), e.g. 2g or 500m")
    parser.add_argument("--seed", type=int, help="seed of Beagle (random and recorded when omitted)")


def run(args: argparse.Namespace) -> None:
    _validate_options(args)
    seed = resolve_seed(args.seed)
    truth = read_dosages(args.target)
    if args.engine == "minimac4" and truth.unphased:
        raise InputError(f"{args.target}: {truth.unphased} is unphased; minimac4 needs a phased target "
                         "(use --engine beagle, or phase the target first)")
    panel = read_haplotype_set(args.panel)
    synthetic = read_haplotype_set(args.synthetic, legend=args.legend)
    private = read_haplotype_set(args.private) if args.private else None
    common = _common_sites(truth, {"panel": panel, "synthetic": synthetic} | ({"private": private} if private else {}),
                           args)
    panel, synthetic = _restrict(panel, common), _restrict(synthetic, common)
    augmented = _augmented_panel(panel, synthetic, ploidy=args.ploidy, path=args.synthetic)
    panels = {"panel": panel, "augmented": augmented}
    if private is not None:
        panels["private"] = _stack(panel, _restrict(private, common), args.private)
    keys = site_keys(panel.sites)
    on_array = _array_mask(keys, args)
    if on_array.all() or not on_array.any():
        raise InputError(f"{args.array_sites or '--keep-every'}: the array keeps {int(on_array.sum())} of the "
                         f"{len(keys)} common sites; it must keep some and leave some to impute")
    log(STEP, f"{len(keys)} common sites, {int(on_array.sum())} on the array, {int((~on_array).sum())} imputed; "
              + ", ".join(f"{name} {m.n_haplotypes} haplotypes" for name, m in panels.items())
              + f"; {len(truth.samples)} target samples; engine {args.engine}")

    args.output.mkdir(parents=True, exist_ok=True)
    masked = {k for k, kept in zip(keys, on_array) if not kept}
    with tempfile.TemporaryDirectory(prefix=".impute-augment.", dir=args.output) as work_name:
        work = Path(work_name)
        target_array = work / "target_array.vcf.gz"
        write_site_subset(args.target, {k for k, kept in zip(keys, on_array) if kept}, target_array)
        imputed: dict[str, Dosages] = {}
        for name, matrix in panels.items():
            reference = work / f"{name}_panel.vcf.gz"
            write_haplotype_set(matrix, reference)
            log(STEP, f"imputing the target with {args.engine} from the {name} reference ({matrix.n_haplotypes} haplotypes)")
            output = impute(args.engine, reference=reference, target=target_array, prefix=work / f"imputed_{name}",
                            seed=seed, threads=args.threads, memory=args.memory)
            imputed[name] = read_dosages(output, field="DS", keys=masked)
        results, scored = _score(truth, imputed, panel, keys, masked, args.target)
        record = make_record(STEP, parameters=parameters_of(args), seed=seed,
                             inputs=[p for p in (args.panel, args.synthetic, args.legend, args.target, args.private,
                                                 args.array_sites) if p],
                             summary={"common_sites": len(keys), "array_sites": int(on_array.sum()),
                                      "scored_sites": scored})
        write_haplotype_set(_with_provenance(augmented, record), args.output / "augmented_panel.vcf.gz")
        for name in panels:
            for suffix in (".vcf.gz", ".log"):
                source = work / f"imputed_{name}{suffix}"
                if source.is_file():
                    with atomic_outputs(args.output / source.name) as (temp,):
                        shutil.copyfile(source, temp)
    summary = {"engine": args.engine, "common_sites": len(keys), "array_sites": int(on_array.sum()),
               "scored_sites": scored, "target_samples": len(truth.samples), "ploidy": args.ploidy,
               "maf_source": "reference panel", **results, "provenance": record}
    _write_outputs(args.output, summary, record)
    log(STEP, "mean r2 " + ", ".join(f"{name} {format_value(results[name]['mean_r2'], '.4f')}" for name in panels)
              + f"; report in {args.output}/report.html")


def _validate_options(args: argparse.Namespace) -> None:
    if args.keep_every < 2:
        raise InputError(f"--keep-every must be >= 2, got {args.keep_every}")
    if args.threads < 1:
        raise InputError(f"--threads must be >= 1, got {args.threads}")
    if not args.memory[:-1].isdigit() or args.memory[-1].lower() not in "kmg":
        raise InputError(f"--memory {args.memory!r}: expected a size such as 2g or 500m")
    for path in (args.panel, args.target, args.synthetic, args.private, args.array_sites):
        if path is not None and not path.is_file():
            raise InputError(f"{path}: no such file")


def _common_sites(truth: Dosages, matrices: dict[str, HaplotypeMatrix], args: argparse.Namespace) -> set[SiteKey]:
    """Sites in the target and every panel ingredient; exit 1 when chromosomes or sites do not overlap."""
    common = set(truth.keys)
    named = {"--target": {k[0] for k in truth.keys}}
    for name, matrix in matrices.items():
        keys = set(site_keys(matrix.sites))
        named[f"--{name}"] = set(matrix.sites.chrom.tolist())
        common &= keys
    chromosomes = set.intersection(*named.values())
    if not chromosomes:
        listing = "; ".join(f"{name} has {', '.join(sorted(c)[:5]) or 'none'}" for name, c in named.items())
        raise InputError(f"no chromosome is in every input ({listing})")
    if len(common) < 10:
        raise InputError(f"only {len(common)} sites (CHROM, POS, REF, ALT) are in every input ({args.target}, "
                         f"{args.panel}, {args.synthetic}{', ' + str(args.private) if args.private else ''}); "
                         "at least 10 are needed")
    return common


def _restrict(matrix: HaplotypeMatrix, keys: set[SiteKey]) -> HaplotypeMatrix:
    return matrix.select_sites(np.array([k in keys for k in site_keys(matrix.sites)], dtype=bool))


def _augmented_panel(panel: HaplotypeMatrix, synthetic: HaplotypeMatrix, *, ploidy: int, path: Path) -> HaplotypeMatrix:
    """The panel's samples followed by the artificial haplotypes as haploid samples or phased pairs (AG_0, AG_1...)."""
    haplotypes = synthetic.haplotypes
    populations = synthetic.haplotype_population
    if ploidy == 2:
        if len(haplotypes) % 2:
            log(STEP, f"{path}: {len(haplotypes)} haplotypes; the last one is left out of the diploid pairs")
        haplotypes = haplotypes[: len(haplotypes) // 2 * 2]
        populations = populations[: len(haplotypes)][::2]
    n = len(haplotypes) // ploidy
    names = np.array([f"AG_{i}" for i in range(n)])
    clash = set(names.tolist()) & set(panel.samples.tolist())
    if clash:
        raise InputError(f"--panel already has a sample named {sorted(clash)[0]}, the name of an artificial sample")
    artificial = HaplotypeMatrix(haplotypes, panel.sites, names, np.full(n, ploidy, np.int8), populations, label="AG")
    return _stack(panel, artificial, path)


def _stack(first: HaplotypeMatrix, second: HaplotypeMatrix, path: Path) -> HaplotypeMatrix:
    """Samples of ``first`` then of ``second`` (on the same sites)."""
    duplicated = set(first.samples.tolist()) & set(second.samples.tolist())
    if duplicated:
        raise InputError(f"{path}: sample {sorted(duplicated)[0]} is in the panel too")
    return HaplotypeMatrix(np.concatenate([first.haplotypes, second.haplotypes]), first.sites,
                           np.concatenate([first.samples, second.samples]), np.concatenate([first.ploidy, second.ploidy]),
                           np.concatenate([first.populations, second.populations]), list(first.provenance))


def _with_provenance(matrix: HaplotypeMatrix, record: dict) -> HaplotypeMatrix:
    matrix.provenance = [*matrix.provenance, record]
    return matrix


def _array_mask(keys: list[SiteKey], args: argparse.Namespace) -> np.ndarray:
    if args.array_sites is None:
        return np.arange(len(keys)) % args.keep_every == 0
    wanted: set[tuple[str, int]] = set()
    for number, line in enumerate(args.array_sites.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        try:
            wanted.add((fields[0], int(fields[1])))
        except (IndexError, ValueError):
            raise InputError(f"{args.array_sites}: line {number}: expected CHROM and POS") from None
    return np.array([(k[0], k[1]) in wanted for k in keys], dtype=bool)


def _score(truth: Dosages, imputed: dict[str, Dosages], panel: HaplotypeMatrix, keys: list[SiteKey],
           masked: set[SiteKey], target: Path) -> tuple[dict, int]:
    """r² of every panel's imputation on the masked sites that every imputed file holds."""
    returned = [set(d.keys) for d in imputed.values()]
    scored = [k for k in keys if k in masked and all(k in r for r in returned)]
    if not scored:
        raise InputError(f"{target}: no masked site came back imputed from every panel")
    truth_rows = {k: i for i, k in enumerate(truth.keys)}
    truth_values = truth.values[[truth_rows[k] for k in scored]]
    frequencies = panel.haplotypes.mean(axis=0)
    panel_index = {k: i for i, k in enumerate(keys)}
    maf = np.array([min(frequencies[panel_index[k]], 1 - frequencies[panel_index[k]]) for k in scored])
    results = {}
    for name, dosages in imputed.items():
        if dosages.samples != truth.samples:
            raise InputError(f"{target}: the imputed samples differ from the target's (engine output reordered them)")
        rows = {k: i for i, k in enumerate(dosages.keys)}
        order = [rows[k] for k in scored]
        values, quality = dosages.values[order], dosages.quality[order]
        per_site = site_r2(truth_values, values)
        pooled = site_r2(truth_values.reshape(1, -1), values.reshape(1, -1))[0]
        results[name] = {
            "mean_r2": float(np.nanmean(per_site)) if np.isfinite(per_site).any() else None,
            "sites_with_r2": int(np.isfinite(per_site).sum()),
            "pooled_r2": float(pooled) if np.isfinite(pooled) else None,
            "mean_engine_r2": float(np.nanmean(quality)) if np.isfinite(quality).any() else None,
            "bins": r2_by_bin(truth_values, values, maf, quality=quality),
        }
    return results, len(scored)


def _write_outputs(directory: Path, summary: dict, record: dict) -> None:
    names = [n for n in ("panel", "augmented", "private") if n in summary]
    write_json(directory / "impute.json", summary)
    lines = ["panel\tmaf_low\tmaf_high\tn_sites\tr2\tmean_site_r2\tmean_engine_r2"]
    for name in names:
        for b in summary[name]["bins"]:
            lines.append("\t".join([name, f"{b['maf_low']:g}", f"{b['maf_high']:g}", str(b["n_sites"]),
                                    format_value(b["r2"]), format_value(b["mean_site_r2"]),
                                    format_value(b["mean_engine_r2"])]))
    with atomic_outputs(directory / "impute.tsv") as (temp,):
        temp.write_text("\n".join(lines) + "\n")
    fig = new_figure(7, 4.2)
    ax = fig.add_subplot()
    labels = [f"{b['maf_low']:g}–{b['maf_high']:g}" for b in summary["panel"]["bins"]]
    styles = {"panel": ("black", "o", "real panel"), "augmented": ("tab:orange", "s", "panel + artificial"),
              "private": ("tab:blue", "^", "panel + private (perfect)")}
    for name in names:
        color, marker, label = styles[name]
        values = [np.nan if b["r2"] is None else b["r2"] for b in summary[name]["bins"]]
        ax.plot(range(len(values)), values, color=color, marker=marker, label=label)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_xlabel("minor allele frequency in the reference panel")
    ax.set_ylabel("imputation r² (dosage vs truth)")
    ax.set_ylim(0, 1.02)
    ax.legend()
    png = save_figure(fig, directory, "impute")
    rows = [("engine", summary["engine"]), ("common / array / scored sites",
                                           f"{summary['common_sites']} / {summary['array_sites']} / {summary['scored_sites']}")]
    rows += [(f"mean r² ({name})", format_value(summary[name]["mean_r2"])) for name in names]
    rows += [(f"pooled r² ({name})", format_value(summary[name]["pooled_r2"])) for name in names]
    write_html_report(directory / "report.html", title="genosynth impute-augment", summary=rows, verdict=None,
                      figures=[("Imputation accuracy by minor allele frequency (as Fig 4 of Yelmen et al. 2021)", png)],
                      provenance=record)

