"""Differentially private training (generate/private.py): each generator learns something at epsilon 3, the
accountant keeps within the budget and stops training when it is spent, the guarantee is recorded in the model
file and every sample's provenance, refused combinations are one-line errors, and each step clips per individual
and adds noise (a step without either fails here)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import run_genosynth
from genosynth import OptionError
from genosynth.generate.private import PrivacyOptions, PrivateTraining
from genosynth.generate.trained import load_model
from genosynth.generate.training import train_diffusion, train_gan, train_rbm
from genosynth.io.hdf5 import write_matrix
from genosynth.io.matrix import HaplotypeMatrix, Sites

FIELDS = {
    "epsilon",
    "epsilon_spent",
    "delta",
    "accountant",
    "max_grad_norm",
    "noise_multiplier",
    "sample_rate",
    "steps",
    "unit",
    "library",
}


@pytest.fixture(autouse=True)
def fixed_secret(monkeypatch):
    """The private batches and noise drawn from a fixed seed instead of the operating system's, so that what a
    test measures is the same on every run (a private run is otherwise not reproducible, by design)."""
    import genosynth.generate.private

    monkeypatch.setattr(genosynth.generate.private.secrets, "randbits", lambda bits: 20261204)


def founders(individuals: int, sites: int, *, seed: int) -> HaplotypeMatrix:
    """Haplotypes copied from 4 founders (site frequencies from 0.05 to 0.95) with 5% of alleles flipped: strong
    LD and varied allele frequencies, which a model that learns nothing does not reproduce."""
    structure = np.random.default_rng(3)  # the same founders for every seed: held-out sets share them
    founder = (structure.random((4, sites)) < np.linspace(0.05, 0.95, sites)).astype(np.uint8)
    rng = np.random.default_rng(seed)
    haplotypes = founder[rng.integers(0, 4, 2 * individuals)] ^ (rng.random((2 * individuals, sites)) < 0.05)
    positions = np.arange(1, sites + 1) * 100
    return HaplotypeMatrix(
        haplotypes.astype(np.uint8),
        Sites(
            np.array(["1"] * sites),
            positions,
            np.array(["."] * sites),
            np.array(["A"] * sites),
            np.array(["C"] * sites),
        ),
        np.array([f"s{seed}_{k}" for k in range(individuals)]),
        np.full(individuals, 2, dtype=np.int8),
        np.array(["AAA", "BBB"] * (individuals // 2) + ["AAA"] * (individuals % 2)),
    )


def ld_match(real: np.ndarray, generated: np.ndarray) -> float:
    """Pearson correlation of the site-pair correlations of two sets (0 for a model without LD)."""
    pairs = np.triu_indices(real.shape[1], 1)
    a = np.corrcoef(real.T.astype(float))[pairs]
    b = np.nan_to_num(np.corrcoef(generated.T.astype(float))[pairs])
    return float(np.corrcoef(a, b)[0, 1])


def af_r(real: np.ndarray, generated: np.ndarray) -> float:
    return float(np.corrcoef(real.mean(0), generated.mean(0))[0, 1])


def test_private_rbm_learns_ld_within_budget_and_records_the_guarantee(tmp_path):
    """At epsilon 3 the RBM learns the founders' LD; the accountant spends at most 3 over exactly the planned
    steps; monitoring reads only the held-out haplotypes; the guarantee is in the model file and in a sample's
    provenance."""
    torch.set_num_threads(1)
    train, holdout = founders(1000, 40, seed=1), founders(200, 40, seed=2)
    model = train_rbm(
        train,
        hidden_units=20,
        k=2,
        lr=0.05,
        epochs=10,
        seed=1,
        progress=False,
        holdout=holdout,
        monitor_every=10,
        validation_size=200,
        dp_epsilon=3,
    )
    guarantee = model.extra["privacy"]
    assert set(guarantee) == FIELDS
    assert 2.7 < guarantee["epsilon_spent"] <= 3.0 and guarantee["delta"] == pytest.approx(1 / 10_000)
    assert guarantee["steps"] == 10 * (2000 // 32) and guarantee["sample_rate"] == pytest.approx(32 / 2000)
    assert guarantee["noise_multiplier"] > 0.5 and guarantee["accountant"] == "rdp"
    assert guarantee["max_grad_norm"] == pytest.approx(np.sqrt(40))
    last = model.history[-1]
    assert "aats" in last and "privacy_loss" not in last and "reconstruction_error" not in last
    assert model.training_summary["privacy"] == guarantee
    path = tmp_path / "rbm.safetensors"
    model.save(path)
    sample = load_model(path, device="cpu").sample(2000, seed=2, progress=False)
    assert ld_match(train.haplotypes, sample.haplotypes) > 0.3
    assert any(record.get("summary", {}).get("privacy") == guarantee for record in sample.provenance)


def test_private_gan_critic_learns_frequencies():
    """The critic trained privately still teaches the generator the allele frequencies (a generator that learned
    nothing draws every allele near 0.5)."""
    torch.set_num_threads(1)
    train = founders(500, 30, seed=1)
    model = train_gan(
        train,
        preset="yelmen2021",
        latent_size=32,
        lr_discriminator=3e-3,
        lr_generator=3e-3,
        epochs=6,
        seed=1,
        progress=False,
        dp_epsilon=3,
    )
    assert model.extra["privacy"]["epsilon_spent"] <= 3
    assert "loss_d" not in model.history[-1]  # the critic's loss reads the training haplotypes
    sample = model.sample(2000, seed=2, progress=False, bernoulli=True)
    assert af_r(train.haplotypes, sample.haplotypes) > 0.35  # measured 0.50


def test_private_diffusion_learns_frequencies():
    torch.set_num_threads(1)
    train = founders(300, 16, seed=1)
    model = train_diffusion(train, channels=(8, 16), lr=3e-3, epochs=3, seed=1, progress=False, dp_epsilon=3)
    assert model.extra["privacy"]["epsilon_spent"] <= 3 and model.history[-1].keys() == {"epoch", "epsilon", "seconds"}
    assert af_r(train.haplotypes, model.sample(2000, seed=2, progress=False).haplotypes) > 0.5


def test_budget_spent_stops_a_resumed_run(tmp_path):
    """A run resumed with more epochs than its budget was planned for stops when the accountant says it is
    spent, with the checkpoint's noise and steps."""
    torch.set_num_threads(1)
    train = founders(100, 10, seed=1)
    options = {"hidden_units": 5, "k": 1, "seed": 1, "progress": False, "dp_epsilon": 2, "checkpoint": tmp_path / "c"}
    first = train_rbm(train, epochs=2, **options)
    resumed = train_rbm(train, epochs=5, resume=True, **options)
    assert resumed.training_summary["stopped_by"] == "privacy_budget"
    assert resumed.training_summary["epochs_trained"] == 2
    assert resumed.extra["privacy"] == first.extra["privacy"]


@pytest.mark.parametrize(
    ("trainer", "options", "message"),
    [
        (train_gan, {"preset": "wgan-gp"}, "gradient penalty"),
        (train_diffusion, {"representation": "pca"}, "pca representation"),
        (train_gan, {"preset": "yelmen2021", "condition_on": "population"}, "condition_on"),
        (train_rbm, {"early_stop": "fidelity", "holdout": "holdout"}, "early_stop fidelity"),
        (train_rbm, {"early_stop": "aats"}, "held-out"),
        (train_rbm, {"dp_delta": 0.5}, "not below 1 / 30"),
    ],
)
def test_refused_combinations(trainer, options, message):
    matrix = founders(30, 10, seed=1)
    if options.get("holdout") == "holdout":
        options = {**options, "holdout": founders(10, 10, seed=2)}
    with pytest.raises(OptionError, match=message) as error:
        trainer(matrix, epochs=1, progress=False, dp_epsilon=3, **options)
    assert str(error.value).startswith("dp_") and "\n" not in str(error.value)


def test_dp_options_without_epsilon_and_on_the_command_line(tmp_path):
    with pytest.raises(OptionError, match="dp_max_grad_norm applies only to private training"):
        train_rbm(founders(30, 10, seed=1), epochs=1, progress=False, dp_max_grad_norm=1.0)
    write_matrix(tmp_path / "train.h5", founders(30, 10, seed=1))
    result = run_genosynth(
        "train-gan",
        tmp_path / "train.h5",
        "-o",
        tmp_path / "m.safetensors",
        "--dp-epsilon",
        "3",
        "--epochs",
        1,
        check=False,
    )
    assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1
    assert "--dp-epsilon" in result.stderr and "yelmen2021" in result.stderr
    assert not (tmp_path / "m.safetensors").exists()


def engine_for(individuals: np.ndarray, *, max_grad_norm: float = 1.0) -> PrivateTraining:
    return PrivateTraining(
        PrivacyOptions(epsilon=3, max_grad_norm=max_grad_norm),
        individuals=individuals,
        batch_size=4,
        epochs=1,
        default_max_grad_norm=1.0,
    )


def test_network_step_clips_each_individual_and_adds_noise():
    """Opacus's step as the GAN's critic and the diffusion denoiser take it: the update is the sum of each
    individual's gradient (both haplotypes) clipped to the norm, over the expected individuals; then, with the
    noise, its spread is noise_multiplier x norm / expected individuals."""
    engine = engine_for(np.repeat(np.arange(20), 2), max_grad_norm=1.0)
    rows = torch.tensor([[100.0, 0, 0], [100.0, 0, 0], [0, 0.1, 0], [0, 0.2, 0]])  # individuals 0, 0, 1, 1
    inverse = torch.tensor([0, 0, 1, 1])

    def step(layer, noise_multiplier: float):
        module, optimizer = engine.private_module(layer, torch.optim.SGD(layer.parameters(), lr=1.0))
        optimizer.noise_multiplier = noise_multiplier
        before = layer.weight.detach().clone()
        optimizer.zero_grad(set_to_none=True)
        module(rows).sum().backward()
        engine.group_gradients(layer, inverse, 2)
        engine.optimizer_step(optimizer)
        return before - layer.weight.detach()

    layer = torch.nn.Linear(3, 1, bias=False)
    update = step(layer, 0.0)
    individual = torch.tensor([[200.0, 0, 0], [0, 0.3, 0]])  # each individual's summed gradient
    clipped = individual * (1.0 / individual.norm(dim=1).clamp(min=1.0)).unsqueeze(1)
    expected = clipped.sum(0) / round(engine.expected_individuals)
    assert torch.allclose(update[0], expected, atol=1e-5)
    noisy = torch.cat([step(torch.nn.Linear(3, 1, bias=False), engine.noise_multiplier) for _ in range(60)])
    spread = (noisy - expected).std().item()
    assert spread == pytest.approx(engine.noise_multiplier / round(engine.expected_individuals), rel=0.3)
    assert engine.steps == 61


def test_rbm_data_term_clips_each_individual_and_adds_noise():
    """The RBM's private data term equals the per-individual statistics formed one by one, each clipped, summed
    and divided by the expected haplotypes; with noise its spread is noise_multiplier x norm / expected."""
    from genosynth.generate.models.rbm import Rbm, RbmConfig

    rbm = Rbm(RbmConfig.for_sites(6, n_hidden=3), device="cpu", seed=1)
    engine = engine_for(np.repeat(np.arange(10), 2), max_grad_norm=2.0)
    rbm.make_private(engine)
    v = torch.tensor(np.random.default_rng(1).integers(0, 2, (5, 6)), dtype=torch.float32)
    inverse = torch.tensor([0, 0, 1, 2, 2])
    h = rbm.hidden_mean(v)
    mu, lam = torch.full((6,), 0.5), torch.full((3,), 0.2)
    noise_multiplier = engine.noise_multiplier
    engine.noise_multiplier = 0.0
    data_w, data_v, data_h = rbm.private_data_term(v, h, inverse, 3, mu, lam)
    expected = engine.sample_rate * engine.n_haplotypes
    sums = [torch.zeros(3, 6), torch.zeros(6), torch.zeros(3)]
    for g in range(3):
        rows = inverse == g
        w = (h[rows] - lam).T @ (v[rows] - mu)
        parts = (w, v[rows].sum(0), h[rows].sum(0))
        norm = torch.sqrt(sum(p.pow(2).sum() for p in parts))
        assert norm > 2.0  # every individual is clipped here
        for total, part in zip(sums, parts):
            total += part * (2.0 / norm)
    for got, want in zip((data_w, data_v, data_h), sums):
        assert torch.allclose(got, want / expected, atol=1e-5)
    engine.noise_multiplier = noise_multiplier
    noisy = torch.cat([rbm.private_data_term(v, h, inverse, 3, mu, lam)[0] for _ in range(40)])
    spread = (noisy.view(40, 3, 6) - sums[0] / expected).std().item()
    assert spread == pytest.approx(noise_multiplier * 2.0 / expected, rel=0.2)
