"""The selection CNN (ImaGene's layer plan in torch): trained on simulated window images to classify S = 2Ns bins,
with early stopping on a validation split, evaluated on a held-out test split, saved in the model file format.

Three 3x3 convolutions (32, 64, 64 channels by default), each with ReLU and 3x3 max pooling, a dense layer and
one output per S class. The target of an image is its class, one-hot, or Gaussian-smoothed over neighbouring
bins (``label_sd`` in bins, ImaGene's ``set_targets(sd=...)``).

Example
-------
>>> network = train_selection_network(images, config=CnnConfig(max_epochs=5), seed=1)  # doctest: +SKIP
>>> network.probabilities(images.images[:3]).shape  # doctest: +SKIP
(3, 5)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.devices import resolve_device
from genosynth._infra.errors import InputError
from genosynth._infra.options import parse_float, parse_int
from genosynth.downstream.classifier import FitSettings, confusion_matrix, fit_classifier
from genosynth.io.matrix import Sites
from genosynth.io.model_file import ModelFile, load_model_file, save_model_file

KIND = "selection-cnn"


@dataclass(frozen=True)
class CnnConfig:
    """Network and training settings: ``max_epochs`` with early stopping after ``patience`` epochs without a lower
    validation loss (the best epoch's weights are kept); ``validation_fraction`` and ``test_fraction`` of the
    simulations are held out of training."""

    channels: tuple[int, ...] = (32, 64, 64)
    dense: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 32
    max_epochs: int = 20
    patience: int = 3
    label_sd: float = 0.0
    validation_fraction: float = 0.1
    test_fraction: float = 0.1

    def __post_init__(self) -> None:
        if len(self.channels) != 3 or any(c < 1 for c in self.channels):
            raise ValueError(f"channels must be three positive counts, got {self.channels}")
        parse_int("dense", self.dense, minimum=1)
        parse_float("lr", self.lr, exclusive_minimum=0)
        parse_float("weight_decay", self.weight_decay, minimum=0)
        parse_int("batch_size", self.batch_size, minimum=1)
        parse_int("cnn_epochs", self.max_epochs, minimum=1)
        parse_int("patience", self.patience, minimum=1)
        parse_float("cnn_label_sd", self.label_sd, minimum=0)
        parse_float("validation_fraction", self.validation_fraction, exclusive_minimum=0, below=0.5)
        parse_float("test_fraction", self.test_fraction, minimum=0, below=0.5)

    def to_dict(self) -> dict[str, Any]:
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CnnConfig:
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in data.items()})


def build_network(image_size: int, n_classes: int, config: CnnConfig) -> Any:
    """The torch module: (batch, 1, size, size) float images -> (batch, n_classes) logits."""
    import torch.nn as nn

    layers: list[Any] = []
    channels, side = 1, image_size
    for out in config.channels:
        layers += [nn.Conv2d(channels, out, kernel_size=3), nn.ReLU(), nn.MaxPool2d(3)]
        channels, side = out, (side - 2) // 3
    if side < 1:
        raise ValueError(f"images of {image_size} pixels are too small for three convolution and pooling layers")
    layers += [
        nn.Flatten(),
        nn.Linear(channels * side * side, config.dense),
        nn.ReLU(),
        nn.Linear(config.dense, n_classes),
    ]
    return nn.Sequential(*layers)


@dataclass
class SelectionNetwork:
    """A trained selection CNN with what it was trained on: ``classes`` (the S grid), ``image_size``,
    ``simulation`` (the :class:`~genosynth.downstream.selection.sweeps.SweepSettings` as a dict), per-epoch ``history`` and
    ``evaluation`` on the held-out test simulations (accuracy, confusion matrix, RMSE of the posterior mean)."""

    network: Any
    config: CnnConfig
    classes: np.ndarray
    image_size: int
    simulation: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)
    evaluation: dict[str, Any] = field(default_factory=dict)
    provenance: list[dict[str, Any]] = field(default_factory=list)
    device: str = "cpu"

    def probabilities(self, images: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
        """Class probabilities (n, n_classes) of uint8 (n, size, size) images."""
        import torch

        if images.ndim != 3 or images.shape[1:] != (self.image_size, self.image_size):
            raise ValueError(f"expected (n, {self.image_size}, {self.image_size}) images, got shape {images.shape}")
        self.network.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                batch = torch.as_tensor(images[start : start + batch_size], dtype=torch.float32, device=self.device)
                out.append(torch.softmax(self.network(batch[:, None]), dim=1).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.classes)))

    def save(self, path: str | Path) -> None:
        """Write the network as a genosynth model file (safetensors, JSON metadata), atomically."""
        empty = Sites.concatenate([])
        extra = {
            "classes": self.classes.tolist(),
            "image_size": self.image_size,
            "simulation": self.simulation,
            "history": self.history,
            "evaluation": self.evaluation,
        }
        save_model_file(
            path,
            ModelFile(
                kind=KIND,
                config=self.config.to_dict(),
                tensors=dict(self.network.state_dict()),
                sites=empty,
                provenance=self.provenance,
                extra=extra,
            ),
        )


def load_selection_network(path: str | Path, *, device: str = "auto") -> SelectionNetwork:
    """Read a network written by :meth:`SelectionNetwork.save` (``selection-scan --cnn-model-output``)."""
    device = resolve_device(device)
    saved = load_model_file(path, device=device)
    if saved.kind != KIND:
        raise InputError(
            f"{path}: a {saved.kind} model file, not a selection CNN (write one with selection-scan --cnn-model-output)"
        )
    try:
        config = CnnConfig.from_dict(saved.config)
        classes = np.array(saved.extra["classes"], dtype=np.float64)
        size = int(saved.extra["image_size"])
        network = build_network(size, len(classes), config).to(device)
        network.load_state_dict(saved.tensors)
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise InputError(f"{path}: damaged selection CNN file ({type(err).__name__}: {str(err)[:200]})") from None
    return SelectionNetwork(
        network=network,
        config=config,
        classes=classes,
        image_size=size,
        simulation=saved.extra.get("simulation", {}),
        history=saved.extra.get("history", []),
        evaluation=saved.extra.get("evaluation", {}),
        provenance=saved.provenance,
        device=device,
    )


def train_selection_network(
    images: np.ndarray,
    labels: np.ndarray,
    classes: np.ndarray,
    *,
    config: CnnConfig = CnnConfig(),
    seed: int = 1,
    device: str = "auto",
    simulation: dict[str, Any] | None = None,
    progress: bool = True,
) -> SelectionNetwork:
    """Train the CNN on uint8 (n, size, size) ``images`` with class indices ``labels`` into ``classes``.

    The simulations are shuffled with ``seed`` and split into test, validation and training parts; training
    stops after ``config.patience`` epochs without a lower validation loss or at ``config.max_epochs``, and the
    best epoch's weights are kept. The test part gives ``evaluation``.
    """
    device = resolve_device(device)
    if images.ndim != 3 or images.shape[1] != images.shape[2] or len(images) != len(labels):
        raise ValueError(f"expected (n, size, size) images and n labels, got {images.shape} and {len(labels)}")
    import torch

    torch.manual_seed(seed)
    size = images.shape[1]
    network = build_network(size, len(classes), config).to(device)
    fit = fit_classifier(
        network,
        images[:, None],
        _targets(labels, len(classes), config.label_sd),
        labels,
        settings=FitSettings(
            lr=config.lr,
            weight_decay=config.weight_decay,
            batch_size=config.batch_size,
            max_epochs=config.max_epochs,
            patience=config.patience,
            validation_fraction=config.validation_fraction,
            test_fraction=config.test_fraction,
        ),
        seed=seed,
        device=device,
        step="selection-scan",
        progress=progress,
    )
    result = SelectionNetwork(
        network=network,
        config=config,
        classes=np.asarray(classes, dtype=np.float64),
        image_size=size,
        simulation=simulation or {},
        history=fit.history,
        device=device,
    )
    result.evaluation = {**fit.summary(), **evaluate_network(result, images[fit.test], labels[fit.test])}
    return result


def evaluate_network(network: SelectionNetwork, images: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Accuracy over the classes, the confusion matrix (rows: true class, columns: most probable class), the RMSE
    of the posterior mean of S and the accuracy of neutral vs the strongest class (P_SELECTION > 0.5) on
    ``images`` with true class ``labels``."""
    from genosynth.downstream.selection.imagene import posterior_summary

    if len(labels) == 0:
        return {"test_simulations": 0}
    probabilities = network.probabilities(images)
    predicted = probabilities.argmax(axis=1)
    k = len(network.classes)
    confusion = confusion_matrix(labels, predicted, k)
    summary = posterior_summary(probabilities, network.classes)
    extremes = (labels == 0) | (labels == k - 1)
    binary = (summary["p_selection"][extremes] > 0.5) == (labels[extremes] == k - 1)
    return {
        "test_simulations": int(len(labels)),
        "test_accuracy": float((predicted == labels).mean()),
        "confusion_matrix": confusion.tolist(),
        "s_mean_rmse": float(np.sqrt(np.mean((summary["s_mean"] - network.classes[labels]) ** 2))),
        "neutral_vs_strongest_accuracy": float(binary.mean()) if extremes.any() else None,
    }


def _targets(labels: np.ndarray, k: int, sd: float) -> np.ndarray:
    """One-hot class targets, or a normal density over the bins centred on the class (``sd`` in bins)."""
    if sd == 0:
        return np.eye(k)[labels]
    bins = np.arange(k)
    density = np.exp(-0.5 * ((bins[None, :] - labels[:, None]) / sd) ** 2)
    return density / density.sum(axis=1, keepdims=True)
