"""Training a torch classifier on simulations, shared by the CNNs that learn from simulated data (the selection CNN,
the demography CNN): a seeded split into training, validation and held-out test simulations, Adam with early
stopping on the validation loss (the best epoch's weights kept), and the confusion matrix of a prediction.

Example
-------
>>> import numpy as np, torch
>>> x = np.r_[np.zeros((20, 2)), np.ones((20, 2))].astype(np.float32)
>>> labels = np.r_[np.zeros(20, int), np.ones(20, int)]
>>> fit = fit_classifier(torch.nn.Linear(2, 2), x, np.eye(2)[labels], labels, settings=FitSettings(max_epochs=30, lr=0.1),
...                      seed=1, device="cpu", step="example", progress=False)
>>> fit.history[fit.kept_epoch - 1]["validation_accuracy"]
1.0
>>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]), 2).tolist()
[[1, 0], [1, 1]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from genosynth._infra.errors import InputError
from genosynth._infra.progress import Progress


@dataclass(frozen=True)
class FitSettings:
    """How a classifier is fitted: Adam (``lr``, ``weight_decay``) on batches of ``batch_size`` for ``max_epochs``
    at most, stopping after ``patience`` epochs without a lower validation loss; ``validation_fraction`` and
    ``test_fraction`` of the simulations are held out of training."""

    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 32
    max_epochs: int = 20
    patience: int = 3
    validation_fraction: float = 0.1
    test_fraction: float = 0.1


@dataclass
class Fit:
    """The outcome of :func:`fit_classifier`: per-epoch ``history``, the ``kept_epoch`` (1-based) and its
    ``validation_loss``, and the simulations of each part (indices)."""

    history: list[dict[str, float]]
    kept_epoch: int
    validation_loss: float
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray

    def summary(self) -> dict[str, Any]:
        """What an evaluation records of the training."""
        return {
            "kept_epoch": self.kept_epoch,
            "validation_loss": self.validation_loss,
            "validation_accuracy": self.history[self.kept_epoch - 1]["validation_accuracy"],
            "training_simulations": int(len(self.train)),
            "validation_simulations": int(len(self.validation)),
        }


def split_simulations(
    n: int, *, seed: int, validation_fraction: float, test_fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, validation, test) indices of ``n`` simulations, shuffled with ``seed``.

    Example
    -------
    >>> [len(part) for part in split_simulations(10, seed=1, validation_fraction=0.2, test_fraction=0.1)]
    [7, 2, 1]
    """
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(test_fraction * n))
    n_validation = max(1, int(round(validation_fraction * n)))
    test, validation, train = np.split(order, [n_test, n_test + n_validation])
    return train, validation, test


def fit_classifier(
    network: Any,
    x: np.ndarray,
    targets: np.ndarray,
    labels: np.ndarray,
    *,
    settings: FitSettings,
    seed: int,
    device: str,
    step: str,
    progress: bool = True,
) -> Fit:
    """Train ``network`` (a torch module from float inputs ``x`` (n, ...) to (n, k) logits, on ``device``) against
    target distributions ``targets`` (n, k) (one-hot or smoothed) of classes ``labels`` (n,), in place; its weights
    end as those of the epoch with the lowest validation loss. ``step`` names the progress bar."""
    import torch

    train, validation, test = split_simulations(
        len(labels), seed=seed, validation_fraction=settings.validation_fraction, test_fraction=settings.test_fraction
    )
    if len(train) < 1:
        raise InputError(f"{len(labels)} simulations are too few to train on (raise --simulations)")
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(network.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    x = torch.as_tensor(x, dtype=torch.float32)
    targets = torch.as_tensor(targets, dtype=torch.float32)
    y = torch.as_tensor(labels, dtype=torch.int64)
    shuffler = torch.Generator().manual_seed(seed)
    history: list[dict[str, float]] = []
    best: tuple[float, int, dict] | None = None
    meter = Progress(step, unit="CNN epochs", total=settings.max_epochs, enabled=progress)
    for epoch in range(1, settings.max_epochs + 1):
        network.train()
        total = 0.0
        for batch in torch.as_tensor(train)[torch.randperm(len(train), generator=shuffler)].split(settings.batch_size):
            loss = soft_cross_entropy(network(x[batch].to(device)), targets[batch].to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        val_loss, val_accuracy = _evaluate(network, x, targets, y, validation, device)
        history.append(
            {
                "epoch": epoch,
                "train_loss": total / len(train),
                "validation_loss": val_loss,
                "validation_accuracy": val_accuracy,
            }
        )
        meter.update(1, loss=f"{total / len(train):.3f}", val_loss=f"{val_loss:.3f}", val_acc=f"{val_accuracy:.3f}")
        if best is None or val_loss < best[0]:
            best = (val_loss, epoch, {k: v.detach().clone() for k, v in network.state_dict().items()})
        elif epoch - best[1] >= settings.patience:
            break
    meter.close()
    assert best is not None
    network.load_state_dict(best[2])
    return Fit(
        history=history, kept_epoch=best[1], validation_loss=best[0], train=train, validation=validation, test=test
    )


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """(k, k) counts: rows the true class, columns the predicted one."""
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return confusion


def soft_cross_entropy(logits: Any, targets: Any) -> Any:
    """Cross-entropy of the logits against target distributions over the classes (one-hot or smoothed)."""
    import torch

    return -(targets * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


def _evaluate(network: Any, x: Any, targets: Any, y: Any, index: np.ndarray, device: str) -> tuple[float, float]:
    import torch

    network.eval()
    with torch.no_grad():
        logits = torch.cat([network(x[batch].to(device)) for batch in torch.as_tensor(index).split(512)])
        loss = soft_cross_entropy(logits, targets[index].to(device))
        accuracy = (logits.argmax(dim=1).cpu() == y[index]).double().mean()
    return float(loss), float(accuracy)
