"""Differentially private training (DP-SGD): per-example gradient clipping and Gaussian noise, with Opacus's
Rényi accountant, for the GAN's critic, the RBM's contrastive gradient and the diffusion denoiser.

The unit of privacy is the individual: each optimizer step draws individuals by Poisson sampling (each one
independently with probability ``sample_rate``) and takes all of their haplotypes; the gradient of each
individual's haplotypes together is clipped to ``max_grad_norm`` before the sum is noised, so the guarantee
(epsilon, delta) holds for adding or removing one person, not only one haplotype. The noise multiplier is what
Opacus's :func:`~opacus.accountants.utils.get_noise_multiplier` finds for the budget over the planned steps
(``epochs`` times the steps of an epoch), and training stops before a step that would overspend it.

What the guarantee covers and what it does not (the sites, the held-out individuals, the population counts) is
in the documentation's concepts page on differential privacy.

Example
-------
>>> options = PrivacyOptions(epsilon=3.0)
>>> engine = PrivateTraining(options, individuals=np.repeat(np.arange(500), 2), batch_size=32, epochs=10,
...                          default_max_grad_norm=1.0)
>>> round(engine.sample_rate, 4), engine.steps_per_epoch, engine.delta
(0.032, 31, 0.0002)
>>> engine.noise_multiplier > 0.5
True
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import numpy as np

from genosynth._infra.errors import OptionError
from genosynth._infra.options import parse_float

ACCOUNTANT = "rdp"  # Opacus's Rényi accountant of the subsampled Gaussian mechanism
DELTA_FRACTION = 10  # the default delta is 1 / (DELTA_FRACTION x the training individuals)
EPSILON_TOLERANCE = 0.01  # of the search for the noise multiplier (Opacus's default)
# Rényi orders the accountant minimises over: Opacus's default ones and larger orders, which give the tightest
# bound at large epsilon or few steps
ALPHAS = tuple(
    [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64)) + list(range(64, 257, 8)) + list(range(288, 1025, 32))
)
OPTION_NAMES = ("dp_epsilon", "dp_delta", "dp_max_grad_norm")


@dataclass(frozen=True)
class PrivacyOptions:
    """The privacy budget asked for.

    Parameters
    ----------
    epsilon
        The epsilon of the (epsilon, delta) guarantee per individual, above 0.
    delta
        Below 1 / the training individuals; None: 1 / (10 x the training individuals).
    max_grad_norm
        The clipping norm of each individual's gradient; None: the model kind's default.

    Example
    -------
    >>> from genosynth.generate.training import TrainingOptions
    >>> PrivacyOptions.from_options(TrainingOptions(epochs=10, dp_epsilon=3))
    PrivacyOptions(epsilon=3.0, delta=None, max_grad_norm=None)
    >>> PrivacyOptions.from_options(TrainingOptions(epochs=10)) is None
    True
    """

    epsilon: float
    delta: float | None = None
    max_grad_norm: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "epsilon", parse_float("dp_epsilon", self.epsilon, exclusive_minimum=0))
        if self.delta is not None:
            object.__setattr__(self, "delta", parse_float("dp_delta", self.delta, exclusive_minimum=0, below=1))
        if self.max_grad_norm is not None:
            norm = parse_float("dp_max_grad_norm", self.max_grad_norm, exclusive_minimum=0)
            object.__setattr__(self, "max_grad_norm", norm)

    @classmethod
    def from_options(cls, options: Any) -> PrivacyOptions | None:
        """The budget of :class:`~genosynth.generate.training.TrainingOptions` ``options`` (its ``dp_epsilon``,
        ``dp_delta`` and ``dp_max_grad_norm``); None when ``dp_epsilon`` is not given (an OptionError when only
        the others are)."""
        epsilon, delta, norm = (getattr(options, name) for name in OPTION_NAMES)
        if epsilon is None:
            for name, value in (("dp_delta", delta), ("dp_max_grad_norm", norm)):
                if value is not None:
                    raise OptionError(name, "applies only to private training: give dp_epsilon too")
            return None
        return cls(epsilon=epsilon, delta=delta, max_grad_norm=norm)


class PrivateTraining:
    """The privacy engine of one training run: Poisson sampling of individuals, the noise multiplier, the
    accountant, and the per-example clipping and noise the model kinds use (Opacus's
    :class:`~opacus.optimizers.DPOptimizer` for networks, :meth:`clip_factors` and :meth:`noise` for the RBM).

    ``individuals`` holds the individual (a sample name or any other label) of each training haplotype; a step
    takes each individual with probability ``batch_size`` / haplotypes, so that a step takes ``batch_size``
    haplotypes on average, and an epoch is haplotypes // ``batch_size`` steps.
    """

    def __init__(
        self,
        options: PrivacyOptions,
        *,
        individuals: np.ndarray,
        batch_size: int,
        epochs: int,
        default_max_grad_norm: float,
        device: str = "cpu",
    ) -> None:
        import torch
        from opacus.accountants.utils import get_noise_multiplier

        labels, rows_group = np.unique(np.asarray(individuals), return_inverse=True)
        self.n_individuals = len(labels)
        self.n_haplotypes = len(rows_group)
        if options.delta is not None and options.delta >= 1 / self.n_individuals:
            raise OptionError(
                "dp_delta",
                f"{options.delta:g} is not below 1 / {self.n_individuals} training individuals: such a delta "
                "allows one individual's data to be published outright",
            )
        self.epsilon = options.epsilon
        self.delta = options.delta if options.delta is not None else 1 / (DELTA_FRACTION * self.n_individuals)
        self.max_grad_norm = options.max_grad_norm if options.max_grad_norm is not None else default_max_grad_norm
        self.sample_rate = batch_size / self.n_haplotypes
        self.steps_per_epoch = max(1, self.n_haplotypes // batch_size)
        self.expected_individuals = self.sample_rate * self.n_individuals
        self.planned_steps = epochs * self.steps_per_epoch
        self.noise_multiplier = float(
            get_noise_multiplier(
                target_epsilon=self.epsilon,
                target_delta=self.delta,
                sample_rate=self.sample_rate,
                steps=self.planned_steps,
                accountant=ACCOUNTANT,
                epsilon_tolerance=EPSILON_TOLERANCE,
                alphas=list(ALPHAS),
            )
        )
        self.steps = 0
        self._epsilons: dict[int, float] = {0: 0.0}  # epsilon after so many steps
        self.device = device
        # the batches and the noise come from a generator seeded from the operating system, recorded nowhere: with
        # the training seed (in every provenance record) an attacker could replay them and subtract the noise
        self.secret = torch.Generator(device=device).manual_seed(secrets.randbits(63))
        self._group_of_row = torch.as_tensor(rows_group, device=device)

    # -- sampling ----------------------------------------------------------------------------------------
    def batch(self) -> tuple[Any, Any, int]:
        """One Poisson batch: (rows of the training data, the batch's individual of each row as 0..k-1, k)."""
        import torch

        chosen = torch.rand(self.n_individuals, generator=self.secret, device=self.device) < self.sample_rate
        rows = torch.nonzero(chosen[self._group_of_row]).squeeze(1)
        groups, inverse = torch.unique(self._group_of_row[rows], return_inverse=True)
        return rows, inverse, len(groups)

    # -- networks: Opacus ------------------------------------------------------------------------------
    def private_module(self, module, optimizer, *, extra_examples: int = 0):
        """``module`` wrapped by Opacus's GradSampleModule (per-example gradients of a summed loss) and
        ``optimizer`` by its DPOptimizer (clipping to :attr:`max_grad_norm`, noise of :attr:`noise_multiplier`
        times it, divided by the expected examples of a step: its individuals plus ``extra_examples`` that hold
        no training data, such as a critic's generated haplotypes)."""
        from opacus import GradSampleModule
        from opacus.optimizers import DPOptimizer

        wrapped = GradSampleModule(module, loss_reduction="sum")
        private = DPOptimizer(
            optimizer,
            noise_multiplier=self.noise_multiplier,
            max_grad_norm=self.max_grad_norm,
            expected_batch_size=max(1, round(self.expected_individuals + extra_examples)),
            loss_reduction="mean",  # of the noised sum: divided by the expected examples
        )
        return wrapped, private

    @staticmethod
    def group_gradients(module, inverse, count: int) -> None:
        """Sums the per-example gradients of ``module``'s parameters (rows of the batch) by example (``inverse``
        gives each row's example, 0..count-1), so that what is clipped is one example's whole gradient: both
        haplotypes of an individual. With no example at all (``count`` 0, nothing run forward), one zero
        gradient stands in, so that the step still adds its noise."""
        import torch

        for p in module.parameters():
            if not p.requires_grad:
                continue
            if not count:
                p.grad_sample = torch.zeros((1, *p.shape), dtype=p.dtype, device=p.device)
                continue
            sample = p.grad_sample
            if isinstance(sample, list):
                sample = torch.cat(sample, dim=0)
            summed = torch.zeros((count, *sample.shape[1:]), dtype=sample.dtype, device=sample.device)
            p.grad_sample = summed.index_add_(0, inverse, sample)

    def optimizer_step(self, optimizer) -> None:
        """A DPOptimizer's step with its noise drawn from :attr:`secret`, then accounted."""
        optimizer.generator = self.secret
        optimizer.step()
        self.account()

    # -- the RBM: clipping and noise by hand -------------------------------------------------------------
    def clip_factors(self, norms):
        """min(1, max_grad_norm / norm) of each example's gradient norm."""
        return (self.max_grad_norm / (norms + 1e-6)).clamp(max=1.0)

    def noise(self, shape):
        """Gaussian noise of standard deviation noise_multiplier x max_grad_norm."""
        import torch

        std = self.noise_multiplier * self.max_grad_norm
        return std * torch.randn(shape, generator=self.secret, device=self.device)

    # -- accounting --------------------------------------------------------------------------------------
    def account(self) -> None:
        """Counts one private step (all steps share one noise multiplier and sampling rate, so the accountant
        needs only their number)."""
        self.steps += 1

    def epsilon_after(self, steps: int) -> float:
        """Opacus's Rényi accountant's epsilon (at :attr:`delta`) after ``steps`` steps."""
        from opacus.accountants import RDPAccountant

        if steps not in self._epsilons:
            accountant = RDPAccountant()
            accountant.history = [(self.noise_multiplier, self.sample_rate, steps)]
            self._epsilons[steps] = float(accountant.get_epsilon(delta=self.delta, alphas=list(ALPHAS)))
        return self._epsilons[steps]

    @property
    def epsilon_spent(self) -> float:
        """The epsilon the steps taken so far have spent."""
        return self.epsilon_after(self.steps)

    def can_train_epoch(self) -> bool:
        """Whether one more epoch of steps stays within the budget."""
        return self.epsilon_after(self.steps + self.steps_per_epoch) <= self.epsilon

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps: the steps taken and the noise they were taken with."""
        return {"steps": self.steps, "noise_multiplier": self.noise_multiplier, "sample_rate": self.sample_rate}

    def load_state(self, state: dict[str, Any], *, where: str) -> None:
        """Continues from a checkpoint's :meth:`state`, with its noise (a resumed run asking for more epochs
        than planned stops when the budget is spent)."""
        if state is None:
            raise OptionError("dp_epsilon", f"{where} was trained without differential privacy; resume needs the same")
        if abs(float(state["sample_rate"]) - self.sample_rate) > 1e-12:
            raise OptionError("dp_epsilon", f"{where} was trained privately with another sampling rate (batch size)")
        self.noise_multiplier = float(state["noise_multiplier"])
        self.steps = int(state["steps"])
        self._epsilons = {0: 0.0}

    def record(self) -> dict[str, Any]:
        """The guarantee as the model file, the provenance and privacy-check record it."""
        from opacus import __version__

        return {
            "epsilon": self.epsilon,
            "epsilon_spent": round(self.epsilon_spent, 6),
            "delta": self.delta,
            "accountant": ACCOUNTANT,
            "max_grad_norm": self.max_grad_norm,
            "noise_multiplier": self.noise_multiplier,
            "sample_rate": self.sample_rate,
            "steps": self.steps,
            "unit": "individual",
            "library": f"opacus {__version__}",
        }
