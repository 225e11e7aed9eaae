"""What every generator kind provides to the shared training loop and to sampling.

A kind is one class (a :class:`Generator` subclass) with a typed configuration dataclass; the registry maps its
``kind`` name to it. The training loop never asks which kind it trains, and sampling never switches on it.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from genosynth._infra.errors import OptionError

#: haplotypes per training batch unless asked otherwise: every kind's configuration and
#: :class:`genosynth.TrainingOptions` (the command line's --batch-size) take it from here
DEFAULT_BATCH_SIZE = 32


class Config:
    """Mixin of the configuration dataclasses: plain-JSON round trips for model files."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Any:
        names = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ValueError(f"unknown configuration keys {unknown}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


class Generator(ABC):
    """A generative model of haplotypes on one device: one epoch of training, sampling, and its state.

    ``condition`` arguments are float tensors (n, n_condition) of what a conditional model is conditioned on
    (one-hot population labels, then the alleles of the context sites before a window), or None for an
    unconditional model. ``frequencies`` are the training allele frequencies, ``condition_means`` the training
    means of the condition's columns.
    """

    kind: ClassVar[str]
    config_class: ClassVar[type]
    conditions_on_populations: ClassVar[bool] = False
    sampling_option_names: ClassVar[tuple[str, ...]] = ()
    # tensors a model file written by an earlier genosynth may lack (load_model_tensors supplies them)
    optional_tensor_names: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        config: Any,
        *,
        device: str,
        seed: int,
        frequencies: np.ndarray | None = None,
        condition_means: np.ndarray | None = None,
    ) -> None:
        self.config = config
        self.device = device

    @abstractmethod
    def train_epoch(self, data: Any, condition: Any, rng: Any) -> dict[str, float]:
        """One pass over ``data`` (float32 0/1 tensor, n x n_sites); returns the epoch's mean losses by name."""

    @abstractmethod
    def generate(self, n: int, rng: Any, *, condition: Any = None, **options: Any) -> np.ndarray:
        """``n`` haplotypes (uint8 n x n_sites) drawn with the parsed sampling ``options``."""

    @abstractmethod
    def model_tensors(self) -> dict[str, Any]:
        """The tensors a model file stores: everything sampling needs."""

    @abstractmethod
    def load_model_tensors(self, tensors: dict[str, Any]) -> None:
        """Take up tensors from :meth:`model_tensors`."""

    @abstractmethod
    def optimizer_state(self) -> dict[str, Any]:
        """What a checkpoint stores besides the model tensors to continue training bit for bit."""

    @abstractmethod
    def load_optimizer_state(self, state: dict[str, Any]) -> None:
        """Take up a state from :meth:`optimizer_state`."""

    def make_private(self, privacy: Any) -> None:
        """Train from now on by DP-SGD with ``privacy`` (a :class:`~genosynth.generate.private.PrivateTraining`):
        an OptionError naming ``dp_epsilon`` for a kind or configuration that cannot be."""
        raise OptionError("dp_epsilon", f"{self.kind} models cannot be trained with differential privacy")

    def default_max_grad_norm(self) -> float:
        """The clipping norm of an individual's gradient in private training when none is given."""
        return 1.0

    @classmethod
    def check_sampling_options(cls, config: Any, sites: Any, **options: Any) -> dict[str, Any]:
        """The sampling options of this kind validated against a model's ``config`` and ``sites`` (not its
        weights), with the defaults that do not depend on them; an OptionError for another kind's or a bad value
        (an option given as None counts as not given)."""
        options = {name: value for name, value in options.items() if value is not None}
        for name in options:
            if name not in cls.sampling_option_names:
                accepted = ", ".join(cls.sampling_option_names) or "none"
                raise OptionError(name, f"does not apply to {cls.kind} models (their sampling options: {accepted})")
        return dict(options)

    def parse_sampling_options(self, sites: Any, **options: Any) -> dict[str, Any]:
        """The sampling options of this kind with all their defaults (see :meth:`check_sampling_options`)."""
        return self.check_sampling_options(self.config, sites, **options)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
