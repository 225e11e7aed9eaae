"""evaluate: how faithfully do artificial haplotype sets reproduce a real one? The metrics of Yelmen et al.
2021 for any number of sets, written as metrics.json/.tsv, plots and one self-contained report.html."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import fidelity
from ..atomic import atomic_outputs
from ..devices import DEVICE_CHOICES, resolve_device
from ..distances import hamming_summary
from ..errors import InputError
from ..fidelity_plots import FidelityPlots
from ..haplotype_sets import intersect_sites, read_haplotype_set, require_same_sites
from ..matrix import HaplotypeMatrix
from ..privacy import adversarial_accuracy, aats_from_nearest
from ..progress import log
from ..provenance import make_record, parameters_of, resolve_seed
from ..report import format_value, write_html_report, write_json

STEP = "evaluate"
DESCRIPTION = ("Compare artificial haplotype sets with a real one: PCA and 2-D Wasserstein distance, allele "
               "frequencies, LD, pairwise differences, 3-point correlations, nearest neighbours and AATS; write "
               "metrics.json, metrics.tsv, PNG/PDF plots and report.html.")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
_RESERVED_NAMES = {"real", "holdout"}
_AATS_REPEATS = 3  # subsampling draws when a set and the real set differ in size
TSV_COLUMNS = ("n_haplotypes", "af_r", "fixed_fraction", "ld_r", "w2d_pca", "pairwise_w", "pairwise_between_w",
               "aats", "nn_real_to_set_median")


@dataclass
class NamedSet:
    """One set to judge: its name in tables and plots, where it came from, and its haplotypes."""

    name: str
    path: Path
    matrix: HaplotypeMatrix


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--real", type=Path, required=True, help="real haplotypes: matrix, VCF/BCF or .hapt")
    parser.add_argument("--synthetic", action="append", required=True, metavar="NAME=FILE",
                        help="an artificial set to judge (matrix, VCF/BCF or .hapt); repeat for several sets")
    parser.add_argument("--holdout", type=Path,
                        help="real held-out haplotypes, judged like a set as the reference 'perfect generator'")
    parser.add_argument("--legend", type=Path, help="legend shared by every .hapt input")
    parser.add_argument("--intersect", action="store_true",
                        help="keep the sites common to all sets instead of failing when they differ")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output directory")
    parser.add_argument("--components", type=int, default=6, help="principal components computed and plotted")
    parser.add_argument("--triplets", type=int, default=8000, help="site triplets per 3-point-correlation separation")
    parser.add_argument("--ld-heatmap-sites", type=int, default=200, help="sites shown in each LD heatmap")
    parser.add_argument("--seed", type=int, help="seed of PCA starts, triplets and AATS subsampling (random and recorded when omitted)")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="where distances, PCA and LD are computed")


def run(args: argparse.Namespace) -> None:
    _check_options(args)
    seed = resolve_seed(args.seed)
    device = resolve_device(args.device)
    real, sets = _read_sets(args)
    log(STEP, f"real {real.n_haplotypes} haplotypes x {real.n_sites} sites; "
              + ", ".join(f"{s.name} {s.matrix.n_haplotypes}" for s in sets) + f"; on {device}")
    metrics, figures_data = _evaluate(real, sets, args, seed, device)
    record = make_record(STEP, parameters=parameters_of(args), seed=seed,
                         inputs=[args.real] + [s.path for s in sets])
    metrics["provenance"] = record
    _write_outputs(args.output, metrics, figures_data, record)
    log(STEP, "; ".join(f"{name}: AF r {format_value(m['af_r'])}, LD r {format_value(m['ld_r'])}, W2D {format_value(m['w2d_pca'])}"
                        for name, m in metrics["sets"].items()) + f"; report in {args.output}/report.html")


def _check_options(args: argparse.Namespace) -> None:
    if args.components < 2:
        raise InputError("--components must be >= 2")
    if args.triplets < 1:
        raise InputError("--triplets must be >= 1")
    if args.ld_heatmap_sites < 2:
        raise InputError("--ld-heatmap-sites must be >= 2")


def _parse_named_set(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not path:
        raise InputError(f"--synthetic {text!r}: expected NAME=FILE")
    if not _NAME.match(name):
        raise InputError(f"--synthetic {text!r}: a set name is 1-64 letters, digits or _.+- starting with a letter or digit")
    if name.lower() in _RESERVED_NAMES:
        raise InputError(f"--synthetic {text!r}: the name {name!r} is reserved for the real sets")
    return name, Path(path)


def _read_sets(args: argparse.Namespace) -> tuple[HaplotypeMatrix, list[NamedSet]]:
    named = [_parse_named_set(text) for text in args.synthetic]
    names = [name for name, _ in named]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"--synthetic: the set name {repeated[0]!r} is given more than once")
    real = read_haplotype_set(args.real, legend=args.legend)
    sets = [NamedSet("holdout", args.holdout, read_haplotype_set(args.holdout, legend=args.legend))] if args.holdout else []
    sets += [NamedSet(name, path, read_haplotype_set(path, legend=args.legend)) for name, path in named]
    if args.intersect:
        kept = intersect_sites([real] + [s.matrix for s in sets])
        for s, matrix in zip(sets, kept[1:]):
            dropped = s.matrix.n_sites - matrix.n_sites
            if dropped:
                log(STEP, f"--intersect: {s.name} ({s.path}) loses {dropped} of its {s.matrix.n_sites} sites")
            s.matrix = matrix
        if kept[0].n_sites < real.n_sites:
            log(STEP, f"--intersect: the real set loses {real.n_sites - kept[0].n_sites} of its {real.n_sites} sites")
        real = kept[0]
        if real.n_sites == 0:
            raise InputError("--intersect: the sets have no site in common")
    else:
        for s in sets:
            require_same_sites(real.sites, s.matrix.sites, reference_name=str(args.real), other_name=str(s.path))
    for name, matrix in [("--real " + str(args.real), real)] + [(str(s.path), s.matrix) for s in sets]:
        if matrix.n_haplotypes < 2:
            raise InputError(f"{name}: at least 2 haplotypes are needed, found {matrix.n_haplotypes}")
    return real, sets


def _evaluate(real: HaplotypeMatrix, sets: list[NamedSet], args: argparse.Namespace, seed: int,
              device: str) -> tuple[dict, dict]:
    rng = np.random.default_rng(seed)
    r = real.haplotypes
    af_real = fidelity.allele_frequencies(r)
    log(STEP, "pairwise differences within the real set")
    within_real = hamming_summary(r, histogram=True, device=device)
    log(STEP, "PCA of all sets combined")
    combined = fidelity.principal_components(np.concatenate([r] + [s.matrix.haplotypes for s in sets]),
                                             n_components=args.components, seed=seed, device=device)
    data = {"af_real": af_real, "within_real": within_real, "combined_pca": combined, "per_set": {},
            "set_sizes": [real.n_haplotypes] + [s.matrix.n_haplotypes for s in sets]}
    metrics = {"n_sites": int(real.n_sites),
               "real": {"n_haplotypes": int(real.n_haplotypes),
                        "n_polymorphic": int(((af_real > 0) & (af_real < 1)).sum()),
                        "nn_real_to_real_median": float(np.median(within_real.nearest_a)),
                        "pca_explained_variance_ratio": combined.explained_variance_ratio.tolist()},
               "sets": {}}
    for s in sets:
        log(STEP, f"{s.name}: allele frequencies, paired PCA, Wasserstein distances, pairwise differences, AATS")
        h = s.matrix.haplotypes
        af = fidelity.allele_frequencies(h)
        paired = fidelity.principal_components(np.concatenate([r, h]), n_components=args.components, seed=seed,
                                               device=device)
        real_pc, set_pc = paired.scores[:len(r)], paired.scores[len(r):]
        within = hamming_summary(h, histogram=True, device=device)
        between = hamming_summary(r, h, histogram=True, device=device)
        if len(h) == len(r):
            aats = aats_from_nearest(real_to_synthetic=between.nearest_a, real_to_real=within_real.nearest_a,
                                     synthetic_to_real=between.nearest_b, synthetic_to_synthetic=within.nearest_a)
        else:
            aats = adversarial_accuracy(r, h, repeats=_AATS_REPEATS, rng=rng, device=device)
        metrics["sets"][s.name] = {
            "path": str(s.path), "n_haplotypes": int(len(h)),
            "af_r": fidelity.pearson(af_real, af), "fixed_fraction": fidelity.fixed_fraction(af_real, af),
            "w2d_pca": fidelity.wasserstein_2d(real_pc[:, :2], set_pc[:, :2]),
            "pc_w1": [fidelity.wasserstein_1d(real_pc[:, k], set_pc[:, k]) for k in range(paired.scores.shape[1])],
            "pairwise_w": fidelity.histogram_wasserstein(within_real.histogram, within.histogram),
            "pairwise_between_w": fidelity.histogram_wasserstein(within_real.histogram, between.histogram),
            "aats": aats.aats, "aa_truth": aats.aa_truth, "aa_syn": aats.aa_syn,
            "nn_real_to_set_median": float(np.median(between.nearest_a)),
            "nn_set_to_real_median": float(np.median(between.nearest_b)),
            "exact_copies_of_real": int((between.nearest_b == 0).sum()),
        }
        data["per_set"][s.name] = {"af": af, "paired_pca": paired, "within": within, "between": between}
    log(STEP, "LD over all site pairs")
    others = {s.name: s.matrix.haplotypes for s in sets}
    ld = fidelity.compare_ld(r, others, positions=real.sites.pos, chromosomes=real.sites.chrom, device=device)
    data["ld"] = ld
    shown = ld.sites[:args.ld_heatmap_sites]
    data["ld_heatmaps"] = {name: (fidelity.r_squared_matrix(r[:, shown]), fidelity.r_squared_matrix(h[:, shown]))
                           for name, h in others.items()} if len(shown) >= 2 else {}
    metrics["ld"] = {"sites": int(len(ld.sites)), "pairs": ld.n_pairs, "bin_edges_bp": ld.bin_edges.tolist(),
                     "decay": ld.decay}
    log(STEP, "3-point correlations")
    triplets = fidelity.choose_triplets(real.n_sites, n_triplets=args.triplets, rng=rng)
    real_c3 = {sep: fidelity.three_point_correlations(r, t) for sep, t in triplets.items()}
    data["three_point"] = {"real": real_c3}
    for name, h in others.items():
        c3 = {sep: fidelity.three_point_correlations(h, t) for sep, t in triplets.items()}
        data["three_point"][name] = c3
        m = metrics["sets"][name]
        m["ld_r"] = ld.r[name]
        m["three_point_r"] = {sep: fidelity.pearson(real_c3[sep], c3[sep]) for sep in triplets}
    metrics["three_point_triplets"] = {sep: int(len(t)) for sep, t in triplets.items()}
    return metrics, data


def _write_outputs(directory: Path, metrics: dict, data: dict, record: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    figures = FidelityPlots(directory, list(metrics["sets"]), data, metrics).all()
    write_json(directory / "metrics.json", metrics)
    tsv = directory / "metrics.tsv"
    with atomic_outputs(tsv) as (temp,):
        lines = ["\t".join(("set",) + TSV_COLUMNS)]
        lines += ["\t".join([name] + [format_value(m[c], ".6g") for c in TSV_COLUMNS]) for name, m in metrics["sets"].items()]
        temp.write_text("\n".join(lines) + "\n")
    summary = [("sites", str(metrics["n_sites"])), ("real haplotypes", str(metrics["real"]["n_haplotypes"]))]
    for name, m in metrics["sets"].items():
        summary.append((name, ", ".join(f"{c} {format_value(m[c])}" for c in TSV_COLUMNS)))
    write_html_report(directory / "report.html", title="genosynth evaluate", summary=summary, verdict=None,
                      figures=figures, provenance=record)
