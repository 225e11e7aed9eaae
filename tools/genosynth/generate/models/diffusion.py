"""A denoising diffusion generator of haplotypes (``train-diffusion``), after Kenneweg et al. 2024 ("Generating
synthetic genotypes using diffusion models"), with the representation chosen differently.

Representation (``representation``):

- ``sites``: each haplotype as a vector of ±1 alleles (2h - 1) diffused with Gaussian noise,
  denoised by a 1-D convolutional U-Net over the site axis (:mod:`genosynth.generate.models.diffusion_net`). Alleles stay
  where they are on the chromosome, so the network sees LD as local structure and its parameters grow linearly
  with the sites (a learned location channel per site is the only per-site parameter); a window's context sites
  enter as known positions in front of the window (the network sees the junction), and samples are the signs of
  the denoised vectors. Gaussian diffusion of ±1 data is the plain, well-understood choice for binary data (it
  is what "analog bits" diffusion does); a discrete (Bernoulli) diffusion needs a transition kernel per site and
  gives up the deterministic DDIM sampler.
- ``pca`` (the default, :func:`default_representation`): Kenneweg et al.'s choice: the haplotypes' top principal components are diffused and denoised by a
  residual MLP, and samples are mapped back through the components: an expected allele per site, from which each
  allele is drawn, or rounded to the batch's expected counts (at each site the round(sum) haplotypes with the
  highest expected allele carry it: rare alleles land together on the haplotypes most like their carriers, where
  rounding each at 0.5 would drop them), whichever keeps more of the training haplotypes' own LD through the
  components (chosen when they are fitted: drawing on a panel of common SNPs, where rounding gives the haplotypes
  near a mode alike alleles; rounding on a dense window, where independent draws scatter the rare alleles;
  README). The components share one scale (their mean variance made 1), so the leading ones, where population
  structure lies, keep their larger variance: they stay above the noise longest and weigh most in the loss, as
  they do in the haplotypes (the components are a rotation of them). Each scaled to unit variance instead, the few
  structured components weigh no more than hundreds of nearly Gaussian ones, and the MLP learned nothing but the
  Gaussian (README). It compresses well but loses what the components leave out (rare variants, fine LD), which
  the benchmark measures.

Schedule and objective: continuous time t in [0, 1] with the cosine schedule (alpha = cos(phi), sigma =
sin(phi), phi = pi/2 (t + s)/(1 + s), s = 0.008: pure noise at t = 1) and v-prediction (v = alpha eps - sigma x0),
which stays well conditioned at both ends of the schedule. Training draws t uniformly; the weights kept for
sampling are an exponential moving average (decay 0.999, warmed up) of the trained ones. Self-conditioning
(Chen, Zhang and Hinton 2023, "Analog bits", where binary data gained most from it): the denoiser also reads an
estimate of the clean data, its own from the previous sampling step, and in training, for half of each batch,
its own from the same noisy input (computed without gradient), else zeros.

Sampling: the deterministic probability-flow path from pure noise, solved by DPM-Solver++(2M) (Lu et al. 2022,
"DPM-Solver++: fast solver for guided sampling of diffusion probabilistic models"; its first-order case is DDIM)
in ``steps`` steps: the first from t = 1 to log-SNR ``FIRST_LOGSNR``, the rest equally spaced in log-SNR down to
t = 0; the denoised estimate is clipped to [-1, 1] at every step (the README's benchmark section compares it with
DDIM). A population-conditioned model is trained with its label dropped (zeroed) for 10% of the haplotypes and
sampled with classifier-free guidance: v = v_uncond + guidance (v_cond - v_uncond), guidance 1 being the plain
conditional model and larger values sharpening the population's features.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from genosynth._infra.errors import OptionError, TrainingDiverged
from genosynth._infra.options import parse_choice, parse_float, parse_int
from genosynth.generate.models.base import DEFAULT_BATCH_SIZE, Config, Generator
from genosynth.generate.models.decoding import round_to_expected_counts

REPRESENTATIONS = ("sites", "pca")


def default_representation(*, private: bool = False) -> str:
    """The representation the benchmarks recommend at every size measured (docs: choosing a generator): ``pca``,
    which met every target on the 805 SNPs and chained best on 1500-site windows within CPU budgets, where the
    U-Net (``sites``) was still learning; ``sites`` under differentially private training, which the components
    (fitted on the training haplotypes without noise) cannot offer.

    >>> default_representation(), default_representation(private=True)
    ('pca', 'sites')
    """
    return "sites" if private else "pca"


SCHEDULE_OFFSET = 0.008  # the cosine schedule's s (Nichol and Dhariwal 2021)
LABEL_DROPOUT = 0.1  # share of haplotypes trained without their population label (classifier-free guidance)
EMA_DECAY = 0.999
DEFAULT_STEPS = 20
FIRST_LOGSNR = -5.0  # log(alpha / sigma) where the sampler's first step, from pure noise, ends
CPU_CHUNK = 256  # haplotypes denoised together on CPU: fewer pay per-call overheads, more leave the cache (README)
MAX_PCA_COMPONENTS = 256
DECODING_BAND = 100  # pca: LD of the site pairs at most this many sites apart chooses drawing or rounding
DECODING_HAPLOTYPES = 1000  # pca: training haplotypes that choice is measured on


@dataclass(frozen=True)
class DiffusionConfig(Config):
    """Architecture and recipe of one diffusion model; :meth:`for_sites` fills in the defaults.

    Example
    -------
    >>> c = DiffusionConfig.for_sites(805, n_haplotypes=1600)
    >>> c.representation, c.channels, c.pca_components
    ('sites', (32, 128), 0)
    >>> DiffusionConfig.for_sites(805, n_haplotypes=1600, representation="pca").pca_components
    256
    """

    n_sites: int
    n_classes: int
    representation: str
    channels: tuple[int, ...]
    patch: int
    pca_components: int
    mlp_width: int
    lr: float
    batch_size: int
    context_sites: int = 0
    self_conditioning: bool = True

    @classmethod
    def for_sites(
        cls,
        n_sites: int,
        *,
        n_haplotypes: int,
        n_classes: int = 0,
        context_sites: int = 0,
        representation: str = "sites",
        channels: tuple[int, int] = (32, 128),
        patch: int = 8,
        pca_components: int | None = None,
        mlp_width: int = 1024,
        lr: float = 1e-3,
        batch_size: int = DEFAULT_BATCH_SIZE,
        self_conditioning: bool = True,
    ) -> DiffusionConfig:
        """The configuration for ``n_sites`` sites and ``n_haplotypes`` training haplotypes: a U-Net whose
        channels widen from ``channels[0]`` to ``channels[1]`` (``sites``), or ``pca_components`` components
        (default: as many as the data allows, at most 256) denoised by an MLP ``mlp_width`` wide (``pca``)."""
        parse_choice("representation", representation, REPRESENTATIONS)
        narrowest, widest = (parse_int("channels", c, minimum=8) for c in channels)
        if narrowest > widest:
            raise OptionError("channels", f"({narrowest}, {widest}): the finest level's channels exceed the coarsest's")
        parse_int("patch", patch, minimum=1, maximum=64)
        parse_int("mlp_width", mlp_width, minimum=8)
        parse_int("batch_size", batch_size, minimum=2)
        parse_float("lr", lr, exclusive_minimum=0)
        components = 0
        if representation == "pca":
            most = max(1, min(n_sites, n_haplotypes - 1))
            components = (
                min(most, MAX_PCA_COMPONENTS)
                if pca_components is None
                else parse_int("pca_components", pca_components, minimum=1, maximum=most)
            )
        return cls(
            n_sites=n_sites,
            n_classes=n_classes,
            representation=representation,
            channels=(narrowest, widest),
            patch=patch,
            pca_components=components,
            mlp_width=mlp_width,
            lr=lr,
            batch_size=batch_size,
            context_sites=context_sites,
            self_conditioning=bool(self_conditioning),
        )


def noise_levels(t):
    """(alpha, sigma) of the cosine schedule at times ``t`` (a tensor in [0, 1])."""
    import torch

    phi = (t + SCHEDULE_OFFSET) / (1 + SCHEDULE_OFFSET) * (math.pi / 2)
    return torch.cos(phi), torch.sin(phi)


def sampling_times(steps: int) -> list[float]:
    """The ``steps + 1`` times of the sampler, from 1 (pure noise) to 0: the first step ends where the log
    signal-to-noise ratio log(alpha / sigma) is ``FIRST_LOGSNR``, the others are equally long in log-SNR.

    Example
    -------
    >>> [round(t, 3) for t in sampling_times(4)]
    [1.0, 0.996, 0.902, 0.17, 0.0]
    """

    def time_of(logsnr: float) -> float:  # inverse of the cosine schedule: alpha / sigma = cot(phi)
        phi = math.atan(math.exp(-logsnr))
        return phi / (math.pi / 2) * (1 + SCHEDULE_OFFSET) - SCHEDULE_OFFSET

    if steps == 1:
        return [1.0, 0.0]
    alpha, sigma = _levels(0.0)
    last = math.log(alpha / sigma)  # log-SNR at t = 0
    return [1.0] + [max(0.0, time_of(FIRST_LOGSNR + (last - FIRST_LOGSNR) * i / (steps - 1))) for i in range(steps)]


def _levels(t: float) -> tuple[float, float]:
    """(alpha, sigma) at one time as floats, computed in double precision (alpha(1) is about 6e-17, where float32
    gives a negative number)."""
    import torch

    alpha, sigma = noise_levels(torch.tensor(t, dtype=torch.float64))
    return float(alpha), float(sigma)


class Diffusion(Generator):
    """The denoiser, its moving average (what samples), its optimizer and, for ``pca``, the components."""

    kind = "diffusion"
    config_class = DiffusionConfig
    optional_tensor_names = ("pca.draw",)  # files from before the choice of decoding: they round, as they did
    conditions_on_populations = True
    sampling_option_names = ("steps", "guidance", "bernoulli")

    def __init__(
        self,
        config: DiffusionConfig,
        *,
        device: str,
        seed: int,
        frequencies: np.ndarray | None = None,
        condition_means: np.ndarray | None = None,
    ) -> None:
        import torch

        super().__init__(config, device=device, seed=seed)
        torch.manual_seed(seed)  # weight initialisation
        self.network = self._build().to(device)
        self.average = self._build().to(device)
        self.average.load_state_dict(self.network.state_dict())
        self.average.requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=config.lr)
        self._steps = 0
        self._privacy = None  # private training: the engine, the denoiser wrapped by Opacus and its DPOptimizer
        k = config.pca_components
        # pca: mean haplotype (0/1), components (k x sites), the latent scale and whether sampled alleles are
        # drawn (1) or rounded (0); fitted on the first epoch's data
        self.pca = {
            "mean": torch.zeros(config.n_sites if k else 0, device=device),
            "components": torch.zeros(k, config.n_sites if k else 0, device=device),
            "scale": torch.zeros(k, device=device),
            "draw": torch.zeros(1, device=device),
        }

    def _build(self) -> Any:
        from genosynth.generate.models.diffusion_net import build_mlp_denoiser, build_unet

        cfg = self.config
        if cfg.representation == "sites":
            return build_unet(
                n_sites=cfg.n_sites,
                context_sites=cfg.context_sites,
                n_classes=cfg.n_classes,
                channels=cfg.channels,
                patch=cfg.patch,
            )
        return build_mlp_denoiser(
            size=cfg.pca_components, width=cfg.mlp_width, n_condition=cfg.n_classes + cfg.context_sites
        )

    def make_private(self, privacy) -> None:
        """Train the denoiser by DP-SGD (Opacus: each individual's gradient clipped, Gaussian noise). The pca
        representation is refused: its components are fitted on the training haplotypes without noise. So is
        conditioning on population (the label frequencies a model keeps are counts of the training
        individuals). The U-Net's per-site location embedding stays at its random start, a fixed random code
        of each site (Opacus computes no per-example gradient of a bare parameter)."""
        if self.config.representation == "pca":
            raise OptionError(
                "dp_epsilon",
                "the pca representation's components are fitted on the training haplotypes without privacy; "
                "train privately with representation sites",
            )
        self.network.location.requires_grad_(False)
        network, optimizer = privacy.private_module(self.network, self.optimizer)
        self._privacy = (privacy, network, optimizer)

    # -- state -------------------------------------------------------------------------------------------
    def model_tensors(self) -> dict[str, Any]:
        """The averaged denoiser (what samples), the trained one (what resume continues) and the components."""
        state = {f"average.{k}": v for k, v in self.average.state_dict().items()}
        state.update({f"network.{k}": v for k, v in self.network.state_dict().items()})
        state.update({f"pca.{k}": v for k, v in self.pca.items()})
        return state

    def load_model_tensors(self, tensors: dict[str, Any]) -> None:
        for prefix, module in (("average.", self.average), ("network.", self.network)):
            module.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
        # a model file from before the choice of decoding (no pca.draw) rounds, as it did
        self.pca = {
            name: (tensors[f"pca.{name}"] if name != "draw" else tensors.get("pca.draw", empty)).to(self.device)
            for name, empty in self.pca.items()
        }

    def optimizer_state(self) -> dict[str, Any]:
        return {"adam": self.optimizer.state_dict(), "steps": self._steps}

    def load_optimizer_state(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["adam"])
        self._steps = int(state["steps"])

    # -- representation ----------------------------------------------------------------------------------
    def _fit_pca(self, data) -> None:
        import torch

        mean = data.mean(0)
        _, _, vh = torch.linalg.svd((data - mean).to(torch.float64), full_matrices=False)
        components = vh[: self.config.pca_components].to(torch.float32)
        spread = ((data - mean) @ components.T).var(0).mean().sqrt().clamp(min=1e-6)  # one scale for all
        self.pca = {
            "mean": mean,
            "components": components,
            "scale": spread.expand(len(components)).clone(),
            "draw": torch.zeros(1, device=data.device),
        }
        if self._drawing_keeps_more_ld(data):
            self.pca["draw"].fill_(1.0)

    def _drawing_keeps_more_ld(self, data) -> bool:
        """Whether drawing each allele from its reconstruction keeps more of the training haplotypes' LD than
        rounding it: r² of the site pairs at most ``DECODING_BAND`` sites apart, in ``DECODING_HAPLOTYPES``
        training haplotypes and in each decoding of them mapped through the components, correlated (Pearson).
        Measured with a generator of its own, so training draws the same numbers either way."""
        import torch

        if data.shape[1] < 2:  # no pairs of sites, no LD to keep
            return False
        generator = torch.Generator(device=data.device).manual_seed(0)
        rows = torch.randperm(len(data), generator=generator, device=data.device)[:DECODING_HAPLOTYPES]
        real = data[rows]
        expected = self._expected_alleles(self._encode(real))
        target = _banded_r_squared(real)
        drawn = _banded_r_squared(torch.bernoulli(expected.clamp(0, 1), generator=generator))
        rounded = _banded_r_squared(round_to_expected_counts(expected).to(real.dtype))
        correlation = torch.corrcoef(torch.stack([target, drawn, rounded]))[0].nan_to_num(-1.0)  # NaN: no LD at all
        return bool(correlation[1] > correlation[2])

    def _expected_alleles(self, latent):
        """Scaled principal components mapped back to sites (n x sites): about 0 to 1, not clipped, so that
        their sum over haplotypes keeps the allele counts the components imply."""
        return (latent * self.pca["scale"]) @ self.pca["components"] + self.pca["mean"]

    def _encode(self, haplotypes):
        """Clean training vectors x0 of 0/1 haplotypes: ±1 alleles, or scaled principal components."""
        if self.config.representation == "sites":
            return 2 * haplotypes - 1
        return (haplotypes - self.pca["mean"]) @ self.pca["components"].T / self.pca["scale"]

    def _decode(self, x0, rng, bernoulli: bool):
        """Alleles (uint8) of denoised vectors: the sign (or a draw with probability (1 + x)/2) of each site, or
        the components mapped back (an expected allele per site) and rounded to the expected counts of the
        haplotypes decoded together (or drawn)."""
        import torch

        if self.config.representation == "sites":
            probability = ((x0 + 1) / 2).clamp(0, 1)
            return (torch.bernoulli(probability, generator=rng) if bernoulli else probability > 0.5).to(torch.uint8)
        expected = self._expected_alleles(x0)
        return (
            torch.bernoulli(expected.clamp(0, 1), generator=rng) if bernoulli else round_to_expected_counts(expected)
        ).to(torch.uint8)

    # -- training ----------------------------------------------------------------------------------------
    def train_epoch(self, data, condition, rng) -> dict[str, float]:
        """One pass over ``data`` in shuffled batches (the last partial one dropped): v-prediction loss at
        uniform times, population labels dropped for LABEL_DROPOUT of the haplotypes. Returns the mean loss."""
        import torch

        if self._privacy is not None:
            return self._train_epoch_private(data, condition, rng)
        if self.config.pca_components and not bool(self.pca["scale"].any()):
            self._fit_pca(data)
        batch = self.config.batch_size
        order = torch.randperm(len(data), generator=rng, device=self.device)
        losses = []
        classes = self.config.n_classes
        for lo in range(0, len(data) - batch + 1, batch):
            index = order[lo : lo + batch]
            x0 = self._encode(data[index])
            labels = None if condition is None else condition[index]
            if classes:
                keep = (torch.rand(batch, 1, generator=rng, device=self.device) >= LABEL_DROPOUT).to(torch.float32)
                labels = torch.cat([labels[:, :classes] * keep, labels[:, classes:]], dim=1)
            t = torch.rand(batch, generator=rng, device=self.device)
            noise = torch.randn(x0.shape, generator=rng, device=self.device)
            alpha, sigma = (s.unsqueeze(1) for s in noise_levels(t))
            noisy = alpha * x0 + sigma * noise
            estimate = self._self_condition(noisy, t, labels, alpha, sigma, rng)
            target = alpha * noise - sigma * x0
            loss = ((self.network(noisy, t, labels, estimate) - target) ** 2).mean()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self._steps += 1
            self._update_average()
            losses.append(loss.item())
        mean = float(np.mean(losses)) if losses else float("nan")
        if not math.isfinite(mean):
            raise TrainingDiverged(
                f"the diffusion model diverged (loss {mean}) at learning rate {self.config.lr:g}; "
                "train again with a lower learning rate"
            )
        return {"loss": mean}

    def _train_epoch_private(self, data, condition, rng) -> dict[str, float]:
        """An epoch of private steps on Poisson batches of individuals: the summed v-prediction loss (each
        haplotype's mean over sites) back-propagated into per-row gradients, summed per individual, clipped,
        noised (Opacus's DPOptimizer) and divided by the expected individuals. Returns no figures: the loss
        reads the training data."""
        import torch

        privacy, network, optimizer = self._privacy
        for _ in range(privacy.steps_per_epoch):
            rows, inverse, count = privacy.batch()
            optimizer.zero_grad(set_to_none=True)
            if count:
                x0 = self._encode(data[rows])
                labels = None if condition is None else condition[rows]
                t = torch.rand(len(rows), generator=rng, device=self.device)
                noise = torch.randn(x0.shape, generator=rng, device=self.device)
                alpha, sigma = (s.unsqueeze(1) for s in noise_levels(t))
                noisy = alpha * x0 + sigma * noise
                estimate = self._self_condition(noisy, t, labels, alpha, sigma, rng)
                target = alpha * noise - sigma * x0
                ((network(noisy, t, labels, estimate) - target) ** 2).mean(1).sum().backward()
            privacy.group_gradients(self.network, inverse, count)
            privacy.optimizer_step(optimizer)
            self._steps += 1
            self._update_average()
        if not all(bool(torch.isfinite(p).all()) for p in self.network.parameters()):
            raise TrainingDiverged(
                f"the diffusion model diverged at learning rate {self.config.lr:g}; train again with a lower "
                "learning rate"
            )
        return {}

    def _self_condition(self, noisy, t, labels, alpha, sigma, rng):
        """The estimate of x0 the network is given: zeros, or (self-conditioning, for half of the batch) its own
        estimate from the same noisy input, as the sampler gives it its previous step's."""
        import torch

        estimate = torch.zeros_like(noisy)
        if not self.config.self_conditioning:
            return estimate
        rows = torch.nonzero(torch.rand(len(noisy), generator=rng, device=self.device) < 0.5).squeeze(1)
        if len(rows):
            part = None if labels is None else labels[rows]
            with torch.no_grad():
                v = self.network(noisy[rows], t[rows], part, estimate[rows])
                estimate[rows] = self._denoised(noisy[rows], v, alpha[rows], sigma[rows])
        return estimate

    def _denoised(self, noisy, v, alpha, sigma):
        """The estimate of x0 from the predicted v (clipped to [-1, 1] for ±1 alleles)."""
        x0 = alpha * noisy - sigma * v
        return x0.clamp(-1, 1) if self.config.representation == "sites" else x0

    def _update_average(self) -> None:
        import torch

        decay = min(EMA_DECAY, (1 + self._steps) / (10 + self._steps))
        with torch.no_grad():
            for average, trained in zip(self.average.parameters(), self.network.parameters()):
                average.lerp_(trained, 1 - decay)
            for average, trained in zip(self.average.buffers(), self.network.buffers()):
                average.copy_(trained)

    # -- sampling ----------------------------------------------------------------------------------------
    @classmethod
    def check_sampling_options(cls, config: Any, sites: Any, **options: Any) -> dict[str, Any]:
        """``steps`` (solver steps, default 20), ``guidance`` (classifier-free guidance scale of a
        population-conditioned model, default 1: the conditional model itself) and ``bernoulli`` (draw each
        allele with the denoised probability instead of rounding; None when not given: its default is the
        model's, see :meth:`parse_sampling_options`)."""
        options = super().check_sampling_options(config, sites, **options)
        steps = options.get("steps")
        guidance = options.get("guidance")
        return {
            "steps": DEFAULT_STEPS if steps is None else parse_int("steps", steps, minimum=1, maximum=10_000),
            "guidance": 1.0 if guidance is None else parse_float("guidance", guidance, minimum=0, maximum=100),
            "bernoulli": None if options.get("bernoulli") is None else bool(options["bernoulli"]),
        }

    def parse_sampling_options(self, sites: Any, **options: Any) -> dict[str, Any]:
        """As :meth:`check_sampling_options`, with ``bernoulli`` by default round for ``sites``, whose denoised
        values end at ±1; for ``pca`` the decoding chosen when the components were fitted, None until then."""
        options = super().parse_sampling_options(sites, **options)
        if options["bernoulli"] is None:
            options["bernoulli"] = self._default_drawing()
        return options

    def _default_drawing(self) -> bool | None:
        """Whether alleles are drawn when ``bernoulli`` is not given (None while a pca model has no components)."""
        if self.config.representation == "sites":
            return False
        return bool(self.pca["draw"].item()) if bool(self.pca["scale"].any()) else None

    def generate(
        self,
        n: int,
        rng,
        *,
        condition=None,
        steps: int = DEFAULT_STEPS,
        guidance: float = 1.0,
        bernoulli: bool | None = False,
    ) -> np.ndarray:
        """``n`` haplotypes (uint8 n x N) from pure noise with the averaged denoiser; on CPU the noise is
        denoised ``CPU_CHUNK`` haplotypes at a time (the same draw, faster: a U-Net's activations for thousands
        of haplotypes leave the cache). ``bernoulli`` None: the model's default decoding (monitoring resolves
        its options before the first epoch fits a pca model's components)."""
        import torch

        size = self.config.n_sites if self.config.representation == "sites" else self.config.pca_components
        chunk = CPU_CHUNK if str(self.device) == "cpu" else max(1, n)
        with torch.no_grad():
            x = torch.randn(n, size, generator=rng, device=self.device)
            x0 = torch.cat(
                [
                    self._solve(
                        x[lo : lo + chunk],
                        None if condition is None else condition[lo : lo + chunk],
                        steps=steps,
                        guidance=guidance,
                    )
                    for lo in range(0, n, chunk)
                ]
            )
            drawing = self._default_drawing() if bernoulli is None else bernoulli
            return self._decode(x0, rng, drawing).cpu().numpy()

    def _solve(self, x, condition, *, steps: int, guidance: float):
        """The probability-flow path from noise ``x`` to clean data by DPM-Solver++(2M) in the data-prediction
        form, x(next) = (sigma_next / sigma) x - alpha_next (exp(-h) - 1) D, h the step in log-SNR and D the
        denoised estimate, extrapolated linearly in log-SNR from the previous step's (second order) after the
        first step; with guidance and the self-conditioning estimate carried from step to step."""
        import torch

        n, classes = len(x), self.config.n_classes
        guided = classes and guidance != 1.0
        unconditional = None
        if guided:
            unconditional = torch.cat([torch.zeros_like(condition[:, :classes]), condition[:, classes:]], dim=1)
        times = sampling_times(steps)
        estimate = torch.zeros_like(x)  # the self-conditioning estimate: none before the first step
        previous = None  # (denoised estimate, log-SNR step) of the step before
        for now, then in zip(times[:-1], times[1:]):
            t = torch.full((n,), now, device=self.device)
            alpha, sigma = _levels(now)
            alpha_next, sigma_next = _levels(then)
            v = self.average(x, t, condition, estimate)
            if guided:
                v_free = self.average(x, t, unconditional, estimate)
                v = v_free + guidance * (v - v_free)
            x0 = self._denoised(x, v, alpha, sigma)
            if self.config.self_conditioning:  # a model trained without it only ever saw zeros
                estimate = x0
            decay = alpha * sigma_next / (sigma * alpha_next)  # exp(-h); about 0 on the first step, from pure noise
            h = -math.log(decay)
            direction = x0
            if previous is not None:  # second order: extrapolate the estimate along log-SNR
                weight = h / (2 * previous[1])
                direction = (1 + weight) * x0 - weight * previous[0]
            x = (sigma_next / sigma) * x + alpha_next * (1 - decay) * direction
            previous = (x0, h) if now < 1.0 else None  # the step from pure noise gives no slope
        return x.clamp(-1, 1) if self.config.representation == "sites" else x


def _banded_r_squared(haplotypes):
    """r² of every pair of sites at most ``DECODING_BAND`` apart (0 where a site does not vary), one vector."""
    import torch

    from genosynth.assess.fidelity import standardised

    z = standardised(haplotypes, haplotypes.device)  # NaN where a site does not vary
    return torch.cat(
        [
            (z[:, :-gap] * z[:, gap:]).mean(0).pow(2).nan_to_num(0.0)
            for gap in range(1, min(DECODING_BAND, haplotypes.shape[1] - 1) + 1)
        ]
    )
