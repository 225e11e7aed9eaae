"""Restricted Boltzmann machine of Yelmen et al. 2021: Bernoulli visible units (one per site), ReLU hidden
units (Gaussian units rectified at 0, so p(h_j | v) is a normal N(a_j, 1) truncated to h_j >= 0, with
a = W v + c) or sigmoid (Bernoulli) hidden units, trained by persistent contrastive divergence PCD-k.

Hidden size: 100 up to 1000 sites, 500 above (overridable). Visible biases start at the log-odds of the
allele frequencies, weights at N(0, 0.01²). Updates are gradient ascent on the log-likelihood estimate with
learning rate ``lr`` per batch of 32: by default the centred gradient of Melchior, Fischer and Wiskott 2016
(JMLR 17:99), <(v - mu)(h - lambda)>_data - <(v - mu)(h - lambda)>_model with mu the training allele
frequencies and lambda a moving average (rate 0.01) of the hidden means on data, the biases corrected so that
the model stays an ordinary RBM; with ``centered`` off, the plain gradient <v h>_data - <v h>_model. On the
805-SNP data the plain gradient left the hidden units nearly unused (samples with no LD), the centred one
learns LD within tens of epochs.

The persistent chains are model samples drawn from random starts, never from data; they are saved with the
weights and are where sampling starts by default. Chains started from uniform random haplotypes fall into
one population's mode, because Gibbs sampling barely moves between populations; the persistent chains keep the
model's own mixture. Long runs from the chains drift from that mixture too: a PCD-trained RBM's persistent
chains, moved along with the weights, track the data better than the model's own equilibrium; hence
sampling's default of ``CHAIN_SWEEPS`` sweeps from the chains (the README gives the measurements).

A window's RBM with ``context_sites`` C is the conditional RBM of Yelmen et al. 2023: its visible units are the
C context sites before the window followed by the window's sites, trained jointly; sampling clamps the context
block to the given context and Gibbs-samples the window given it. Each haplotype starts from a persistent chain
drawn with probability proportional to the likelihood of its context under that chain's hidden state,
p(context | E[h | chain]): Gibbs sampling, like between populations, barely moves a chain's window towards a
clamped context that its hidden units disagree with, so from chains picked at random the first sites of a
window took hundreds of sweeps to follow the sites before it; always taking the chain with the nearest
context instead concentrated the draws on a few chains, whose far sites then cost allele frequency fit (the
README gives the measurements).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from genosynth._infra.errors import OptionError, TrainingDiverged
from genosynth._infra.options import parse_choice, parse_float, parse_int
from genosynth.generate.models.base import DEFAULT_BATCH_SIZE, Config, Generator
from genosynth.io.matrix import HaplotypeMatrix, require_same_sites

HIDDEN_TYPES = ("relu", "sigmoid")
STARTS = ("chains", "random")  # where sampling's Gibbs chains start, unless given real haplotypes
# Gibbs sweeps sampling runs by default: few from the persistent chains, which hold the model's mixture of
# populations (longer runs drift from it: see the module docstring), many from random or real starts
CHAIN_SWEEPS, OTHER_START_SWEEPS = 20, 1000
CENTERING_RATE = 0.01  # of the hidden offset's moving average (Melchior et al. 2016 use 0.01)


@dataclass(frozen=True)
class RbmConfig(Config):
    """Architecture and recipe of one RBM; :meth:`for_sites` fills in the defaults.

    Example
    -------
    >>> RbmConfig.for_sites(805).n_hidden, RbmConfig.for_sites(10000).n_hidden
    (100, 500)
    """

    n_sites: int
    n_hidden: int
    hidden: str = "relu"
    k: int = 10
    chains: int = 100
    lr: float = 3e-3
    batch_size: int = DEFAULT_BATCH_SIZE
    centered: bool = True
    context_sites: int = 0

    @classmethod
    def for_sites(
        cls,
        n_sites: int,
        *,
        n_hidden: int | None = None,
        hidden: str = "relu",
        k: int = 10,
        chains: int = 100,
        lr: float = 3e-3,
        batch_size: int = DEFAULT_BATCH_SIZE,
        centered: bool = True,
        context_sites: int = 0,
    ) -> RbmConfig:
        """The configuration for ``n_sites`` sites: 100 hidden units up to 1000 sites, 500 above, unless given."""
        if n_hidden is not None:
            parse_int("hidden_units", n_hidden, minimum=1)
        parse_choice("hidden", hidden, HIDDEN_TYPES)
        for name, value in (("k", k), ("chains", chains), ("batch_size", batch_size)):
            parse_int(name, value, minimum=1)
        parse_float("lr", lr, exclusive_minimum=0)
        return cls(
            n_sites=n_sites,
            n_hidden=n_hidden or (100 if n_sites <= 1000 else 500),
            hidden=hidden,
            k=k,
            chains=chains,
            lr=lr,
            batch_size=batch_size,
            centered=bool(centered),
            context_sites=context_sites,
        )


class Rbm(Generator):
    """An RBM with its persistent chains, on one device."""

    kind = "rbm"
    config_class = RbmConfig
    sampling_option_names = ("gibbs_steps", "start", "sampling_set")

    def __init__(
        self,
        config: RbmConfig,
        *,
        device: str,
        seed: int,
        frequencies: np.ndarray | None = None,
        condition_means: np.ndarray | None = None,
    ) -> None:
        import torch

        super().__init__(config, device=device, seed=seed)
        generator = torch.Generator().manual_seed(seed)
        n, h = config.context_sites + config.n_sites, config.n_hidden
        if frequencies is not None and config.context_sites:  # the visible units: context, then window
            frequencies = np.concatenate([condition_means, frequencies])
        self.w = (0.01 * torch.randn(h, n, generator=generator)).to(device)
        if frequencies is not None:
            p = np.clip(frequencies, 1e-3, 1 - 1e-3)
            self.b = torch.as_tensor(np.log(p / (1 - p)), dtype=torch.float32, device=device)
        else:
            self.b = torch.zeros(n, device=device)
        self.c = torch.zeros(h, device=device)
        self.chains = torch.bernoulli(torch.full((config.chains, n), 0.5), generator=generator).to(device)
        mean = frequencies if frequencies is not None else np.full(n, 0.5)
        self.visible_offset = torch.as_tensor(mean, dtype=torch.float32, device=device)
        self.hidden_offset = None  # the hidden means of the first training batch, then their moving average
        self._privacy = None  # the privacy engine of private training

    def make_private(self, privacy) -> None:
        """Train by DP-SGD: the data term of the contrastive gradient (the weight, visible and hidden statistics
        of an individual's haplotypes) clipped per individual and noised; the model term is read from the
        persistent chains, which start random and never from data; the centred gradient's hidden offset
        follows the chains' hidden means instead of the data's."""
        self._privacy = privacy

    def default_max_grad_norm(self) -> float:
        """sqrt(visible units): an individual's data statistics are larger than a network's gradient, and grow
        with the sites."""
        return math.sqrt(self.config.context_sites + self.config.n_sites)

    def model_tensors(self) -> dict[str, Any]:
        """Weights, biases and the persistent chains (model samples: where sampling starts by default)."""
        return {"w": self.w, "b": self.b, "c": self.c, "chains": self.chains}

    def load_model_tensors(self, tensors: dict[str, Any]) -> None:
        self.w, self.b, self.c, self.chains = (tensors[name].to(self.device) for name in ("w", "b", "c", "chains"))

    def optimizer_state(self) -> dict[str, Any]:
        """The centred gradient's hidden offset (the visible offset is the training frequencies, given again)."""
        return {"hidden_offset": self.hidden_offset}

    def load_optimizer_state(self, state: dict[str, Any]) -> None:
        offset = state["hidden_offset"]
        self.hidden_offset = None if offset is None else offset.to(self.device)

    # -- conditionals ------------------------------------------------------------------------------------
    def hidden_mean(self, v):
        """E[h | v] (n x H)."""
        import torch

        a = v @ self.w.T + self.c
        if self.config.hidden == "sigmoid":
            return torch.sigmoid(a)
        a64 = a.to(torch.float64)  # mean of N(a, 1) truncated at 0: a + phi(a) / Phi(a)
        log_phi = -0.5 * a64 * a64 - 0.5 * math.log(2 * math.pi)
        return (a64 + torch.exp(log_phi - torch.special.log_ndtr(a64))).clamp(min=0).to(torch.float32)

    def sample_hidden(self, v, rng):
        import torch

        a = v @ self.w.T + self.c
        if self.config.hidden == "sigmoid":
            return self._bernoulli(torch.sigmoid(a), rng)
        # inverse CDF of N(a, 1) truncated to [0, inf): h = a - ndtri(u Phi(a)), in float64 for the tails
        a64 = a.to(torch.float64)
        u = torch.rand(a.shape, generator=rng, device=self.device, dtype=torch.float64).clamp(1e-12, 1.0)
        h = a64 - torch.special.ndtri(u * torch.special.ndtr(a64))
        return torch.nan_to_num(h, nan=0.0, posinf=0.0).clamp(min=0).to(torch.float32)

    def visible_probability(self, h):
        import torch

        return torch.sigmoid(h @ self.w + self.b)

    def gibbs(self, v, steps: int, rng, *, clamped=None):
        """``steps`` full Gibbs sweeps v -> h -> v from ``v``, the first visible units held at ``clamped`` (n x C)
        when given; returns the last visible sample."""
        for _ in range(steps):
            v = self._bernoulli(self.visible_probability(self.sample_hidden(v, rng)), rng)
            if clamped is not None:
                v[:, : clamped.shape[1]] = clamped
        return v

    def _bernoulli(self, probability, rng):
        """0/1 draws (float32); comparing uniforms is about three times faster than torch.bernoulli on CPU."""
        import torch

        return (torch.rand(probability.shape, generator=rng, device=self.device) < probability).to(torch.float32)

    # -- training ----------------------------------------------------------------------------------------
    def train_epoch(self, data, condition, rng) -> dict[str, float]:
        """One PCD-k pass over ``data`` in shuffled batches; returns the mean reconstruction error."""
        import torch

        if self._privacy is not None:
            self._train_epoch_private(data, condition, rng)
            self._check_finite()
            return {}
        cfg = self.config
        batch = cfg.batch_size
        order = torch.randperm(len(data), generator=rng, device=self.device)
        errors = []
        for lo in range(0, len(data) - batch + 1, batch):
            index = order[lo : lo + batch]
            v = data[index] if condition is None else torch.cat([condition[index], data[index]], dim=1)
            h_data = self.hidden_mean(v)
            self.chains = self.gibbs(self.chains, cfg.k, rng)
            h_model = self.hidden_mean(self.chains)
            if cfg.centered:
                batch_mean = h_data.mean(0)
                self.hidden_offset = (
                    batch_mean
                    if self.hidden_offset is None
                    else ((1 - CENTERING_RATE) * self.hidden_offset + CENTERING_RATE * batch_mean)
                )
                mu, lam = self.visible_offset, self.hidden_offset
                grad_w = (h_data - lam).T @ (v - mu) / len(v) - (h_model - lam).T @ (self.chains - mu) / len(
                    self.chains
                )
                grad_b = v.mean(0) - self.chains.mean(0) - lam @ grad_w
                grad_c = h_data.mean(0) - h_model.mean(0) - grad_w @ mu
            else:
                grad_w = h_data.T @ v / len(v) - h_model.T @ self.chains / len(self.chains)
                grad_b = v.mean(0) - self.chains.mean(0)
                grad_c = h_data.mean(0) - h_model.mean(0)
            self.w += cfg.lr * grad_w
            self.b += cfg.lr * grad_b
            self.c += cfg.lr * grad_c
            errors.append(float((v - self.visible_probability(h_data)).abs().mean()))
        self._check_finite()
        return {"reconstruction_error": float(np.mean(errors)) if errors else float("nan")}

    def _check_finite(self) -> None:
        import torch

        if not all(bool(torch.isfinite(t).all()) for t in (self.w, self.b, self.c)):
            raise TrainingDiverged(
                f"the RBM diverged (non-finite weights) at learning rate {self.config.lr:g}; "
                "train again with a lower learning rate"
            )

    def _train_epoch_private(self, data, condition, rng) -> None:
        """An epoch of private PCD-k steps on Poisson batches of individuals. Each individual's data statistics,
        the outer products (h - lambda)(v - mu)^T of its haplotypes summed, and their v and E[h | v] summed, are
        clipped together to the clipping norm (the outer products' norm from the Gram matrices, without forming
        them one by one), summed, noised and divided by the expected haplotypes of a batch; the model term and
        the centring corrections, which read no data, follow as in :meth:`train_epoch`. Returns no figures: a
        reconstruction error would read the training data."""
        import torch

        privacy, cfg = self._privacy, self.config
        for _ in range(privacy.steps_per_epoch):
            rows, inverse, count = privacy.batch()
            v = data[rows] if condition is None else torch.cat([condition[rows], data[rows]], dim=1)
            h_data = self.hidden_mean(v)
            self.chains = self.gibbs(self.chains, cfg.k, rng)
            h_model = self.hidden_mean(self.chains)
            if cfg.centered:
                chain_mean = h_model.mean(0)
                self.hidden_offset = (
                    chain_mean
                    if self.hidden_offset is None
                    else ((1 - CENTERING_RATE) * self.hidden_offset + CENTERING_RATE * chain_mean)
                )
                mu, lam = self.visible_offset, self.hidden_offset
            else:
                mu, lam = torch.zeros_like(self.b), torch.zeros_like(self.c)
            data_w, data_v, data_h = self.private_data_term(v, h_data, inverse, count, mu, lam)
            grad_w = data_w - (h_model - lam).T @ (self.chains - mu) / len(self.chains)
            grad_b = data_v - self.chains.mean(0) - lam @ grad_w
            grad_c = data_h - h_model.mean(0) - grad_w @ mu
            self.w += cfg.lr * grad_w
            self.b += cfg.lr * grad_b
            self.c += cfg.lr * grad_c
            privacy.account()

    def private_data_term(self, v, h_data, inverse, count: int, mu, lam):
        """The data term of a private step: the statistics ((h - lam)(v - mu)^T, v, E[h | v]) of the haplotypes
        ``v`` (hidden means ``h_data``) summed per individual (``inverse``: each row's, 0..count-1), each
        individual's clipped to the clipping norm as one vector (the outer products' norm from the Gram
        matrices), summed over individuals, noised and divided by the expected haplotypes of a batch."""
        import torch

        privacy = self._privacy
        a, b = h_data - lam, v - mu
        same = (inverse.unsqueeze(1) == inverse.unsqueeze(0)).to(a.dtype)
        groups = max(count, 1)
        outer = torch.zeros(groups, device=self.device).index_add_(0, inverse, ((a @ a.T) * (b @ b.T) * same).sum(1))
        v_sums = torch.zeros(groups, v.shape[1], device=self.device).index_add_(0, inverse, v)
        h_sums = torch.zeros(groups, h_data.shape[1], device=self.device).index_add_(0, inverse, h_data)
        factors = privacy.clip_factors((outer.clamp(min=0) + v_sums.pow(2).sum(1) + h_sums.pow(2).sum(1)).sqrt())
        expected = privacy.sample_rate * privacy.n_haplotypes
        return (
            ((a * factors[inverse].unsqueeze(1)).T @ b + privacy.noise(self.w.shape)) / expected,
            (factors @ v_sums + privacy.noise(self.b.shape)) / expected,
            (factors @ h_sums + privacy.noise(self.c.shape)) / expected,
        )

    @classmethod
    def check_sampling_options(cls, config: Any, sites: Any, **options: Any) -> dict[str, Any]:
        """``gibbs_steps`` (default 20 from the persistent chains, 1000 from other starts), ``start`` ("chains",
        the default, or "random") or ``sampling_set`` (real haplotypes, a HaplotypeMatrix on the model's sites:
        the paper's scheme)."""
        options = super().check_sampling_options(config, sites, **options)
        start, sampling_set = options.get("start"), options.get("sampling_set")
        if start is not None and sampling_set is not None:
            raise OptionError("start", "cannot be given with a sampling set: both say where the RBM's chains start")
        if start is not None:
            parse_choice("start", start, STARTS)
        rows = None
        if sampling_set is not None:
            if isinstance(sampling_set, HaplotypeMatrix):
                require_same_sites(
                    sites,
                    sampling_set.sites,
                    reference_name="the model's training sites",
                    other_name=sampling_set.name("the sampling set"),
                )
                rows = sampling_set.haplotypes
            else:
                rows = np.asarray(sampling_set, dtype=np.uint8)
            if rows.ndim != 2 or rows.shape[1] != config.n_sites or len(rows) == 0:
                raise OptionError("sampling_set", f"must hold haplotypes of {config.n_sites} sites")
        from_chains = rows is None and start in (None, "chains")
        steps = options.get("gibbs_steps")
        steps = (
            (CHAIN_SWEEPS if from_chains else OTHER_START_SWEEPS)
            if steps is None
            else parse_int("gibbs_steps", steps, minimum=1)
        )
        return {"gibbs_steps": steps, "start": start or ("chains" if rows is None else None), "sampling_set": rows}

    def generate(
        self,
        n: int,
        rng,
        *,
        condition=None,
        gibbs_steps: int = CHAIN_SWEEPS,
        start: str | None = "chains",
        sampling_set: np.ndarray | None = None,
    ) -> np.ndarray:
        """``n`` haplotypes after ``gibbs_steps`` Gibbs sweeps from ``start``: "chains" (persistent chains picked
        uniformly with replacement; for a window's RBM, by how likely each chain makes each ``condition``),
        "random" (uniform random haplotypes), or rows of ``sampling_set`` (picked without replacement while there
        are enough)."""
        import torch

        context = self.config.context_sites
        if context and (condition is None or condition.shape != (n, context)):
            raise ValueError(
                f"this RBM is conditioned on {context} context sites: give them for each of {n} haplotypes"
            )
        with torch.no_grad():
            if sampling_set is not None:
                count = len(sampling_set)
                picks = (
                    torch.randperm(count, generator=rng, device=self.device)[:n]
                    if n <= count
                    else torch.randint(count, (n,), generator=rng, device=self.device)
                )
                v = torch.as_tensor(sampling_set, device=self.device)[picks].to(torch.float32)
                if context:  # real haplotypes of the window: the context block is clamped below
                    v = torch.cat([condition, v], dim=1)
            elif start == "chains" and context:
                v = self.chains[self._chains_for_context(condition, rng)]
            elif start == "chains":
                v = self.chains[torch.randint(len(self.chains), (n,), generator=rng, device=self.device)]
            elif start == "random":
                v = self._bernoulli(torch.full((n, self.w.shape[1]), 0.5, device=self.device), rng)
            else:
                raise ValueError(f"unknown start {start!r}")
            if context:
                v = v.clone()
                v[:, :context] = condition
            return self.gibbs(v, gibbs_steps, rng, clamped=condition)[:, context:].to(torch.uint8).cpu().numpy()

    def _chains_for_context(self, condition, rng):
        """For each row of ``condition`` (n x C, 0/1), a persistent chain drawn with probability proportional to
        p(condition | E[h | chain]), the likelihood of that context given the chain's hidden state."""
        import torch
        from torch.nn.functional import logsigmoid

        logits = self.hidden_mean(self.chains) @ self.w[:, : condition.shape[1]] + self.b[: condition.shape[1]]
        log_likelihood = condition @ logsigmoid(logits).T + (1 - condition) @ logsigmoid(-logits).T  # n x chains
        return torch.multinomial(torch.softmax(log_likelihood, 1), 1, generator=rng).squeeze(1)

    def hidden_representation(self, haplotypes: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        """E[h | v] of each haplotype (float32 n x n_hidden); a window's RBM also needs each one's ``context``."""
        import torch

        if self.config.context_sites:
            haplotypes = np.concatenate([context, haplotypes], axis=1)
        with torch.no_grad():
            v = torch.as_tensor(haplotypes, device=self.device).to(torch.float32)
            return self.hidden_mean(v).cpu().numpy()
