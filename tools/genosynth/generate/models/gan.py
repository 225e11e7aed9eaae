"""The fully connected GAN of Yelmen et al. 2021 (preset ``yelmen2021``) and a Wasserstein GAN with gradient
penalty (preset ``wgan-gp``, Gulrajani et al. 2017, as Yelmen et al. 2023 use), optionally conditioned on
population labels and on the context sites before a window (a one-hot label and the context's alleles join
the generator's noise and the critic's input).

yelmen2021, as the paper's Keras code: generator latent 600 (standard normal) -> round(N/1.2) -> round(N/1.1)
-> N with tanh; discriminator N -> round(N/2) -> round(N/3) -> 1 with sigmoid; LeakyReLU 0.01; L2 1e-4 on
every weight matrix (applied as Adam's exactly equivalent coupled weight decay, so reported losses leave it
out); Adam; uniform noise in [0, 0.1)
subtracted from real haplotypes and real labels drawn in (0.9, 1]; one discriminator step on a real batch
and one on a generated batch, then one generator step, per batch of 32. Outputs below 0 become 0 and the
rest are rounded.

conv-wgan-gp: the convolutional WGAN-GP of Yelmen et al. 2023 for large windows (networks in
:mod:`genosynth.generate.models.conv_gan`), latent 128, with wgan-gp's recipe.

wgan-gp: same layer sizes as yelmen2021, sigmoid generator outputs (allele probabilities), a linear critic,
gradient penalty 10, 5 critic steps per generator step, Adam(betas 0.5, 0.9).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from genosynth._infra.errors import OptionError
from genosynth._infra.options import parse_choice, parse_float, parse_int
from genosynth.generate.models.base import DEFAULT_BATCH_SIZE, Config, Generator
from genosynth.generate.models.decoding import round_to_expected_counts

PRESETS = ("yelmen2021", "wgan-gp", "conv-wgan-gp")
CONV_CHANNELS = (128, 16)  # conv-wgan-gp: widest and narrowest channel counts (see models.conv_gan)
CONV_LATENT_SIZE = 128
LARGE_DATA_SITES = 5000  # the paper lowers the learning rates from about this many sites on


@dataclass(frozen=True)
class GanConfig(Config):
    """Architecture and recipe of one GAN; :meth:`for_preset` fills in a preset's values.

    Example
    -------
    >>> c = GanConfig.for_preset("yelmen2021", n_sites=805)
    >>> c.generator_hidden, c.discriminator_hidden, c.lr_discriminator, c.lr_generator
    ((671, 732), (402, 268), 0.0008, 0.0001)
    """

    preset: str
    n_sites: int
    n_classes: int
    latent_size: int
    generator_hidden: tuple[int, ...]
    discriminator_hidden: tuple[int, ...]
    batch_size: int
    lr_discriminator: float
    lr_generator: float
    betas: tuple[float, float]
    l2: float = 0.0
    real_noise: float = 0.0
    label_smoothing: float = 0.0
    gradient_penalty: float = 0.0
    critic_steps: int = 1
    context_sites: int = 0
    conv_channels: tuple[int, ...] = ()

    @classmethod
    def for_preset(
        cls,
        preset: str,
        *,
        n_sites: int,
        n_classes: int = 0,
        context_sites: int = 0,
        batch_size: int = DEFAULT_BATCH_SIZE,
        lr_discriminator: float | None = None,
        lr_generator: float | None = None,
        latent_size: int | None = None,
    ) -> GanConfig:
        """The configuration of ``preset`` for ``n_sites`` sites, with any given value overriding the preset's."""
        parse_choice("preset", preset, PRESETS)
        parse_int("batch_size", batch_size, minimum=1)
        conv = preset == "conv-wgan-gp"
        latent_size = (
            parse_int("latent_size", latent_size, minimum=1)
            if latent_size is not None
            else (CONV_LATENT_SIZE if conv else 600)
        )
        for name, value in (("lr_discriminator", lr_discriminator), ("lr_generator", lr_generator)):
            if value is not None:
                parse_float(name, value, exclusive_minimum=0)
        large = n_sites >= LARGE_DATA_SITES
        if preset == "yelmen2021":
            recipe: dict[str, Any] = {
                "lr_discriminator": 8e-5 if large else 8e-4,
                "lr_generator": 1e-5 if large else 1e-4,
                "betas": (0.9, 0.999),
                "l2": 1e-4,
                "real_noise": 0.1,
                "label_smoothing": 0.1,
            }
        else:
            recipe = {
                "lr_discriminator": 1e-4,
                "lr_generator": 1e-4,
                "betas": (0.5, 0.9),
                "gradient_penalty": 10.0,
                "critic_steps": 5,
            }
        if lr_discriminator is not None:
            recipe["lr_discriminator"] = lr_discriminator
        if lr_generator is not None:
            recipe["lr_generator"] = lr_generator
        if conv:
            layers: dict[str, Any] = {
                "generator_hidden": (),
                "discriminator_hidden": (),
                "conv_channels": CONV_CHANNELS,
            }
        else:
            layers = {
                "generator_hidden": (max(1, round(n_sites / 1.2)), max(1, round(n_sites / 1.1))),
                "discriminator_hidden": (max(1, round(n_sites / 2)), max(1, round(n_sites / 3))),
            }
        return cls(
            preset=preset,
            n_sites=n_sites,
            n_classes=n_classes,
            context_sites=context_sites,
            latent_size=latent_size,
            batch_size=batch_size,
            **layers,
            **recipe,
        )


def _mlp(sizes: list[int]):
    import torch.nn as nn

    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.01))
    return nn.Sequential(*layers)


class Gan(Generator):
    """Generator, discriminator (critic) and their optimizers for one configuration, on one device."""

    kind = "gan"
    config_class = GanConfig
    conditions_on_populations = True
    sampling_option_names = ("bernoulli", "expected_counts")

    def __init__(
        self,
        config: GanConfig,
        *,
        device: str,
        seed: int,
        frequencies: np.ndarray | None = None,
        condition_means: np.ndarray | None = None,
    ) -> None:
        import torch

        super().__init__(config, device=device, seed=seed)
        torch.manual_seed(seed)  # weight initialisation
        n, k = config.n_sites, config.n_classes + config.context_sites
        if config.conv_channels:
            from genosynth.generate.models.conv_gan import build_critic, build_generator

            widest, narrowest = config.conv_channels
            self.generator = build_generator(
                n_sites=n,
                latent_size=config.latent_size,
                n_condition=k,
                widest=widest,
                narrowest=narrowest,
                frequencies=frequencies,
            ).to(device)
            self.discriminator = build_critic(
                n_sites=n,
                n_classes=config.n_classes,
                context_sites=config.context_sites,
                widest=widest,
                narrowest=narrowest,
            ).to(device)
        else:
            self.generator = _mlp([config.latent_size + k, *config.generator_hidden, n]).to(device)
            self.discriminator = _mlp([n + k, *config.discriminator_hidden, 1]).to(device)
        self.optimizer_g = self._adam(self.generator, config.lr_generator)
        self.optimizer_d = self._adam(self.discriminator, config.lr_discriminator)
        self._steps = 0
        self._privacy = None  # private training: the engine, the critic wrapped by Opacus and its DPOptimizer

    def _adam(self, module, lr: float):
        """Adam with the L2 penalty l2 * sum(w²) on weight matrices (not biases), as Keras regularizers add it
        to the loss: its gradient 2 * l2 * w is exactly Adam's (coupled) weight_decay of 2 * l2."""
        import torch

        weights = [p for name, p in module.named_parameters() if name.endswith("weight")]
        biases = [p for name, p in module.named_parameters() if not name.endswith("weight")]
        return torch.optim.Adam(
            [{"params": weights, "weight_decay": 2 * self.config.l2}, {"params": biases, "weight_decay": 0.0}],
            lr=lr,
            betas=tuple(self.config.betas),
            fused=True,
        )  # fused: about 5x faster steps than the default on CPU

    def make_private(self, privacy) -> None:
        """Train the critic by DP-SGD (Opacus: per-individual clipping of its gradient on that individual's real
        haplotypes and as many generated ones, Gaussian noise); the generator learns only through the critic.
        Only the unconditional yelmen2021 loss: the gradient penalty of the WGAN presets needs per-example
        gradients of gradients, which Opacus does not compute, and a condition would feed the generator's step
        the training individuals' labels or contexts."""
        if self.config.gradient_penalty:
            raise OptionError(
                "dp_epsilon",
                f"the {self.config.preset} critic's gradient penalty needs per-example gradients of gradients, "
                "which Opacus does not compute; train privately with preset yelmen2021",
            )
        if self.config.n_classes or self.config.context_sites:
            raise OptionError(
                "dp_epsilon",
                "a private GAN cannot be conditioned (on population or context sites): the generator's "
                "step would read the training individuals' conditions",
            )
        critic, optimizer = privacy.private_module(self.discriminator, self.optimizer_d)
        self._privacy = (privacy, critic, optimizer)

    # -- state -------------------------------------------------------------------------------------------
    def model_tensors(self) -> dict[str, Any]:
        """The generator's and the critic's weights (the critic lets training resume and judge samples)."""
        state = {f"generator.{k}": v for k, v in self.generator.state_dict().items()}
        state.update({f"discriminator.{k}": v for k, v in self.discriminator.state_dict().items()})
        return state

    def load_model_tensors(self, tensors: dict[str, Any]) -> None:
        for prefix, module in (("generator.", self.generator), ("discriminator.", self.discriminator)):
            module.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})

    def optimizer_state(self) -> dict[str, Any]:
        """Both Adam states and the count of critic steps (which sets when the generator steps)."""
        return {
            "generator": self.optimizer_g.state_dict(),
            "discriminator": self.optimizer_d.state_dict(),
            "steps": self._steps,
        }

    def load_optimizer_state(self, state: dict[str, Any]) -> None:
        self.optimizer_g.load_state_dict(state["generator"])
        self.optimizer_d.load_state_dict(state["discriminator"])
        self._steps = int(state["steps"])

    # -- training ----------------------------------------------------------------------------------------
    def _generate_raw(self, n: int, rng, condition):
        import torch

        z = torch.randn(n, self.config.latent_size, generator=rng, device=self.device)
        if condition is not None:
            z = torch.cat([z, condition], dim=1)
        out = self.generator(z, rng) if self.config.conv_channels else self.generator(z)
        return torch.tanh(out) if self.config.preset == "yelmen2021" else torch.sigmoid(out)

    def _critic(self, x, condition):
        import torch

        if self.config.conv_channels:
            return self.discriminator(x, condition)
        return self.discriminator(x if condition is None else torch.cat([x, condition], dim=1)).squeeze(1)

    def train_epoch(self, data, condition, rng) -> dict[str, float]:
        """One pass over ``data`` (float32 0/1, n x N) in shuffled batches (the last partial batch dropped,
        as the paper's code does); ``condition`` holds the condition labels or is None. Returns mean losses."""
        import torch

        if self._privacy is not None:
            return self._train_epoch_private(data, rng)
        batch = self.config.batch_size
        order = torch.randperm(len(data), generator=rng, device=self.device)
        losses_d, losses_g = [], []
        for lo in range(0, len(data) - batch + 1, batch):
            index = order[lo : lo + batch]
            real = data[index]
            labels = None if condition is None else condition[index]
            if self.config.preset == "yelmen2021":
                d, g = self._yelmen_step(real, labels, rng)
            else:
                d, g = self._wgan_step(real, labels, rng)
            losses_d.append(d)
            if g is not None:
                losses_g.append(g)
        return {
            "loss_d": float(np.mean(losses_d)) if losses_d else float("nan"),
            "loss_g": float(np.mean(losses_g)) if losses_g else float("nan"),
        }

    def _train_epoch_private(self, data, rng) -> dict[str, float]:
        """An epoch of private steps: a Poisson batch of individuals, one private critic step on their real
        haplotypes and as many generated ones (both in one pass, each individual's rows clipped together), then
        one generator step. Only the generator's loss is returned: the critic's reads the training data."""
        import torch

        privacy, critic, optimizer = self._privacy
        losses_g = []
        for _ in range(privacy.steps_per_epoch):
            rows, inverse, count = privacy.batch()
            if count:
                self._private_critic_step(critic, optimizer, data[rows], inverse, rng)
            privacy.group_gradients(self.discriminator, torch.cat([inverse, inverse]), count)
            privacy.optimizer_step(optimizer)
            critic.disable_hooks()  # the generator's step needs no per-example gradients of the critic
            losses_g.append(self._generator_step(self.config.batch_size, None, rng))
            critic.enable_hooks()
        return {"loss_g": float(np.mean(losses_g))}

    def _private_critic_step(self, critic, optimizer, real, inverse, rng) -> None:
        """The critic's summed loss on ``real`` (as :meth:`_yelmen_step` perturbs it) and as many generated
        haplotypes, back-propagated into per-row gradients (the step itself is the privacy engine's)."""
        import torch
        import torch.nn.functional as F

        n, cfg = len(real), self.config
        noisy = real - cfg.real_noise * torch.rand(real.shape, generator=rng, device=self.device)
        targets = 1.0 - cfg.label_smoothing * torch.rand(n, generator=rng, device=self.device)
        with torch.no_grad():
            fake = self._generate_raw(n, rng, None)
        logits = critic(torch.cat([noisy, fake])).squeeze(1)
        loss = F.binary_cross_entropy_with_logits(
            logits, torch.cat([targets, torch.zeros(n, device=self.device)]), reduction="sum"
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()

    def _generator_step(self, n: int, labels, rng) -> float:
        """One generator step against the critic held fixed; its loss."""
        import torch
        import torch.nn.functional as F

        self.discriminator.requires_grad_(False)
        generated = self._generate_raw(n, rng, labels)
        loss_g = F.binary_cross_entropy_with_logits(self._critic(generated, labels), torch.ones(n, device=self.device))
        self.optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.optimizer_g.step()
        self.discriminator.requires_grad_(True)
        return loss_g.item()

    def _yelmen_step(self, real, labels, rng) -> tuple[float, float]:
        import torch
        import torch.nn.functional as F

        n = len(real)
        cfg = self.config
        noisy = real - cfg.real_noise * torch.rand(real.shape, generator=rng, device=self.device)
        targets = 1.0 - cfg.label_smoothing * torch.rand(n, generator=rng, device=self.device)
        with torch.no_grad():
            fake = self._generate_raw(n, rng, labels)
        loss_real = F.binary_cross_entropy_with_logits(self._critic(noisy, labels), targets)
        self.optimizer_d.zero_grad(set_to_none=True)
        loss_real.backward()
        self.optimizer_d.step()
        loss_fake = F.binary_cross_entropy_with_logits(self._critic(fake, labels), torch.zeros(n, device=self.device))
        self.optimizer_d.zero_grad(set_to_none=True)
        loss_fake.backward()
        self.optimizer_d.step()
        loss_g = self._generator_step(n, labels, rng)
        return (loss_real.item() + loss_fake.item()) / 2, loss_g

    def _wgan_step(self, real, labels, rng) -> tuple[float, float | None]:
        import torch

        n = len(real)
        cfg = self.config
        with torch.no_grad():
            fake = self._generate_raw(n, rng, labels)
        mix = torch.rand(n, 1, generator=rng, device=self.device)
        between = (mix * real + (1 - mix) * fake).requires_grad_(True)
        (gradient,) = torch.autograd.grad(self._critic(between, labels).sum(), between, create_graph=True)
        penalty = ((gradient.norm(2, dim=1) - 1) ** 2).mean()
        loss_d = self._critic(fake, labels).mean() - self._critic(real, labels).mean() + cfg.gradient_penalty * penalty
        self.optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.optimizer_d.step()
        self._steps += 1
        if self._steps % cfg.critic_steps:
            return loss_d.item(), None
        self.discriminator.requires_grad_(False)
        loss_g = -self._critic(self._generate_raw(n, rng, labels), labels).mean()
        self.optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.optimizer_g.step()
        self.discriminator.requires_grad_(True)
        return loss_d.item(), loss_g.item()

    # -- sampling ----------------------------------------------------------------------------------------
    @classmethod
    def check_sampling_options(cls, config: Any, sites: Any, **options: Any) -> dict[str, Any]:
        """``bernoulli`` (default False): draw alleles from the outputs as probabilities; ``expected_counts``
        (default False): round the haplotypes generated together to their expected allele counts instead of each
        output at 0.5; not both."""
        options = super().check_sampling_options(config, sites, **options)
        bernoulli, expected_counts = bool(options.get("bernoulli", False)), bool(options.get("expected_counts", False))
        if bernoulli and expected_counts:
            raise OptionError("expected_counts", "rounds the outputs and bernoulli draws from them: give one")
        return {"bernoulli": bernoulli, "expected_counts": expected_counts}

    def generate(
        self, n: int, rng, *, condition=None, bernoulli: bool = False, expected_counts: bool = False
    ) -> np.ndarray:
        """``n`` haplotypes (uint8 n x N): the paper's rounding (negative outputs to 0, then round), alleles drawn
        from the outputs taken as probabilities with ``bernoulli``, or, with ``expected_counts``, at each site the
        round(sum of outputs) haplotypes with the highest outputs carrying the allele
        (:func:`~genosynth.generate.models.decoding.round_to_expected_counts`), so that an allele whose output stays below
        0.5 keeps its share of carriers."""
        import torch

        with torch.no_grad():
            out = self._generate_raw(n, rng, condition).clamp(0, 1)
            if bernoulli:
                alleles = torch.bernoulli(out, generator=rng)
            else:
                alleles = round_to_expected_counts(out) if expected_counts else torch.round(out)
        return alleles.to(torch.uint8).cpu().numpy()
