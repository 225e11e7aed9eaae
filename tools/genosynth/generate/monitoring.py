"""What training watches and which state it keeps.

:class:`Monitor` compares generated haplotypes with a validation subset of the training haplotypes, and with as
many held-out haplotypes when given: both halves of the adversarial accuracy (AA_truth, AA_syn) and their mean
AATS, allele-frequency correlation, the LD (r²) correlation over same-chromosome site pairs and the LD strength
(the generated set's mean r² over them as a fraction of the real one's: :meth:`fidelity.compare_ld`), the share of
polymorphic sites fixed, the 1-D Wasserstein distance of the within-set pairwise-difference distribution from the
real one, and against the held-out set the privacy loss
AATS(holdout) - AATS(train). AATS and the privacy loss come with their standard errors, so a reader of the
history knows which differences between epochs are noise.

:class:`EarlyStopping` keeps one monitored state:

- ``aats``: the state whose worse AA half is nearest 0.5, ``max(|AA_truth - 0.5|, |AA_syn - 0.5|)``. The mean
  AATS alone is not enough: halves of 0 and 1 average 0.5, the opposite of indistinguishable.
- ``fidelity``: among the states whose privacy loss is within ``max_privacy_loss``, the one with the lowest
  ``max(|AA_truth - 0.5|, |AA_syn - 0.5|) + (1 - AF r) + (1 - LD r)``: adversarial balance, allele frequencies
  and LD. When no state is within the limit, the state with the lowest monitored privacy loss, and the summary
  says so.

The privacy limit must hold where privacy-check judges the kept state, and picking the best of many monitored
states favours those whose estimate came out low by chance: "monitored loss plus one standard error within the
limit" kept states that privacy-check then measured over it. So a state is within the limit in two steps:

1. screening: its monitored privacy loss plus one standard error is within the limit (cheap, every state);
2. judgement, only for a screened state that would be kept (its score is the best so far, within tolerance):
   :meth:`Monitor.judge` measures its privacy loss afresh as privacy-check does: ``JUDGE_SIZE`` newly generated
   haplotypes against the whole training and held-out sets, AATS at the smallest set's size averaged over
   privacy-check's default draws. The state is kept when the judged loss plus ``z_k`` judged standard errors
   is within the limit, where k states have been judged so far and ``z_k`` is the Bonferroni-corrected
   one-sided quantile :func:`selection_margin`, ``Phi^-1(1 - 0.159 / k)``: 1 for the first judged state (the
   one-standard-error rule), 2.15 by the tenth, 2.65 by the fortieth, so that choosing among k judged states
   admits one over the limit about as rarely as the one-standard-error rule does for a single state.

Both keep the latest of the states scoring within ``tolerance`` of the best so far (about one standard error), so
ties within monitoring noise go to the later, better trained epoch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from genosynth.assess import fidelity
from genosynth.assess.distances import hamming_summary
from genosynth.assess.privacy import DEFAULT_REPEATS, adversarial_accuracy, measure_privacy_loss

EARLY_STOP_CHOICES = ("none", "aats", "fidelity")
JUDGE_SIZE = 5000  # haplotypes generated to judge a state's privacy loss as privacy-check would
ONE_SE_TAIL = 1 - NormalDist().cdf(1.0)  # how often one standard error admits a state over the limit (k = 1)
MONITORED = (
    "aa_truth",
    "aa_syn",
    "aats",
    "aats_se",
    "af_r",
    "ld_r",
    "ld_strength",
    "fixed_fraction",
    "pairwise_w",
    "aa_truth_holdout",
    "aa_syn_holdout",
    "aats_holdout",
    "privacy_loss",
    "privacy_loss_se",
    "judged_privacy_loss",
    "judged_privacy_loss_se",
    "judged_size",
    "judged_margin",
)


def selection_margin(judged: int) -> float:
    """Standard errors a judged privacy loss must stay under the limit by when ``judged`` states have been judged
    (the Bonferroni-corrected one-sided quantile; 1 for one state).

    Example
    -------
    >>> [round(selection_margin(k), 2) for k in (1, 10, 40)]
    [1.0, 2.15, 2.65]
    """
    if judged < 1:
        raise ValueError(f"judged states must be at least 1, got {judged}")
    return NormalDist().inv_cdf(1 - ONE_SE_TAIL / judged)


class Monitor:
    """Measures generated haplotypes against ``real`` (a validation subset of the training haplotypes, uint8
    rows) and ``holdout`` (held-out haplotypes, as many rows) when given; ``privacy_sets``, the whole training
    and held-out sets, are what :meth:`judge` measures a state's privacy loss against."""

    def __init__(
        self,
        real: np.ndarray,
        training_frequencies: np.ndarray,
        *,
        holdout: np.ndarray | None = None,
        privacy_sets: tuple[np.ndarray, np.ndarray] | None = None,
        positions: np.ndarray | None = None,
        chromosomes: np.ndarray | None = None,
        device: str = "cpu",
    ) -> None:
        self.real = real
        self.holdout = holdout
        self.privacy_sets = privacy_sets
        self.training_frequencies = training_frequencies
        self.positions, self.chromosomes = positions, chromosomes
        self.device = device
        self.real_pairwise = hamming_summary(real, histogram=True, device=device).histogram

    @property
    def size(self) -> int:
        """How many haplotypes each measurement generates."""
        return len(self.real)

    def measure(self, generated: np.ndarray, *, for_holdout: np.ndarray | None = None) -> dict[str, float | None]:
        """One history row's monitored figures for ``generated`` (uint8 rows, ``size`` of them); ``for_holdout``
        are the haplotypes compared with the held-out ones when they differ (a window's model generates them
        conditioned on the held-out contexts)."""
        rng = np.random.default_rng(0)
        on_train = adversarial_accuracy(self.real, generated, repeats=1, rng=rng, device=self.device)
        frequencies = fidelity.allele_frequencies(generated)
        within = hamming_summary(generated, histogram=True, device=self.device).histogram
        ld = (
            None
            if self.positions is None
            else fidelity.compare_ld(
                self.real,
                {"generated": generated},
                positions=self.positions,
                chromosomes=self.chromosomes,
                device=self.device,
            )
        )
        row: dict[str, float | None] = {
            "aa_truth": on_train.aa_truth,
            "aa_syn": on_train.aa_syn,
            "aats": on_train.aats,
            "aats_se": on_train.standard_error,
            "af_r": fidelity.pearson(self.training_frequencies, frequencies),
            "ld_r": None if ld is None else ld.r["generated"],
            "ld_strength": None if ld is None else ld.strength["generated"],
            "fixed_fraction": fidelity.fixed_fraction(self.training_frequencies, frequencies),
            "pairwise_w": fidelity.histogram_wasserstein(self.real_pairwise, within),
        }
        if self.holdout is not None:
            on_holdout = adversarial_accuracy(
                self.holdout, generated if for_holdout is None else for_holdout, repeats=1, rng=rng, device=self.device
            )
            row.update(
                {
                    "aa_truth_holdout": on_holdout.aa_truth,
                    "aa_syn_holdout": on_holdout.aa_syn,
                    "aats_holdout": on_holdout.aats,
                    "privacy_loss": on_holdout.aats - on_train.aats,
                    "privacy_loss_se": math.hypot(on_train.standard_error, on_holdout.standard_error),
                }
            )
        return row

    def judge(self, generated: np.ndarray, *, for_holdout: np.ndarray | None = None) -> dict[str, float]:
        """The privacy loss of ``generated`` (``JUDGE_SIZE`` fresh haplotypes) as privacy-check judges it: against
        the whole training and held-out sets, with its standard error and the AATS size; ``for_holdout`` as in
        :meth:`measure`."""
        if self.privacy_sets is None:
            raise ValueError("judging a privacy loss needs the training and held-out sets (privacy_sets)")
        train, holdout = self.privacy_sets
        loss = measure_privacy_loss(
            train,
            holdout,
            generated,
            repeats=DEFAULT_REPEATS,
            rng=np.random.default_rng(0),
            device=self.device,
            synthetic_for_holdout=for_holdout,
        )
        return {
            "judged_privacy_loss": loss.value,
            "judged_privacy_loss_se": loss.standard_error,
            "judged_size": loss.on_train.size,
        }


def judge_state(
    generator: Any,
    monitor: Monitor,
    *,
    condition: Any,
    holdout_condition: Any,
    sampling: dict[str, Any],
    seed: int,
    epoch: int,
    device: str,
) -> dict[str, float]:
    """Generate ``JUDGE_SIZE`` haplotypes from ``generator`` (conditions drawn with replacement from the training
    ``condition`` and, for the held-out side, ``holdout_condition``, when given) from a torch generator of its own
    seeded by (seed, epoch), and :meth:`Monitor.judge` them."""
    import torch

    rng = torch.Generator(device=device).manual_seed(seed * 1_000_003 + epoch + 500_009)

    def draw(conditions: Any) -> np.ndarray:
        rows = (
            None if conditions is None else torch.randint(len(conditions), (JUDGE_SIZE,), generator=rng, device=device)
        )
        return generator.generate(JUDGE_SIZE, rng, condition=None if rows is None else conditions[rows], **sampling)

    generated = draw(condition)
    return monitor.judge(generated, for_holdout=None if holdout_condition is None else draw(holdout_condition))


def imbalance(row: dict[str, Any]) -> float:
    """How far the worse AA half is from 0.5 (0: indistinguishable from either side)."""
    return max(abs(row["aa_truth"] - 0.5), abs(row["aa_syn"] - 0.5))


def fidelity_score(row: dict[str, Any]) -> float:
    """The ``fidelity`` rule's score, lower is better: AA imbalance plus 1 - AF r plus 1 - LD r (an undefined
    correlation counts as 0)."""
    return imbalance(row) + sum(1.0 - (row.get(name) or 0.0) for name in ("af_r", "ld_r"))


@dataclass
class Candidate:
    epoch: int
    score: float
    tensors: dict[str, Any]
    privacy_loss: float | None = None
    judged_privacy_loss: float | None = None
    judged_privacy_loss_se: float | None = None
    margin: float | None = None  # selection_margin when it was judged


class EarlyStopping:
    """Offered each monitored state in turn, keeps the one its ``rule`` chooses (see the module docstring)."""

    def __init__(self, rule: str, *, tolerance: float, max_privacy_loss: float | None = None) -> None:
        self.rule = rule
        self.tolerance = tolerance
        self.max_privacy_loss = max_privacy_loss
        self.best: Candidate | None = None  # the best state within the privacy limit (or, for aats, of all)
        self.best_score = math.inf
        self.fallback: Candidate | None = None  # fidelity: the lowest privacy loss, when none is within the limit
        self.judged = 0  # fidelity: states judged so far (the k of selection_margin)

    def offer(
        self,
        epoch: int,
        row: dict[str, Any],
        tensors: Callable[[], dict[str, Any]],
        *,
        judge: Callable[[], dict[str, float]] | None = None,
    ) -> None:
        """Consider the state monitored at ``epoch``; ``tensors`` copies the model's tensors when it is kept.
        ``judge`` (fidelity) measures the state's privacy loss afresh (:func:`judge_state`); without it the
        monitored loss is taken as judged. Its figures are added to ``row``."""
        if self.rule == "none":
            return
        score = imbalance(row) if self.rule == "aats" else fidelity_score(row)
        would_keep = self.best is None or score <= min(self.best_score, score) + self.tolerance + 1e-12  # ties too
        eligible = self.rule == "aats" or (
            would_keep and row["privacy_loss"] + row.get("privacy_loss_se", 0.0) <= self.max_privacy_loss
        )
        judged = {}
        if eligible and self.rule == "fidelity":
            judged = (
                judge()
                if judge is not None
                else {
                    "judged_privacy_loss": row["privacy_loss"],
                    "judged_privacy_loss_se": row.get("privacy_loss_se", 0.0),
                }
            )
            self.judged += 1
            judged["judged_margin"] = selection_margin(self.judged)
            row.update(judged)
            eligible = (
                judged["judged_privacy_loss"] + judged["judged_margin"] * judged["judged_privacy_loss_se"]
                <= self.max_privacy_loss
            )
        if eligible:
            self.best_score = min(self.best_score, score)
            if would_keep:
                self.best = Candidate(
                    epoch,
                    score,
                    _copy(tensors()),
                    row.get("privacy_loss"),
                    judged.get("judged_privacy_loss"),
                    judged.get("judged_privacy_loss_se"),
                    judged.get("judged_margin"),
                )
        elif self.best is None and (self.fallback is None or row["privacy_loss"] <= self.fallback.privacy_loss):
            self.fallback = Candidate(epoch, score, _copy(tensors()), row["privacy_loss"])

    @property
    def kept(self) -> Candidate | None:
        """The state to keep: the best one within the limit, else the fallback, else None (keep the last)."""
        return self.best or self.fallback

    def summary(self) -> dict[str, Any]:
        """What the model's provenance records of the choice."""
        kept = self.kept
        if kept is None:
            return {"early_stop": self.rule}
        summary = {"early_stop": self.rule, "kept_score": kept.score}
        if self.rule == "fidelity":
            within = self.best is not None
            summary.update(
                {
                    "max_privacy_loss": self.max_privacy_loss,
                    "privacy_limit_met": within,
                    "kept_privacy_loss": kept.privacy_loss,
                    "states_judged": self.judged,
                }
            )
            if within:
                summary.update(
                    {
                        "kept_judged_privacy_loss": kept.judged_privacy_loss,
                        "kept_judged_privacy_loss_se": kept.judged_privacy_loss_se,
                        "kept_margin": kept.margin,
                    }
                )
            else:
                summary["note"] = (
                    f"no monitored state had a privacy loss within {self.max_privacy_loss} ({self.judged} judged "
                    f"afresh): kept the one with the lowest monitored loss, {kept.privacy_loss:.3f} (epoch {kept.epoch})"
                )
        return summary

    def state(self) -> dict[str, Any]:
        """Everything a checkpoint needs to continue choosing bit for bit."""
        return {
            "best": None if self.best is None else vars(self.best),
            "best_score": self.best_score,
            "fallback": None if self.fallback is None else vars(self.fallback),
            "judged": self.judged,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.best = None if state["best"] is None else Candidate(**state["best"])
        self.best_score = state["best_score"]
        self.fallback = None if state["fallback"] is None else Candidate(**state["fallback"])
        self.judged = state.get("judged", 0)  # a checkpoint from before judging


def _copy(tensors: dict[str, Any]) -> dict[str, Any]:
    return {name: tensor.detach().clone() for name, tensor in tensors.items()}
