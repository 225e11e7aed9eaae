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
- ``fidelity``: among the states whose privacy loss is within ``max_privacy_loss`` (measured value plus one
  standard error, so that monitoring noise alone rarely admits a state), the one with the lowest
  ``max(|AA_truth - 0.5|, |AA_syn - 0.5|) + (1 - AF r) + (1 - LD r)``: adversarial balance, allele frequencies
  and LD. When no state is within the limit, the state with the lowest privacy loss, and the summary says so.

Both keep the latest of the states scoring within ``tolerance`` of the best so far (about one standard error), so
ties within monitoring noise go to the later, better trained epoch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from genosynth.assess import fidelity
from genosynth.assess.distances import hamming_summary
from genosynth.assess.privacy import adversarial_accuracy

EARLY_STOP_CHOICES = ("none", "aats", "fidelity")
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
)


class Monitor:
    """Measures generated haplotypes against ``real`` (a validation subset of the training haplotypes, uint8
    rows) and ``holdout`` (held-out haplotypes, as many rows) when given."""

    def __init__(
        self,
        real: np.ndarray,
        training_frequencies: np.ndarray,
        *,
        holdout: np.ndarray | None = None,
        positions: np.ndarray | None = None,
        chromosomes: np.ndarray | None = None,
        device: str = "cpu",
    ) -> None:
        self.real = real
        self.holdout = holdout
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


class EarlyStopping:
    """Offered each monitored state in turn, keeps the one its ``rule`` chooses (see the module docstring)."""

    def __init__(self, rule: str, *, tolerance: float, max_privacy_loss: float | None = None) -> None:
        self.rule = rule
        self.tolerance = tolerance
        self.max_privacy_loss = max_privacy_loss
        self.best: Candidate | None = None  # the best state within the privacy limit (or, for aats, of all)
        self.best_score = math.inf
        self.fallback: Candidate | None = None  # fidelity: the lowest privacy loss, when none is within the limit

    def offer(self, epoch: int, row: dict[str, Any], tensors: Callable[[], dict[str, Any]]) -> None:
        """Consider the state monitored at ``epoch``; ``tensors`` copies the model's tensors when it is kept."""
        if self.rule == "none":
            return
        score = imbalance(row) if self.rule == "aats" else fidelity_score(row)
        privacy_loss = row.get("privacy_loss")
        eligible = self.rule == "aats" or privacy_loss + row.get("privacy_loss_se", 0.0) <= self.max_privacy_loss
        if eligible:
            self.best_score = min(self.best_score, score)
            if self.best is None or score <= self.best_score + self.tolerance + 1e-12:  # ties at the edge too
                self.best = Candidate(epoch, score, _copy(tensors()), privacy_loss)
        elif self.best is None and (self.fallback is None or privacy_loss <= self.fallback.privacy_loss):
            self.fallback = Candidate(epoch, score, _copy(tensors()), privacy_loss)

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
                }
            )
            if not within:
                summary["note"] = (
                    f"no monitored state had a privacy loss within {self.max_privacy_loss}: kept the "
                    f"one with the lowest, {kept.privacy_loss:.3f} (epoch {kept.epoch})"
                )
        return summary

    def state(self) -> dict[str, Any]:
        """Everything a checkpoint needs to continue choosing bit for bit."""
        return {
            "best": None if self.best is None else vars(self.best),
            "best_score": self.best_score,
            "fallback": None if self.fallback is None else vars(self.fallback),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.best = None if state["best"] is None else Candidate(**state["best"])
        self.best_score = state["best_score"]
        self.fallback = None if state["fallback"] is None else Candidate(**state["fallback"])


def _copy(tensors: dict[str, Any]) -> dict[str, Any]:
    return {name: tensor.detach().clone() for name, tensor in tensors.items()}
