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
one population's mode (on the 805-SNP data, 77% nearest an African haplotype after 2000 sweeps against 27% in
the data), because Gibbs sampling barely moves between populations; the persistent chains keep the model's
own mixture. Long runs from the chains drift from that mixture too: a PCD-trained RBM's persistent chains,
moved along with the weights, track the data better than the model's own equilibrium. After a 20-minute run
on the 805-SNP data (419 epochs), 5000 haplotypes from the chains scored AF r 0.996, LD r 0.948, W2D 0.0099
after 20 sweeps, 0.985 / 0.918 / 0.021 after 200 and 0.959 / 0.882 / 0.045 after 1000 (East Asian-like
haplotypes 24% of the chains, 11% after 200 sweeps, 3% after 5000), with AATS 0.48-0.53 and no copies
throughout; hence sampling's default of ``CHAIN_SWEEPS`` sweeps from the chains.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import TrainingDiverged

HIDDEN_TYPES = ("relu", "sigmoid")
STARTS = ("chains", "random")  # where sampling's Gibbs chains start, unless given real haplotypes
# Gibbs sweeps sampling runs by default: few from the persistent chains, which hold the model's mixture of
# populations (longer runs drift from it: see the module docstring), many from random or real starts
CHAIN_SWEEPS, OTHER_START_SWEEPS = 20, 1000
CENTERING_RATE = 0.01  # of the hidden offset's moving average (Melchior et al. 2016 use 0.01)


def rbm_config(*, n_sites: int, n_hidden: int | None = None, hidden: str = "relu", k: int = 10, chains: int = 100,
               lr: float = 3e-3, batch_size: int = 32, centered: bool = True) -> dict[str, Any]:
    """The RBM configuration for ``n_sites`` sites.

    Example
    -------
    >>> rbm_config(n_sites=805)["n_hidden"], rbm_config(n_sites=10000)["n_hidden"]
    (100, 500)
    """
    if hidden not in HIDDEN_TYPES:
        raise ValueError(f"unknown hidden unit type {hidden!r}")
    return {"n_sites": n_sites, "n_hidden": n_hidden or (100 if n_sites <= 1000 else 500), "hidden": hidden,
            "k": k, "chains": chains, "lr": lr, "batch_size": batch_size, "centered": centered}


class RbmModel:
    """An RBM with its persistent chains, on one device."""

    kind = "rbm"

    def __init__(self, config: dict[str, Any], device: str, *, seed: int, frequencies: np.ndarray | None = None) -> None:
        import torch

        self.config = config
        self.device = device
        generator = torch.Generator().manual_seed(seed)
        n, h = config["n_sites"], config["n_hidden"]
        self.w = (0.01 * torch.randn(h, n, generator=generator)).to(device)
        if frequencies is not None:
            p = np.clip(frequencies, 1e-3, 1 - 1e-3)
            self.b = torch.as_tensor(np.log(p / (1 - p)), dtype=torch.float32, device=device)
        else:
            self.b = torch.zeros(n, device=device)
        self.c = torch.zeros(h, device=device)
        self.chains = torch.bernoulli(torch.full((config["chains"], n), 0.5), generator=generator).to(device)
        mean = frequencies if frequencies is not None else np.full(n, 0.5)
        self.visible_offset = torch.as_tensor(mean, dtype=torch.float32, device=device)
        self.hidden_offset = None  # the hidden means of the first training batch, then their moving average

    def weights(self) -> dict[str, Any]:
        return {"w": self.w, "b": self.b, "c": self.c, "chains": self.chains}

    def load_weights(self, weights: dict[str, Any]) -> None:
        self.w, self.b, self.c, self.chains = (weights[name].to(self.device) for name in ("w", "b", "c", "chains"))

    def optimizer_state(self) -> dict[str, Any]:
        return {"hidden_offset": self.hidden_offset}  # the visible offset is the training frequencies, given again

    def load_optimizer_state(self, state: dict[str, Any]) -> None:
        offset = state["hidden_offset"]
        self.hidden_offset = None if offset is None else offset.to(self.device)

    # -- conditionals ------------------------------------------------------------------------------------
    def hidden_mean(self, v):
        """E[h | v] (n x H)."""
        import torch

        a = v @ self.w.T + self.c
        if self.config["hidden"] == "sigmoid":
            return torch.sigmoid(a)
        a64 = a.to(torch.float64)  # mean of N(a, 1) truncated at 0: a + phi(a) / Phi(a)
        log_phi = -0.5 * a64 * a64 - 0.5 * math.log(2 * math.pi)
        return (a64 + torch.exp(log_phi - torch.special.log_ndtr(a64))).clamp(min=0).to(torch.float32)

    def sample_hidden(self, v, rng):
        import torch

        a = v @ self.w.T + self.c
        if self.config["hidden"] == "sigmoid":
            return self._bernoulli(torch.sigmoid(a), rng)
        # inverse CDF of N(a, 1) truncated to [0, inf): h = a - ndtri(u Phi(a)), in float64 for the tails
        a64 = a.to(torch.float64)
        u = torch.rand(a.shape, generator=rng, device=self.device, dtype=torch.float64).clamp(1e-12, 1.0)
        h = a64 - torch.special.ndtri(u * torch.special.ndtr(a64))
        return torch.nan_to_num(h, nan=0.0, posinf=0.0).clamp(min=0).to(torch.float32)

    def visible_probability(self, h):
        import torch

        return torch.sigmoid(h @ self.w + self.b)

    def gibbs(self, v, steps: int, rng):
        """``steps`` full Gibbs sweeps v -> h -> v from ``v``; returns the last visible sample."""
        for _ in range(steps):
            v = self._bernoulli(self.visible_probability(self.sample_hidden(v, rng)), rng)
        return v

    def _bernoulli(self, probability, rng):
        """0/1 draws (float32); comparing uniforms is about three times faster than torch.bernoulli on CPU."""
        import torch

        return (torch.rand(probability.shape, generator=rng, device=self.device) < probability).to(torch.float32)

    # -- training ----------------------------------------------------------------------------------------
    def train_epoch(self, data, onehot, rng) -> dict[str, float]:
        """One PCD-k pass over ``data`` in shuffled batches; returns the mean reconstruction error."""
        import torch

        cfg = self.config
        batch = cfg["batch_size"]
        order = torch.randperm(len(data), generator=rng, device=self.device)
        errors = []
        for lo in range(0, len(data) - batch + 1, batch):
            v = data[order[lo:lo + batch]]
            h_data = self.hidden_mean(v)
            self.chains = self.gibbs(self.chains, cfg["k"], rng)
            h_model = self.hidden_mean(self.chains)
            if cfg["centered"]:
                batch_mean = h_data.mean(0)
                self.hidden_offset = batch_mean if self.hidden_offset is None else (
                    (1 - CENTERING_RATE) * self.hidden_offset + CENTERING_RATE * batch_mean)
                mu, lam = self.visible_offset, self.hidden_offset
                grad_w = (h_data - lam).T @ (v - mu) / len(v) - (h_model - lam).T @ (self.chains - mu) / len(self.chains)
                grad_b = v.mean(0) - self.chains.mean(0) - lam @ grad_w
                grad_c = h_data.mean(0) - h_model.mean(0) - grad_w @ mu
            else:
                grad_w = h_data.T @ v / len(v) - h_model.T @ self.chains / len(self.chains)
                grad_b = v.mean(0) - self.chains.mean(0)
                grad_c = h_data.mean(0) - h_model.mean(0)
            self.w += cfg["lr"] * grad_w
            self.b += cfg["lr"] * grad_b
            self.c += cfg["lr"] * grad_c
            errors.append(float((v - self.visible_probability(h_data)).abs().mean()))
        if not all(bool(torch.isfinite(t).all()) for t in (self.w, self.b, self.c)):
            raise TrainingDiverged(f"the RBM diverged (non-finite weights) at learning rate {cfg['lr']:g}; "
                                   "train again with a lower --lr")
        return {"reconstruction_error": float(np.mean(errors)) if errors else float("nan")}

    def generate(self, n: int, rng, *, steps: int, start="chains") -> np.ndarray:
        """``n`` haplotypes after ``steps`` Gibbs sweeps from ``start``: "chains" (persistent chains picked
        uniformly with replacement), "random" (uniform random haplotypes) or a float 0/1 tensor (n x N)."""
        import torch

        with torch.no_grad():
            if isinstance(start, str):
                if start not in STARTS:
                    raise ValueError(f"unknown start {start!r}")
                if start == "chains":
                    start = self.chains[torch.randint(len(self.chains), (n,), generator=rng, device=self.device)]
                else:
                    start = self._bernoulli(torch.full((n, self.config["n_sites"]), 0.5, device=self.device), rng)
            return self.gibbs(start, steps, rng).to(torch.uint8).cpu().numpy()
