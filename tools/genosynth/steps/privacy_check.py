"""privacy-check: does an artificial haplotype set leak its training individuals? Metrics, plots, report, gate."""

from __future__ import annotations

import argparse
from pathlib import Path

from genosynth._infra.errors import GateFailed
from genosynth._infra.progress import log
from genosynth.assess.privacy import DEFAULT_REPEATS, check_privacy
from genosynth.io import read_haplotypes
from genosynth.steps._compute import add_compute_arguments, compute_device
from genosynth.steps._paths import refuse_legend_without_hapt
from genosynth.steps._types import OUTPUT_FOLDER, Bounded, at_least

STEP = "privacy-check"
SUMMARY = "Measure whether artificial haplotypes leak their training individuals; exit 2 when a gate is exceeded."
DESCRIPTION = (
    "Measure how close artificial haplotypes are to the training haplotypes compared with held-out ones "
    "(AATS and privacy loss, exact and near copies, distance to closest record, membership inference), "
    "write privacy.json, plots and report.html, and exit 2 when a gate is exceeded."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--train", type=Path, required=True, help="haplotype matrix the generator was trained on")
    parser.add_argument(
        "--holdout", type=Path, required=True, help="haplotype matrix of held-out individuals (same sites)"
    )
    parser.add_argument(
        "--synthetic", type=Path, required=True, help="artificial haplotypes: matrix, VCF/BCF or .hapt (same sites)"
    )
    parser.add_argument("--legend", type=Path, help="legend of a .hapt --synthetic")
    parser.add_argument("-o", "--output", type=OUTPUT_FOLDER, required=True, help="output directory")
    parser.add_argument(
        "--near",
        type=at_least(0),
        default=1,
        help="a near copy differs from a training haplotype at this many sites or fewer",
    )
    parser.add_argument(
        "--repeats",
        type=at_least(1),
        default=DEFAULT_REPEATS,
        help="subsampling draws of each set larger than the AATS size (the smallest set's)",
    )
    parser.add_argument("--max-privacy-loss", type=float, help="gate: fail when privacy loss exceeds this")
    parser.add_argument(
        "--max-exact-copies", type=at_least(0), help="gate: fail when more synthetic haplotypes copy a training one"
    )
    parser.add_argument(
        "--max-mia-auc",
        type=Bounded(float, minimum=0, maximum=1),
        help="gate: fail when membership-inference AUC exceeds this",
    )
    parser.add_argument("--seed", type=int, help="seed of the subsampling (random and recorded when omitted)")
    add_compute_arguments(parser, device_help="where distances are computed")


def run(args: argparse.Namespace) -> None:
    refuse_legend_without_hapt(args.legend, [args.synthetic])
    report = check_privacy(
        read_haplotypes(args.train),
        read_haplotypes(args.holdout),
        read_haplotypes(args.synthetic, legend=args.legend),
        near=args.near,
        repeats=args.repeats,
        max_privacy_loss=args.max_privacy_loss,
        max_exact_copies=args.max_exact_copies,
        max_mia_auc=args.max_mia_auc,
        seed=args.seed,
        device=compute_device(args),
    )
    report.write(args.output)
    m = report.metrics
    log(
        STEP,
        f"AATS train {m['aats_train']:.3f}, holdout {m['aats_holdout']:.3f}, privacy loss {m['privacy_loss']:.3f} "
        f"(standard error {m['privacy_loss_se']:.3f}), "
        f"exact copies {m['exact_copies']} (held-out haplotypes identical to a training one: "
        f"{m['holdout_copies_of_train']} of {m['n_holdout']}), MIA AUC {m['mia_auc']:.3f}; "
        f"report in {args.output}/report.html",
    )
    for caveat in report.caveats:
        log(STEP, f"caveat: {caveat}")
    if not report.passed:
        raise GateFailed("privacy gate failed: " + "; ".join(report.failures) + f" (report: {args.output}/report.html)")
