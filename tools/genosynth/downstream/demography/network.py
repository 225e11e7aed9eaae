"""The demography CNN: a small convolutional network over the populations' images (one channel each), trained on
simulated windows to name the scenario they come from, evaluated on held-out simulations, saved as a model file.

Three 3x3 convolutions (16, 32 and 32 channels by default) with batch normalisation, ReLU and 2x2 max pooling,
the average of each channel over the image and one output per scenario; trained with :func:`~genosynth.downstream.classifier.fit_classifier` (Adam, early stopping).

Example
-------
>>> network = train_demography_network(images, labels, ["A", "B"], seed=1)  # doctest: +SKIP
>>> network.evaluation["test_accuracy"]  # doctest: +SKIP
0.97
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.devices import resolve_device
from genosynth._infra.errors import InputError
from genosynth._infra.options import parse_int
from genosynth.downstream.classifier import FitSettings, confusion_matrix, fit_classifier
from genosynth.downstream.demography.features import image_channels, image_input
from genosynth.io.matrix import Sites
from genosynth.io.model_file import ModelFile, load_model_file, save_model_file

KIND = "demography-cnn"


@dataclass(frozen=True)
class DemographyCnnConfig:
    """The network (``channels`` of its first two convolutions, ``dense`` channels of the third) and how it is
    fitted (``fit``)."""

    channels: tuple[int, int] = (16, 32)
    dense: int = 32
    fit: FitSettings = field(
        default_factory=lambda: FitSettings(lr=1e-3, batch_size=16, max_epochs=40, patience=8, test_fraction=0.2)
    )

    def __post_init__(self) -> None:
        if len(self.channels) != 2:
            raise ValueError(f"channels must be two counts, got {self.channels}")
        for count in self.channels:
            parse_int("channels", count, minimum=1)
        parse_int("dense", self.dense, minimum=1)
        parse_int("epochs", self.fit.max_epochs, minimum=1)

    def to_dict(self) -> dict[str, Any]:
        return {"channels": list(self.channels), "dense": self.dense, "fit": asdict(self.fit)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DemographyCnnConfig:
        return cls(channels=tuple(data["channels"]), dense=int(data["dense"]), fit=FitSettings(**data["fit"]))


def build_network(channels: int, image_size: int, scenarios: int, config: DemographyCnnConfig) -> Any:
    """The torch module: (batch, channels, size, size) float images -> (batch, scenarios) logits.

    Three 3x3 convolutions (padded) with batch normalisation and ReLU, 2x2 max pooling after the first two, then
    the average of each channel over the image and a linear layer: the network takes any image size.
    """
    import torch.nn as nn

    first, second = config.channels
    return nn.Sequential(
        nn.Conv2d(channels, first, kernel_size=3, padding=1),
        nn.BatchNorm2d(first),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(first, second, kernel_size=3, padding=1),
        nn.BatchNorm2d(second),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(second, config.dense, kernel_size=3, padding=1),
        nn.BatchNorm2d(config.dense),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(config.dense, scenarios),
    )


@dataclass
class DemographyNetwork:
    """A trained demography CNN: ``scenarios`` (class names, in output order), ``populations`` (the data labels of
    its channels), ``image_size``, ``simulation`` (the settings as a dict), per-epoch ``history`` and
    ``evaluation`` on the held-out simulations (accuracy, confusion matrix)."""

    network: Any
    config: DemographyCnnConfig
    scenarios: list[str]
    populations: list[str]
    image_size: int
    simulation: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)
    evaluation: dict[str, Any] = field(default_factory=dict)
    provenance: list[dict[str, Any]] = field(default_factory=list)
    device: str = "cpu"

    def probabilities(self, images: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
        """Scenario probabilities (n, scenarios) of uint8 (n, channels, size, size) images."""
        import torch

        expected = (image_channels(len(self.populations)), self.image_size, self.image_size)
        if images.ndim != 4 or images.shape[1:] != expected:
            raise ValueError(f"expected (n, {', '.join(map(str, expected))}) images, got shape {images.shape}")
        self.network.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                batch = torch.as_tensor(image_input(images[start : start + batch_size]), device=self.device)
                out.append(torch.softmax(self.network(batch), dim=1).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.scenarios)))

    def save(self, path: str | Path) -> None:
        """Write the network as a genosynth model file (safetensors, JSON metadata), atomically."""
        extra = {
            "scenarios": self.scenarios,
            "populations": self.populations,
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
                sites=Sites.concatenate([]),
                provenance=self.provenance,
                extra=extra,
            ),
        )


def load_demography_network(path: str | Path, *, device: str = "auto") -> DemographyNetwork:
    """Read a network written by :meth:`DemographyNetwork.save` (``infer-demography --model-output``)."""
    device = resolve_device(device)
    saved = load_model_file(path, device=device)
    if saved.kind != KIND:
        raise InputError(f"{path}: a {saved.kind} model file, not a demography CNN")
    try:
        config = DemographyCnnConfig.from_dict(saved.config)
        scenarios = [str(name) for name in saved.extra["scenarios"]]
        populations = [str(name) for name in saved.extra["populations"]]
        size = int(saved.extra["image_size"])
        network = build_network(image_channels(len(populations)), size, len(scenarios), config).to(device)
        network.load_state_dict(saved.tensors)
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise InputError(f"{path}: damaged demography CNN file ({type(err).__name__}: {str(err)[:200]})") from None
    return DemographyNetwork(
        network=network,
        config=config,
        scenarios=scenarios,
        populations=populations,
        image_size=size,
        simulation=saved.extra.get("simulation", {}),
        history=saved.extra.get("history", []),
        evaluation=saved.extra.get("evaluation", {}),
        provenance=saved.provenance,
        device=device,
    )


def train_demography_network(
    images: np.ndarray,
    labels: np.ndarray,
    scenarios: list[str],
    *,
    populations: list[str],
    config: DemographyCnnConfig = DemographyCnnConfig(),
    seed: int = 1,
    device: str = "auto",
    simulation: dict[str, Any] | None = None,
    progress: bool = True,
) -> DemographyNetwork:
    """Train the CNN on uint8 (n, channels, size, size) ``images`` of scenario indices ``labels``; the held-out
    test simulations (``config.fit.test_fraction``, split with ``seed``) give ``evaluation``."""
    import torch

    device = resolve_device(device)
    if images.ndim != 4 or images.shape[2] != images.shape[3] or len(images) != len(labels):
        raise ValueError(f"expected (n, channels, size, size) images and n labels, got {images.shape}")
    torch.manual_seed(seed)
    size = images.shape[2]
    module = build_network(images.shape[1], size, len(scenarios), config).to(device)
    fit = fit_classifier(
        module,
        image_input(images),
        np.eye(len(scenarios))[labels],
        labels,
        settings=config.fit,
        seed=seed,
        device=device,
        step="infer-demography",
        progress=progress,
    )
    network = DemographyNetwork(
        network=module,
        config=config,
        scenarios=list(scenarios),
        populations=list(populations),
        image_size=size,
        simulation=simulation or {},
        history=fit.history,
        device=device,
    )
    network.evaluation = {**fit.summary(), **evaluate(network.probabilities(images[fit.test]), labels[fit.test])}
    return network


def evaluate(probabilities: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Accuracy and confusion matrix (rows: true scenario, columns: most probable) of held-out predictions.

    Example
    -------
    >>> evaluate(np.array([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3]]), np.array([0, 1, 1]))["test_accuracy"]
    0.6666666666666666
    """
    if len(labels) == 0:
        return {"test_simulations": 0}
    predicted = probabilities.argmax(axis=1)
    return {
        "test_simulations": int(len(labels)),
        "test_accuracy": float((predicted == labels).mean()),
        "confusion_matrix": confusion_matrix(labels, predicted, probabilities.shape[1]).tolist(),
    }
