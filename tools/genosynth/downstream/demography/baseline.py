"""The summary-statistics baseline of demographic model choice: a random forest (scikit-learn) on the statistics of
:mod:`~genosynth.downstream.demography.features`, as ABC-RF (Pudlo et al. 2016) chooses between scenarios, trained
on the same simulations as the CNN and evaluated on the same held-out ones.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> x = np.r_[rng.normal(0, 1, (60, 3)), rng.normal(3, 1, (60, 3))]
>>> labels = np.r_[np.zeros(60, int), np.ones(60, int)]
>>> forest = train_forest(x, labels, ["A", "B"], train=np.arange(0, 120, 2), test=np.arange(1, 120, 2), seed=1)
>>> forest.evaluation["test_accuracy"] > 0.9
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genosynth.downstream.demography.network import evaluate


@dataclass
class ScenarioForest:
    """A fitted random forest: ``scenarios`` in class order, its ``evaluation`` on the held-out simulations (and
    out-of-bag accuracy) and the ``importances`` of the statistics."""

    forest: Any
    scenarios: list[str]
    evaluation: dict[str, Any] = field(default_factory=dict)
    importances: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def probabilities(self, statistics: np.ndarray) -> np.ndarray:
        """Scenario probabilities (n, scenarios) of (n, d) statistics (the share of trees voting each)."""
        out = np.zeros((len(statistics), len(self.scenarios)))
        if len(statistics):
            out[:, self.forest.classes_] = self.forest.predict_proba(np.nan_to_num(statistics))
        return out


def train_forest(
    statistics: np.ndarray,
    labels: np.ndarray,
    scenarios: list[str],
    *,
    train: np.ndarray,
    test: np.ndarray,
    trees: int = 300,
    seed: int = 1,
) -> ScenarioForest:
    """Fit ``trees`` trees on the ``train`` simulations' statistics (one thread, ``seed``) and evaluate on ``test``."""
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(n_estimators=trees, oob_score=True, random_state=seed, n_jobs=1)
    forest.fit(np.nan_to_num(statistics[train]), labels[train])
    result = ScenarioForest(forest=forest, scenarios=list(scenarios), importances=forest.feature_importances_)
    result.evaluation = {
        "trees": trees,
        "training_simulations": int(len(train)),
        "out_of_bag_accuracy": float(forest.oob_score_),
        **evaluate(result.probabilities(statistics[test]), labels[test]),
    }
    return result
