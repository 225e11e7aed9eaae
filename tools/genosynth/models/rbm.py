"""Restricted Boltzmann machine of Yelmen et al. 2021: Bernoulli visible units (one per site), ReLU hidden
units (Gaussian units rectified at 0, so p(h_j | v) is a normal N(a_j, 1) truncated to h_j >= 0, with
a = W v + c) or sigmoid (Bernoulli) hidden units, trained by persistent contrastive divergence PCD-k.

Hidden size: 100 up to 1000 sites, 500 above (overridable). Visible biases start at the log-odds of the
allele frequencies, weights at N(0, 0.01²). Updates are plain gradient ascent on the log-likelihood
estimate <v h>_data - <v h>_model with learning rate ``lr`` per batch of 32.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

HIDDEN_TYPES = ("relu", "sigmoid")


def rbm_config(*, n_sites: int, n_hidden: int | None = None, hidden: str = "relu", k: int = 10, chains: int = 100,
               lr: float = 1e-2, batch_size: int = 32) -> dict[str, Any]:
    """The RBM configuration for ``n_sites`` sites.

    Example
    -------
    >>> rbm_config(n_sites=805)["n_hidden"], rbm_config(n_sites=10000)["n_hidden"]
    (100, 500)
    """
    if hidden not in HIDDEN_TYPES:
        raise ValueError(f"unknown hidden unit type {hidden!r}")
    return {"n_sites": n_sites, "n_hidden": n_hidden or (100 if n_sites <= 1000 else 500), "hidden": hidden,
            "k": k, "chains": chains, "lr": lr, "batch_size": batch_size}


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

    def weights(self) -> dict[str, Any]:
        return {"w": self.w, "b": self.b, "c": self.c}

    def load_weights(self, weights: dict[str, Any]) -> None:
        self.w, self.b, self.c = (weights[name].to(self.device) for name in ("w", "b", "c"))

    def optimizer_state(self) -> dict[str, Any]:
        return {"chains": self.chains}

    def load_optimizer_state(self, state: dict[str, Any]) -> None:
        self.chains = state["chains"].to(self.device)

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
            self.w += cfg["lr"] * (h_data.T @ v / len(v) - h_model.T @ self.chains / len(self.chains))
            self.b += cfg["lr"] * (v.mean(0) - self.chains.mean(0))
            self.c += cfg["lr"] * (h_data.mean(0) - h_model.mean(0))
            errors.append(float((v - self.visible_probability(h_data)).abs().mean()))
        return {"reconstruction_error": float(np.mean(errors)) if errors else float("nan")}

    def generate(self, n: int, rng, *, steps: int, start=None) -> np.ndarray:
        """``n`` haplotypes after ``steps`` Gibbs sweeps from random 0/1 starts, or from ``start`` (n x N)."""
        import torch

        with torch.no_grad():
            v = start if start is not None else self._bernoulli(
                torch.full((n, self.config["n_sites"]), 0.5, device=self.device), rng)
            return self.gibbs(v, steps, rng).to(torch.uint8).cpu().numpy()
