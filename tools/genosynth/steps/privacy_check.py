"""privacy-check: does an artificial haplotype set leak its training individuals? Metrics, plots, report, gate."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..devices import DEVICE_CHOICES, resolve_device
from ..distances import nearest_hamming
from ..errors import GateFailed, InputError
from ..haplotype_sets import read_haplotype_set, require_same_sites
from ..privacy import adversarial_accuracy, roc_auc, roc_curve
from ..progress import log
from ..provenance import make_record, parameters_of, resolve_seed
from ..report import format_value, new_figure, save_figure, write_html_report, write_json

STEP = "privacy-check"
DESCRIPTION = ("Measure how close artificial haplotypes are to the training haplotypes compared with held-out ones "
               "(AATS and privacy loss, exact and near copies, distance to closest record, membership inference), "
               "write privacy.json, plots and report.html, and exit 2 when a gate is exceeded.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--train", type=Path, required=True, help="haplotype matrix the generator was trained on")
    parser.add_argument("--holdout", type=Path, required=True, help="haplotype matrix of held-out individuals (same sites)")
    parser.add_argument("--synthetic", type=Path, required=True, help="artificial haplotypes: matrix, VCF/BCF or .hapt (same sites)")
    parser.add_argument("--legend", type=Path, help="legend of a .hapt --synthetic")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output directory")
    parser.add_argument("--near", type=int, default=1, help="a near copy differs from a training haplotype at this many sites or fewer")
    parser.add_argument("--repeats", type=int, default=5, help="subsampling draws when AATS sets differ in size")
    parser.add_argument("--max-privacy-loss", type=float, help="gate: fail when privacy loss exceeds this")
    parser.add_argument("--max-exact-copies", type=int, help="gate: fail when more synthetic haplotypes copy a training one")
    parser.add_argument("--max-mia-auc", type=float, help="gate: fail when membership-inference AUC exceeds this")
    parser.add_argument("--seed", type=int, help="seed of the subsampling (random and recorded when omitted)")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="where distances are computed")


def run(args: argparse.Namespace) -> None:
    if args.near < 0 or args.repeats < 1:
        raise InputError("--near must be >= 0 and --repeats >= 1")
    seed = resolve_seed(args.seed)
    device = resolve_device(args.device)
    train = read_haplotype_set(args.train)
    holdout = read_haplotype_set(args.holdout)
    synthetic = read_haplotype_set(args.synthetic, legend=args.legend)
    require_same_sites(train.sites, holdout.sites, reference_name=str(args.train), other_name=str(args.holdout))
    require_same_sites(train.sites, synthetic.sites, reference_name=str(args.train), other_name=str(args.synthetic))
    for name, matrix in ((args.train, train), (args.holdout, holdout), (args.synthetic, synthetic)):
        if matrix.n_haplotypes < 2:
            raise InputError(f"{name}: at least 2 haplotypes are needed, found {matrix.n_haplotypes}")
    log(STEP, f"train {train.n_haplotypes}, holdout {holdout.n_haplotypes}, synthetic {synthetic.n_haplotypes} "
              f"haplotypes x {train.n_sites} sites on {device}")
    metrics, curves = _metrics(train.haplotypes, holdout.haplotypes, synthetic.haplotypes, args, seed, device)
    failures = _gate_failures(metrics, args)
    metrics["gate"] = {"passed": not failures, "failures": failures}
    record = make_record(STEP, parameters=parameters_of(args), seed=seed,
                         inputs=[args.train, args.holdout, args.synthetic])
    metrics["provenance"] = record
    _write_outputs(args.output, metrics, curves, record)
    log(STEP, f"AATS train {metrics['aats_train']:.3f}, holdout {metrics['aats_holdout']:.3f}, privacy loss "
              f"{metrics['privacy_loss']:.3f}, exact copies {metrics['exact_copies']}, MIA AUC {metrics['mia_auc']:.3f}; "
              f"report in {args.output}/report.html")
    if failures:
        raise GateFailed("privacy gate failed: " + "; ".join(failures) + f" (report: {args.output}/report.html)")


def _metrics(train: np.ndarray, holdout: np.ndarray, synthetic: np.ndarray, args: argparse.Namespace, seed: int,
             device: str) -> tuple[dict, dict]:
    rng = np.random.default_rng(seed)
    on_train = adversarial_accuracy(train, synthetic, repeats=args.repeats, rng=rng, device=device)
    on_holdout = adversarial_accuracy(holdout, synthetic, repeats=args.repeats, rng=rng, device=device)
    syn_to_train = nearest_hamming(synthetic, train, device=device)
    syn_to_holdout = nearest_hamming(synthetic, holdout, device=device)
    holdout_to_train = nearest_hamming(holdout, train, device=device)
    # membership inference: a training haplotype is guessed when its nearest synthetic neighbour is close
    train_to_syn = nearest_hamming(train, synthetic, device=device)
    holdout_to_syn = nearest_hamming(holdout, synthetic, device=device)
    mia_auc = roc_auc(-train_to_syn.astype(float), -holdout_to_syn.astype(float))
    metrics = {
        "n_sites": int(train.shape[1]),
        "n_train": int(len(train)), "n_holdout": int(len(holdout)), "n_synthetic": int(len(synthetic)),
        "aats_train": on_train.aats, "aa_truth_train": on_train.aa_truth, "aa_syn_train": on_train.aa_syn,
        "aats_holdout": on_holdout.aats, "aa_truth_holdout": on_holdout.aa_truth, "aa_syn_holdout": on_holdout.aa_syn,
        "privacy_loss": on_holdout.aats - on_train.aats,
        "exact_copies": int((syn_to_train == 0).sum()),
        "exact_copies_of_holdout": int((syn_to_holdout == 0).sum()),
        "near_copies": int((syn_to_train <= args.near).sum()), "near_distance": args.near,
        "mia_auc": mia_auc,
        "dcr": {name: _summary(values) for name, values in (("synthetic_to_train", syn_to_train),
                                                            ("synthetic_to_holdout", syn_to_holdout),
                                                            ("holdout_to_train", holdout_to_train))},
    }
    curves = {"syn_to_train": syn_to_train, "syn_to_holdout": syn_to_holdout, "holdout_to_train": holdout_to_train,
              "roc": roc_curve(-train_to_syn.astype(float), -holdout_to_syn.astype(float))}
    return metrics, curves


def _summary(values: np.ndarray) -> dict[str, float]:
    return {"min": int(values.min()), "p05": float(np.percentile(values, 5)), "median": float(np.median(values)),
            "mean": float(values.mean())}


def _gate_failures(metrics: dict, args: argparse.Namespace) -> list[str]:
    failures = []
    if args.max_privacy_loss is not None and metrics["privacy_loss"] > args.max_privacy_loss:
        failures.append(f"privacy loss {metrics['privacy_loss']:.3f} > {args.max_privacy_loss}")
    if args.max_exact_copies is not None and metrics["exact_copies"] > args.max_exact_copies:
        failures.append(f"exact copies {metrics['exact_copies']} > {args.max_exact_copies}")
    if args.max_mia_auc is not None and metrics["mia_auc"] > args.max_mia_auc:
        failures.append(f"membership-inference AUC {metrics['mia_auc']:.3f} > {args.max_mia_auc}")
    return failures


def _write_outputs(directory: Path, metrics: dict, curves: dict, record: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    figures = []
    fig = new_figure()
    ax = fig.add_subplot()
    top = int(max(curves[k].max() for k in ("syn_to_train", "syn_to_holdout", "holdout_to_train"))) + 2
    for key, label in (("syn_to_train", "synthetic → train"), ("syn_to_holdout", "synthetic → holdout"),
                       ("holdout_to_train", "holdout → train")):
        ax.hist(curves[key], bins=np.linspace(0, top, min(top, 60) + 1), histtype="step", density=True, label=label)
    ax.set_xlabel("Hamming distance to closest record (sites)")
    ax.set_ylabel("density")
    ax.legend()
    figures.append(("Distance to closest record", save_figure(fig, directory, "dcr")))
    fig = new_figure(4.5, 4.5)
    ax = fig.add_subplot()
    fpr, tpr = curves["roc"]
    ax.plot(fpr, tpr, label=f"AUC {metrics['mia_auc']:.3f}")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="no leak")
    ax.set_xlabel("false positive rate (held-out called member)")
    ax.set_ylabel("true positive rate (training called member)")
    ax.legend()
    figures.append(("Membership inference by nearest-synthetic distance", save_figure(fig, directory, "mia_roc")))
    fig = new_figure(5, 4)
    ax = fig.add_subplot()
    names = ["AA truth", "AA syn", "AATS"]
    width = 0.38
    ax.bar(np.arange(3) - width / 2, [metrics["aa_truth_train"], metrics["aa_syn_train"], metrics["aats_train"]], width, label="train")
    ax.bar(np.arange(3) + width / 2, [metrics["aa_truth_holdout"], metrics["aa_syn_holdout"], metrics["aats_holdout"]], width, label="holdout")
    ax.axhline(0.5, color="grey", linestyle=":")
    ax.set_xticks(range(3), names)
    ax.set_ylim(0, 1)
    ax.legend()
    figures.append(("Nearest-neighbour adversarial accuracy", save_figure(fig, directory, "aats")))
    write_json(directory / "privacy.json", metrics)
    gate = metrics["gate"]
    verdict = "Privacy gate passed." if gate["passed"] else "Privacy gate FAILED: " + "; ".join(gate["failures"])
    summary = [(key, format_value(metrics[key]))
               for key in ("n_train", "n_holdout", "n_synthetic", "n_sites", "aats_train", "aats_holdout", "privacy_loss",
                           "exact_copies", "near_copies", "mia_auc")]
    write_html_report(directory / "report.html", title="genosynth privacy-check", summary=summary,
                      verdict=verdict, figures=figures, provenance=record)
