"""Privacy metrics of an artificial haplotype set against its training set and a held-out set, and
:func:`check_privacy`, all of them with a gate as one :class:`PrivacyReport`.

AATS (nearest-neighbour adversarial accuracy, Yale et al. 2019, as used by Yelmen et al. 2021), with
Hamming distances, a tie counting as half:
    AA_truth = mean over real r of w(d(r, S), d(r, R \\ r)),  AA_syn = mean over synthetic s of w(d(s, R), d(s, S \\ s)),
    w(a, b) = 1 if a > b, 1/2 if a = b, 0 if a < b;  AATS = (AA_truth + AA_syn) / 2,
    privacy loss = AATS(holdout) - AATS(train).
With strict inequalities alone, every tie (an identical or equidistant neighbour in both sets, common with
few sites and in simulations) counts for neither side, and two samples of one distribution score well below
0.5; counted as half, they score 0.5 up to sampling error whatever the tie rate, which is reported beside it.
AATS is only comparable between equal-sized sets, so the larger of (real, synthetic) is subsampled to the
smaller one, averaged over ``repeats`` draws; a set already of equal size is used whole. Nor are two AATS of
different sizes comparable: with more haplotypes on both sides every nearest neighbour lies nearer, and on dense
windows an imperfect generator's AATS moves with the size. So the privacy loss measures both AATS at one size,
that of the smallest of the training, held-out and synthetic sets (``aats_size``), as monitoring does during
training: measured at 1200 training against 300 held-out haplotypes instead, mosaics of haplotypes the generator
never saw scored about -0.1 (tested). The price: a training subsample holds only some of the haplotypes a
generator copied, so memorisation reads weaker (a copy of all 600 training haplotypes, privacy loss 0.25 at size
300 instead of 0.49 at 600; tested); the exact copies and the membership-inference AUC use every haplotype.
With either half of AATS within ``SATURATED_HALF`` of 0 or 1 (but not both near 0, as copies of the training
haplotypes score when no set is subsampled), AATS moves little whatever the set holds and the privacy loss can
understate memorisation (one PCA diffusion model scored 0.02-0.04 with its halves at 0.05 / 0.99 or 0.96 / 0.04,
and 0.15 with them balanced, README); the report says so beside the membership-inference AUC, which does not
depend on the halves. Exact copies are read against ``holdout_copies_of_train``, the held-out haplotypes identical
to a training one: on short or dense windows real individuals share whole haplotypes (69% of the held-out ones
on two 1500-site windows of a 5010-haplotype simulation, README), and a new sample of the population copies
training haplotypes at that rate; the report says how the synthetic set's rate compares.

Three attacks go further than the nearest-neighbour adversarial accuracy, each with its sampling error and a gate:

- Attribute inference: an attacker who knows most of a person's haplotype guesses the rest from the synthetic set.
  For as many training as held-out haplotypes (``attribute_targets`` of each), a random ``hidden_fraction`` of the
  sites of each target (drawn anew per target from the seed) is hidden and predicted from the synthetic haplotype
  nearest on the visible sites. The accuracy on training targets minus that on held-out targets is what the
  synthetic set tells about its training individuals beyond their population; its standard error treats the
  targets as the independent units. Beside it, the accuracy of guessing the synthetic set's commoner allele.
- Exposure of each training haplotype (in the spirit of PRIVET, arXiv 2510.24233): its distance to the nearest
  synthetic haplotype against the same distance of every held-out haplotype, as an empirical p-value
  ``(1 + #{held-out d <= d_i}) / (1 + n_holdout)``, small when the training haplotype sits nearer the synthetic
  set than held-out individuals do. Without a leak at most ``EXPOSURE_LEVEL`` (1%) of training haplotypes have a
  p-value that small; the report gives the fraction that do (the exposed fraction), with its binomial standard
  error, and names the most exposed training haplotypes (sample and haplotype, never their alleles).
- Membership inference: the AUC of telling training from held-out haplotypes by their nearest-synthetic distance,
  with DeLong's standard error and 95% confidence interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.devices import resolve_device
from genosynth._infra.errors import InputError, OptionError
from genosynth._infra.options import parse_float, parse_int
from genosynth._infra.progress import logger
from genosynth._infra.provenance import make_record, resolve_seed
from genosynth.assess.distances import hamming_summary, nearest_hamming, nearest_on_visible
from genosynth.io.matrix import HaplotypeMatrix, require_same_sites
from genosynth.io.tables import format_cell, write_tsv
from genosynth.reports import Report, ReportParts
from genosynth.reports.html import Cell, HtmlTable

EXPOSURE_LEVEL = 0.01  # a training haplotype nearer the synthetic set than 99% of held-out ones is exposed
DEFAULT_REPEATS = 5  # subsampling draws of a set larger than the AATS size (check_privacy, monitoring's judge)
SATURATED_HALF = 0.1  # an AATS half nearer than this to 0 or 1 is saturated (module docstring)
COPY_RATE_MARGIN = 2.0  # standard errors by which a copy rate must exceed the held-out one (_copies_caveat)


@dataclass
class AATS:
    """Adversarial accuracy of one real set against one synthetic set, the share of ties behind each half, the
    standard error of AATS (from the spread of the per-haplotype scores, the halves taken as independent), and
    ``size``, the haplotypes of each set compared."""

    aa_truth: float
    aa_syn: float
    ties_truth: float = 0.0
    ties_syn: float = 0.0
    standard_error: float = 0.0
    size: int = 0

    @property
    def aats(self) -> float:
        return (self.aa_truth + self.aa_syn) / 2

    @property
    def ties(self) -> float:
        return (self.ties_truth + self.ties_syn) / 2


def adversarial_accuracy(
    real: np.ndarray,
    synthetic: np.ndarray,
    *,
    repeats: int,
    rng: np.random.Generator,
    size: int | None = None,
    device: str = "cpu",
) -> AATS:
    """AATS of ``real`` vs ``synthetic`` (uint8 haplotype rows) on ``size`` haplotypes of each (default: the
    smaller set's size), a larger set subsampled without replacement and AATS averaged over ``repeats`` draws;
    a set of exactly ``size`` haplotypes is used whole (one draw when both are).

    Example
    -------
    >>> h = np.random.default_rng(0).integers(0, 2, (20, 50), dtype=np.uint8)
    >>> adversarial_accuracy(h, h, repeats=1, rng=np.random.default_rng(0)).aats
    0.0
    """
    n = min(len(real), len(synthetic)) if size is None else size
    if not 2 <= n <= min(len(real), len(synthetic)):
        raise ValueError(f"AATS size {n} is outside 2..{min(len(real), len(synthetic))} (the smaller set's size)")
    draws = 1 if len(real) == len(synthetic) == n else repeats
    results = []
    for _ in range(draws):
        r = real if len(real) == n else real[np.sort(rng.choice(len(real), n, replace=False))]
        s = synthetic if len(synthetic) == n else synthetic[np.sort(rng.choice(len(synthetic), n, replace=False))]
        between = hamming_summary(r, s, device=device)
        results.append(
            aats_from_nearest(
                real_to_synthetic=between.nearest_a,
                real_to_real=hamming_summary(r, device=device).nearest_a,
                synthetic_to_real=between.nearest_b,
                synthetic_to_synthetic=hamming_summary(s, device=device).nearest_a,
            )
        )
    return AATS(
        *(
            float(np.mean([getattr(x, name) for x in results]))
            for name in ("aa_truth", "aa_syn", "ties_truth", "ties_syn", "standard_error")
        ),
        size=n,
    )


def aats_from_nearest(
    *,
    real_to_synthetic: np.ndarray,
    real_to_real: np.ndarray,
    synthetic_to_real: np.ndarray,
    synthetic_to_synthetic: np.ndarray,
) -> AATS:
    """AATS from the four nearest-neighbour distance vectors of two equal-sized sets (within-set ones
    excluding each haplotype itself)."""
    if len(real_to_synthetic) != len(synthetic_to_real):
        raise ValueError("AATS needs equal-sized sets; use adversarial_accuracy to subsample")
    truth_ties, syn_ties = real_to_synthetic == real_to_real, synthetic_to_real == synthetic_to_synthetic
    truth = (real_to_synthetic > real_to_real) + 0.5 * truth_ties
    syn = (synthetic_to_real > synthetic_to_synthetic) + 0.5 * syn_ties
    n = len(truth)
    return AATS(
        aa_truth=float(truth.mean()),
        aa_syn=float(syn.mean()),
        ties_truth=float(truth_ties.mean()),
        ties_syn=float(syn_ties.mean()),
        standard_error=float(0.5 * np.sqrt((truth.var() + syn.var()) / n)),
        size=n,
    )


@dataclass
class PrivacyLoss:
    """AATS against the training and the held-out set at one size, and the privacy loss they give."""

    on_train: AATS
    on_holdout: AATS

    @property
    def value(self) -> float:
        return self.on_holdout.aats - self.on_train.aats

    @property
    def standard_error(self) -> float:
        return float(np.hypot(self.on_train.standard_error, self.on_holdout.standard_error))


def measure_privacy_loss(
    train: np.ndarray,
    holdout: np.ndarray,
    synthetic: np.ndarray,
    *,
    repeats: int,
    rng: np.random.Generator,
    device: str = "cpu",
    synthetic_for_holdout: np.ndarray | None = None,
) -> PrivacyLoss:
    """AATS(holdout) - AATS(train), both at the size of the smallest of the three sets (module docstring), as
    privacy-check judges it; ``synthetic_for_holdout`` is compared with the held-out set instead when given
    (a window's model generates it conditioned on held-out contexts).

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> train, holdout = (rng.integers(0, 2, (40, 30), dtype=np.uint8) for _ in range(2))
    >>> loss = measure_privacy_loss(train, holdout, train, repeats=1, rng=rng)
    >>> loss.on_train.aats, loss.value > 0.3
    (0.0, True)
    """
    other = synthetic if synthetic_for_holdout is None else synthetic_for_holdout
    size = min(len(train), len(holdout), len(synthetic), len(other))
    return PrivacyLoss(
        adversarial_accuracy(train, synthetic, repeats=repeats, rng=rng, size=size, device=device),
        adversarial_accuracy(holdout, other, repeats=repeats, rng=rng, size=size, device=device),
    )


def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Area under the ROC curve of scores (higher = more likely positive), ties counted as half.

    Example
    -------
    >>> roc_auc(np.array([3.0, 4.0]), np.array([1.0, 3.0]))
    0.875
    """
    return roc_auc_delong(positive, negative)[0]


def roc_auc_delong(positive: np.ndarray, negative: np.ndarray) -> tuple[float, float]:
    """Area under the ROC curve (ties as half) and its standard error by DeLong's method (DeLong et al. 1988,
    from midranks as in Sun and Xu 2014): the variance of each positive's share of negatives below it over the
    positives, plus the same of each negative over the negatives.

    Example
    -------
    >>> auc, se = roc_auc_delong(np.array([3.0, 4.0, 5.0]), np.array([1.0, 3.0, 2.0]))
    >>> round(auc, 4), round(se, 4)
    (0.9444, 0.0786)
    """
    n_pos, n_neg = len(positive), len(negative)
    if n_pos < 2 or n_neg < 2:
        raise ValueError(f"an AUC's standard error needs 2 scores of each class, got {n_pos} and {n_neg}")
    ranks = _midranks(np.concatenate([positive, negative]))
    below_positive = (ranks[:n_pos] - _midranks(positive)) / n_neg  # share of negatives under each positive
    above_negative = 1 - (ranks[n_pos:] - _midranks(negative)) / n_pos  # share of positives over each negative
    variance = below_positive.var(ddof=1) / n_pos + above_negative.var(ddof=1) / n_neg
    return float(below_positive.mean()), float(np.sqrt(variance))


def _midranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their average rank."""
    order = np.argsort(values, kind="mergesort")
    _, first, counts = np.unique(values[order], return_index=True, return_counts=True)
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)
    return ranks


def attribute_inference(
    train: np.ndarray,
    holdout: np.ndarray,
    synthetic: np.ndarray,
    *,
    hidden_fraction: float,
    targets: int,
    rng: np.random.Generator,
    device: str = "cpu",
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Hide ``hidden_fraction`` of the sites of ``targets`` training and as many held-out haplotypes and predict
    them from the synthetic haplotype nearest on the visible sites (module docstring). Returns the figures and
    the per-target accuracies (``train``, ``holdout``).

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> train, holdout = (rng.integers(0, 2, (50, 200), dtype=np.uint8) for _ in range(2))
    >>> figures, _ = attribute_inference(train, holdout, train, hidden_fraction=0.1, targets=50, rng=rng)
    >>> figures["attribute_accuracy_train"], figures["attribute_gap"] > 0.4  # the synthetic set is the training set
    (1.0, True)
    """
    n = min(len(train), len(holdout), targets)
    hidden = max(1, round(hidden_fraction * train.shape[1]))
    if hidden >= train.shape[1]:
        raise InputError(
            f"hidden_fraction {hidden_fraction} hides all {train.shape[1]} sites; no site is left to match"
        )
    majority = (synthetic.mean(axis=0) >= 0.5).astype(np.uint8)
    accuracy, baseline = {}, {}
    for role, real in (("train", train), ("holdout", holdout)):
        chosen = real[np.sort(rng.choice(len(real), n, replace=False))]
        visible = np.ones_like(chosen)
        for lo in range(0, n, 1024):  # the hidden sites of each target, a block of targets at a time
            block = rng.random((min(1024, n - lo), chosen.shape[1]), dtype=np.float32)
            np.put_along_axis(
                visible[lo : lo + 1024], np.argpartition(block, hidden - 1, axis=1)[:, :hidden], 0, axis=1
            )
        guessed = synthetic[nearest_on_visible(chosen, visible, synthetic, device=device)]
        accuracy[role] = ((guessed == chosen) & (visible == 0)).sum(axis=1) / hidden
        baseline[role] = ((majority[None, :] == chosen) & (visible == 0)).sum(axis=1) / hidden
    gap = accuracy["train"].mean() - accuracy["holdout"].mean()
    gap_se = np.sqrt(accuracy["train"].var(ddof=1) / n + accuracy["holdout"].var(ddof=1) / n)
    figures = {
        "attribute_targets": int(n),
        "hidden_fraction": float(hidden_fraction),
        "hidden_sites": int(hidden),
        "attribute_accuracy_train": float(accuracy["train"].mean()),
        "attribute_accuracy_holdout": float(accuracy["holdout"].mean()),
        "attribute_gap": float(gap),
        "attribute_gap_se": float(gap_se),
        "attribute_baseline_holdout": float(baseline["holdout"].mean()),
    }
    return figures, accuracy


def exposure_p_values(train_to_synthetic: np.ndarray, holdout_to_synthetic: np.ndarray) -> np.ndarray:
    """Each training haplotype's empirical p-value: the share of held-out haplotypes at least as near the synthetic
    set, ``(1 + #{holdout d <= d_i}) / (1 + n_holdout)`` (module docstring).

    Example
    -------
    >>> exposure_p_values(np.array([0, 5, 9]), np.array([3, 4, 5, 8])).tolist()
    [0.2, 0.8, 1.0]
    """
    below = np.searchsorted(np.sort(holdout_to_synthetic), train_to_synthetic, side="right")
    return (1 + below) / (1 + len(holdout_to_synthetic))


def roc_curve(positive: np.ndarray, negative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every score threshold, from the highest score down."""
    thresholds = np.unique(np.concatenate([positive, negative]))[::-1]
    tpr = np.array([0.0] + [(positive >= t).mean() for t in thresholds])
    fpr = np.array([0.0] + [(negative >= t).mean() for t in thresholds])
    return fpr, tpr


# -- check_privacy: the privacy metrics of one artificial set, and the gate ---------------------------------


@dataclass
class PrivacyReport(Report):
    """How close an artificial set is to its training haplotypes against held-out ones (``metrics``), the gate's
    ``failures`` (empty when it passed or none was asked for), the distances the plots show, and ``caveats``
    on reading the metrics (saturated AATS halves).

    Examples
    --------
    >>> import genosynth
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> report = genosynth.check_privacy(train, holdout, train, max_exact_copies=0, seed=1, progress=False)
    >>> report.passed, report.failures
    (False, ['exact copies 90 > 0'])
    >>> report.to_dict()["exact_copies"], report.to_dict()["gate"]["failures"]
    (90, ['exact copies 90 > 0'])
    """

    metrics: dict[str, Any]
    failures: list[str]
    provenance: dict[str, Any]
    curves: dict[str, Any] = field(repr=False)
    caveats: list[str] = field(default_factory=list)
    report_title = "genosynth privacy-check"
    json_name = "privacy.json"
    step = "privacy-check"

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.metrics,
            "gate": {"passed": self.passed, "failures": self.failures},
            "caveats": self.caveats,
            "provenance": self.provenance,
        }

    def verdict(self) -> str:
        """One line: ``passed``, or ``failed:`` and each exceeded limit (what pipelines read from gate.txt)."""
        return "passed" if self.passed else "failed: " + "; ".join(self.failures)

    def _write_files(self, folder: Path) -> None:
        (folder / "gate.txt").write_text(self.verdict() + "\n")
        columns = ("sample", "haplotype", "population", "distance", "p_value")
        write_tsv(
            folder / "exposure.tsv", columns, ([row[c] for c in columns] for row in self.curves["exposure_ranked"])
        )

    def _report_tables(self) -> list[HtmlTable]:
        rows = [
            [
                Cell(text)
                for text in (
                    row["sample"],
                    str(row["haplotype"]),
                    row["population"] or "NA",
                    str(row["distance"]),
                    format_cell(row["p_value"], ".4f"),
                )
            ]
            for row in self.metrics["most_exposed"]
        ]
        return [
            HtmlTable(
                caption=f"The {len(rows)} most exposed training haplotypes (all of them ranked in exposure.tsv)",
                header=["sample", "haplotype", "population", "sites to nearest synthetic", "p-value"],
                rows=rows,
                legend=(
                    "p-value: the share of held-out haplotypes at least as near the synthetic set; below "
                    f"{EXPOSURE_LEVEL} the training haplotype is exposed"
                ),
            )
        ]

    def _report_parts(self, folder: Path) -> ReportParts:
        from genosynth.reports.privacy import privacy_figures

        verdict = "Privacy gate passed." if self.passed else "Privacy gate FAILED: " + "; ".join(self.failures)
        verdict = " ".join([verdict, *(f"Caveat: {caveat}." for caveat in self.caveats)])
        m = self.metrics
        summary = [
            (key, format_cell(m[key], ".4f"))
            for key in (
                "n_train",
                "n_holdout",
                "n_synthetic",
                "n_sites",
                "aats_size",
                "aats_train",
                "aats_holdout",
                "privacy_loss",
                "privacy_loss_se",
                "exact_copies",
                "holdout_copies_of_train",
                "near_copies",
                "mia_auc",
                "mia_auc_se",
            )
        ]
        summary.append(("mia_auc 95% CI", "{:.4f}-{:.4f}".format(*m["mia_auc_ci"])))
        summary += [
            (key, format_cell(m[key], ".4f"))
            for key in (
                "attribute_accuracy_train",
                "attribute_accuracy_holdout",
                "attribute_gap",
                "attribute_gap_se",
                "attribute_baseline_holdout",
                "hidden_sites",
                "attribute_targets",
                "exposed_fraction",
                "exposed_fraction_se",
                "exposure_level",
            )
        ]
        summary.append(("differential privacy", describe_differential_privacy(m["differential_privacy"])))
        return summary, verdict, privacy_figures(folder, self.metrics, self.curves)

    def __repr__(self) -> str:
        m = self.metrics
        return (
            f"PrivacyReport(AATS train {m['aats_train']:.3f}, holdout {m['aats_holdout']:.3f}, privacy loss "
            f"{m['privacy_loss']:.3f}, exact copies {m['exact_copies']}, MIA AUC {m['mia_auc']:.3f}, attribute gap "
            f"{m['attribute_gap']:.3f}, exposed {m['exposed_fraction']:.3f}, "
            f"gate {'passed' if self.passed else 'FAILED: ' + '; '.join(self.failures)})"
        )


def check_privacy(
    train: HaplotypeMatrix,
    holdout: HaplotypeMatrix,
    synthetic: HaplotypeMatrix,
    *,
    near: int = 1,
    repeats: int = DEFAULT_REPEATS,
    max_privacy_loss: float | None = None,
    max_exact_copies: int | None = None,
    max_mia_auc: float | None = None,
    hidden_fraction: float = 0.1,
    attribute_targets: int = 1000,
    most_exposed: int = 10,
    max_attribute_gap: float | None = None,
    max_exposed_fraction: float | None = None,
    seed: int | None = None,
    device: str = "auto",
    progress: bool = True,
) -> PrivacyReport:
    """Does an artificial set leak its training individuals? AATS against train and held-out haplotypes and the
    privacy loss, exact and near copies, distances to closest records, membership inference with its confidence
    interval, attribute inference and each training haplotype's exposure (module docstring).

    Parameters
    ----------
    train, holdout, synthetic
        The training haplotypes, held-out individuals' haplotypes, and the artificial set, on the same sites.
    near
        A near copy differs from a training haplotype at this many sites or fewer.
    repeats
        Subsampling draws when a set is larger than the AATS size (the smallest of the three sets).
    hidden_fraction, attribute_targets
        Attribute inference: the share of each target's sites hidden, and the most targets of each set.
    most_exposed
        How many of the most exposed training haplotypes the report names.
    max_privacy_loss, max_exact_copies, max_mia_auc, max_attribute_gap, max_exposed_fraction
        Gates: each exceeded limit is a failure in the report (the command line exits 2).
    seed, device, progress
        Seed of the subsampling (random and recorded when None); where distances are computed; progress lines.

    Returns
    -------
    PrivacyReport
        The metrics, the gate's failures (``passed`` when none) and what the plots show.

    Raises
    ------
    OptionError
        A bad option, named by its keyword.
    InputError
        Sets that are not on the same sites.

    Examples
    --------
    >>> import genosynth
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> copies = check_privacy(train, holdout, train, max_exact_copies=0, seed=1, progress=False)
    >>> copies.passed, copies.metrics["exact_copies"] > 0
    (False, True)
    """
    near = parse_int("near", near, minimum=0)
    repeats = parse_int("repeats", repeats, minimum=1)
    hidden_fraction = parse_float("hidden_fraction", hidden_fraction, minimum=0, maximum=1)
    if hidden_fraction == 0:
        raise OptionError("hidden_fraction", "must be above 0: no site would be hidden")
    attribute_targets = parse_int("attribute_targets", attribute_targets, minimum=2)
    most_exposed = parse_int("most_exposed", most_exposed, minimum=0)
    limits = {
        "max_privacy_loss": None if max_privacy_loss is None else parse_float("max_privacy_loss", max_privacy_loss),
        "max_exact_copies": None
        if max_exact_copies is None
        else parse_int("max_exact_copies", max_exact_copies, minimum=0),
        "max_mia_auc": None if max_mia_auc is None else parse_float("max_mia_auc", max_mia_auc, minimum=0, maximum=1),
        "max_attribute_gap": None
        if max_attribute_gap is None
        else parse_float("max_attribute_gap", max_attribute_gap, minimum=-1, maximum=1),
        "max_exposed_fraction": None
        if max_exposed_fraction is None
        else parse_float("max_exposed_fraction", max_exposed_fraction, minimum=0, maximum=1),
    }
    seed = resolve_seed(seed)
    device = resolve_device(device)
    names = {"train": train, "holdout": holdout, "synthetic": synthetic}
    for role, matrix in names.items():
        if role != "train":
            require_same_sites(
                train.sites, matrix.sites, reference_name=train.name("train"), other_name=matrix.name(role)
            )
        if matrix.n_haplotypes < 2:
            raise InputError(f"{matrix.name(role)}: at least 2 haplotypes are needed, found {matrix.n_haplotypes}")
    logger("privacy-check", progress)(
        f"train {train.n_haplotypes}, holdout {holdout.n_haplotypes}, synthetic "
        f"{synthetic.n_haplotypes} haplotypes x {train.n_sites} sites on {device}"
    )
    rng = np.random.default_rng(seed)
    metrics, curves = _privacy_metrics(
        train.haplotypes, holdout.haplotypes, synthetic.haplotypes, near=near, repeats=repeats, rng=rng, device=device
    )
    attributes, curves["attribute_accuracy"] = attribute_inference(
        train.haplotypes,
        holdout.haplotypes,
        synthetic.haplotypes,
        hidden_fraction=hidden_fraction,
        targets=attribute_targets,
        rng=rng,
        device=device,
    )
    metrics.update(attributes)
    metrics.update(_exposure(train, curves, most_exposed=most_exposed))
    metrics["differential_privacy"] = differential_privacy_of(synthetic)
    failures = _gate(metrics, limits)
    record = make_record(
        "privacy-check",
        parameters={
            "near": near,
            "repeats": repeats,
            "hidden_fraction": hidden_fraction,
            "attribute_targets": attribute_targets,
            "most_exposed": most_exposed,
            **limits,
            "device": device,
        },
        seed=seed,
        inputs=[m.describe() for m in names.values()],
    )
    return PrivacyReport(
        metrics=metrics, failures=failures, provenance=record, curves=curves, caveats=_caveats(metrics)
    )


def _gate(metrics: dict[str, Any], limits: dict[str, float | None]) -> list[str]:
    """One line per exceeded limit."""
    checks = {
        "max_privacy_loss": (metrics["privacy_loss"], f"privacy loss {metrics['privacy_loss']:.3f}"),
        "max_exact_copies": (metrics["exact_copies"], f"exact copies {metrics['exact_copies']}"),
        "max_mia_auc": (
            metrics["mia_auc"],
            f"membership-inference AUC {metrics['mia_auc']:.3f} (95% CI {metrics['mia_auc_ci'][0]:.3f}-"
            f"{metrics['mia_auc_ci'][1]:.3f})",
        ),
        "max_attribute_gap": (
            metrics["attribute_gap"],
            f"attribute-inference gap {metrics['attribute_gap']:.3f} (standard error {metrics['attribute_gap_se']:.3f})",
        ),
        "max_exposed_fraction": (
            metrics["exposed_fraction"],
            f"exposed training haplotypes {metrics['exposed_fraction']:.3f} (expected at most {EXPOSURE_LEVEL})",
        ),
    }
    return [
        f"{text} > {limits[name]}"
        for name, (value, text) in checks.items()
        if limits[name] is not None and value > limits[name]
    ]


def _exposure(train: HaplotypeMatrix, curves: dict[str, Any], *, most_exposed: int) -> dict[str, Any]:
    """The exposed fraction of training haplotypes and the most exposed ones (module docstring); the p-values
    and the ranked table go into ``curves``."""
    p_values = exposure_p_values(curves["train_to_syn"], curves["holdout_to_syn"])
    exposed = float((p_values <= EXPOSURE_LEVEL).mean())
    order = np.lexsort((curves["train_to_syn"], p_values))  # most exposed first: smallest p, then nearest
    ranked = [
        {
            "sample": str(train.haplotype_sample[i]),
            "haplotype": int(train.haplotype_index[i]),
            "population": str(train.haplotype_population[i]),
            "distance": int(curves["train_to_syn"][i]),
            "p_value": float(p_values[i]),
        }
        for i in order
    ]
    curves.update(exposure_p_values=p_values, exposure_ranked=ranked)
    return {
        "exposure_level": EXPOSURE_LEVEL,
        "exposed_fraction": exposed,
        "exposed_fraction_se": float(np.sqrt(exposed * (1 - exposed) / len(p_values))),
        "smallest_p_value": 1 / (1 + len(curves["holdout_to_syn"])),
        "most_exposed": ranked[:most_exposed],
    }


def differential_privacy_of(synthetic: HaplotypeMatrix) -> dict[str, Any] | None:
    """The differential-privacy guarantee a synthetic set's provenance records (the last training record whose
    summary has one), or None.

    Example
    -------
    >>> differential_privacy_of(artificial)  # doctest: +SKIP
    {'epsilon': 3.0, 'epsilon_spent': 2.97, 'delta': 1e-05, 'accountant': 'rdp', ...}
    """
    for record in reversed(synthetic.provenance or []):
        guarantee = (record.get("summary") or {}).get("privacy") if isinstance(record, dict) else None
        if guarantee:
            return dict(guarantee)
    return None


def describe_differential_privacy(guarantee: dict[str, Any] | None) -> str:
    """One line on a recorded differential-privacy guarantee.

    Example
    -------
    >>> describe_differential_privacy(None)
    'none recorded'
    >>> describe_differential_privacy({"epsilon": 3, "epsilon_spent": 2.9, "delta": 1e-5, "unit": "individual"})
    'epsilon 3 (spent 2.9), delta 1e-05, per individual'
    """
    if not guarantee:
        return "none recorded"
    g = guarantee
    parts = [f"epsilon {g['epsilon']:g}" + (f" (spent {g['epsilon_spent']:.3g})" if "epsilon_spent" in g else "")]
    for key, label in (
        ("delta", "delta"),
        ("accountant", "accountant"),
        ("max_grad_norm", "clipping"),
        ("noise_multiplier", "noise multiplier"),
        ("sample_rate", "sampling rate"),
    ):
        if key in g:
            parts.append(f"{label} {g[key]:.3g}" if isinstance(g[key], float) else f"{label} {g[key]}")
    if "steps" in g:
        parts.append(f"{g['steps']} steps")
    if "unit" in g:
        parts.append(f"per {g['unit']}")
    return ", ".join(parts)


def _caveats(metrics: dict[str, Any]) -> list[str]:
    """What the figures cannot show: the privacy loss is blunt when a half of AATS is near 0 or 1 (unless both
    are near 0: a set sitting on its training haplotypes, which the privacy loss and the copies show plainly);
    exact copies are no sign of memorisation by themselves where held-out haplotypes copy training ones too."""
    caveats = []
    truth, synthetic = metrics["aa_truth_train"], metrics["aa_syn_train"]
    if not (
        all(SATURATED_HALF <= half <= 1 - SATURATED_HALF for half in (truth, synthetic))
        or max(truth, synthetic) < SATURATED_HALF
    ):
        caveats.append(
            f"AA_truth {truth:.2f} and AA_syn {synthetic:.2f} against the training set: with a half of "
            f"AATS near 0 or 1, AATS moves little and the privacy loss can understate memorisation; the "
            f"membership-inference AUC ({metrics['mia_auc']:.3f}) does not depend on the halves"
        )
    if metrics["smallest_p_value"] > EXPOSURE_LEVEL:
        caveats.append(
            f"with {metrics['n_holdout']} held-out haplotypes no exposure p-value can be as small as "
            f"{EXPOSURE_LEVEL} (the smallest is {metrics['smallest_p_value']:.3f}): the exposed fraction is 0 "
            f"whatever the synthetic set; at least {round(1 / EXPOSURE_LEVEL) - 1} are needed"
        )
    copies = _copies_caveat(metrics)
    return caveats + ([copies] if copies else [])


def _copies_caveat(metrics: dict[str, Any]) -> str | None:
    """Where held-out haplotypes are themselves identical to training ones (short or dense windows, where real
    individuals share whole haplotypes), the synthetic set's exact copies read against that rate: clearly more
    (by over ``COPY_RATE_MARGIN`` binomial standard errors of the difference) is what memorisation, or a
    generator drawn to common haplotypes, would show."""
    if not (metrics["exact_copies"] and metrics["holdout_copies_of_train"]):
        return None
    synthetic_rate = metrics["exact_copies"] / metrics["n_synthetic"]
    holdout_rate = metrics["holdout_copies_of_train"] / metrics["n_holdout"]
    error = np.hypot(
        np.sqrt(synthetic_rate * (1 - synthetic_rate) / metrics["n_synthetic"]),
        np.sqrt(holdout_rate * (1 - holdout_rate) / metrics["n_holdout"]),
    )
    reading = (
        "clearly more often than held-out individuals do: memorisation, or a generator drawn to common haplotypes"
        if synthetic_rate - holdout_rate > COPY_RATE_MARGIN * error
        else "copies at about that rate or below are what real individuals share, no sign of memorisation by themselves"
    )
    return (
        f"{synthetic_rate:.1%} of the synthetic haplotypes are exact copies of training ones, and "
        f"{holdout_rate:.1%} of the held-out haplotypes are identical to a training one: {reading}"
    )


def _privacy_metrics(
    train: np.ndarray,
    holdout: np.ndarray,
    synthetic: np.ndarray,
    *,
    near: int,
    repeats: int,
    rng: np.random.Generator,
    device: str,
) -> tuple[dict, dict]:
    loss = measure_privacy_loss(train, holdout, synthetic, repeats=repeats, rng=rng, device=device)
    on_train, on_holdout = loss.on_train, loss.on_holdout
    # one pass over each pair gives the nearest neighbour both ways: synthetic -> real for the copies and the
    # distances to closest records, real -> synthetic for membership inference (a training haplotype is guessed
    # when its nearest synthetic neighbour is close)
    on_train_pairs = hamming_summary(synthetic, train, device=device)
    on_holdout_pairs = hamming_summary(synthetic, holdout, device=device)
    syn_to_train, train_to_syn = on_train_pairs.nearest_a, on_train_pairs.nearest_b
    syn_to_holdout, holdout_to_syn = on_holdout_pairs.nearest_a, on_holdout_pairs.nearest_b
    holdout_to_train = nearest_hamming(holdout, train, device=device)
    auc, auc_se = roc_auc_delong(-train_to_syn.astype(float), -holdout_to_syn.astype(float))
    metrics = {
        "n_sites": int(train.shape[1]),
        "n_train": int(len(train)),
        "n_holdout": int(len(holdout)),
        "n_synthetic": int(len(synthetic)),
        "aats_size": int(on_train.size),
        "aats_train": on_train.aats,
        "aa_truth_train": on_train.aa_truth,
        "aa_syn_train": on_train.aa_syn,
        "aats_ties_train": on_train.ties,
        "aats_se_train": on_train.standard_error,
        "aats_holdout": on_holdout.aats,
        "aa_truth_holdout": on_holdout.aa_truth,
        "aa_syn_holdout": on_holdout.aa_syn,
        "aats_ties_holdout": on_holdout.ties,
        "aats_se_holdout": on_holdout.standard_error,
        "privacy_loss": loss.value,
        "privacy_loss_se": loss.standard_error,
        "exact_copies": int((syn_to_train == 0).sum()),
        "exact_copies_of_holdout": int((syn_to_holdout == 0).sum()),
        "holdout_copies_of_train": int((holdout_to_train == 0).sum()),
        "near_copies": int((syn_to_train <= near).sum()),
        "near_distance": near,
        "mia_auc": auc,
        "mia_auc_se": auc_se,
        "mia_auc_ci": [max(0.0, auc - 1.96 * auc_se), min(1.0, auc + 1.96 * auc_se)],
        "dcr": {
            name: _distance_summary(values)
            for name, values in (
                ("synthetic_to_train", syn_to_train),
                ("synthetic_to_holdout", syn_to_holdout),
                ("holdout_to_train", holdout_to_train),
            )
        },
    }
    curves = {
        "syn_to_train": syn_to_train,
        "syn_to_holdout": syn_to_holdout,
        "holdout_to_train": holdout_to_train,
        "train_to_syn": train_to_syn,
        "holdout_to_syn": holdout_to_syn,
        "roc": roc_curve(-train_to_syn.astype(float), -holdout_to_syn.astype(float)),
    }
    return metrics, curves


def _distance_summary(values: np.ndarray) -> dict[str, float]:
    return {
        "min": int(values.min()),
        "p05": float(np.percentile(values, 5)),
        "median": float(np.median(values)),
        "mean": float(values.mean()),
    }
