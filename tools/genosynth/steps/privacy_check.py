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
    "(AATS and privacy loss, exact and near copies, distance to closest record, membership inference with its "
    "confidence interval, attribute inference of hidden sites, each training haplotype's exposure), "
    "write privacy.json, exposure.tsv, plots and report.html, and exit 2 when a gate is exceeded."
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
    parser.add_argument(
        "--max-attribute-gap",
        type=Bounded(float, minimum=-1, maximum=1),
        help="gate: fail when hidden sites are guessed better for training than held-out haplotypes by more than this",
    )
    parser.add_argument(
        "--max-exposed-fraction",
        type=Bounded(float, minimum=0, maximum=1),
        help="gate: fail when a larger share of training haplotypes is exposed (nearer the synthetic set than 99%% "
        "of held-out haplotypes)",
    )
    parser.add_argument(
        "--hidden-fraction",
        type=Bounded(float, above=0, below=1),
        default=0.1,
        help="attribute inference: share of each target haplotype's sites hidden (drawn per target from --seed)",
    )
    parser.add_argument(
        "--attribute-targets",
        type=at_least(2),
        default=1000,
        help="attribute inference: most training and as many held-out haplotypes attacked",
    )
    parser.add_argument(
        "--most-exposed",
        type=at_least(0),
        default=10,
        help="how many of the most exposed training haplotypes the report names (all are in exposure.tsv)",
    )
    parser.add_argument(
        "--seed", type=int, help="seed of the subsampling and hidden sites (random and recorded when omitted)"
    )
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
        hidden_fraction=args.hidden_fraction,
        attribute_targets=args.attribute_targets,
        most_exposed=args.most_exposed,
        max_attribute_gap=args.max_attribute_gap,
        max_exposed_fraction=args.max_exposed_fraction,
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
        f"{m['holdout_copies_of_train']} of {m['n_holdout']}), MIA AUC {m['mia_auc']:.3f} "
        f"(95% CI {m['mia_auc_ci'][0]:.3f}-{m['mia_auc_ci'][1]:.3f}), attribute-inference gap "
        f"{m['attribute_gap']:.3f} (standard error {m['attribute_gap_se']:.3f}), exposed training haplotypes "
        f"{m['exposed_fraction']:.3f} (expected at most {m['exposure_level']}); "
        f"report in {args.output}/report.html",
    )
    for caveat in report.caveats:
        log(STEP, f"caveat: {caveat}")
    if not report.passed:
        raise GateFailed("privacy gate failed: " + "; ".join(report.failures) + f" (report: {args.output}/report.html)")
