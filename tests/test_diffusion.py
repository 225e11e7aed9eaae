"""train-diffusion and sampling from diffusion models: tiny real CPU runs of both representations, the loss
going down, samples on the training sites, conditional sampling with guidance, bit-for-bit resume, windows with
context, the U-Net's linear growth, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import genosynth
import numpy as np
import pytest
from conftest import run_genosynth
from genosynth.assess import fidelity
from genosynth.generate.models.decoding import round_to_expected_counts
from genosynth.io.hdf5 import read_matrix
from genosynth.io.model_file import load_model_file
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

TINY = (
    "--representation",
    "sites",
    "--channels",
    "16",
    "--max-channels",
    "32",
    "--monitor-steps",
    "5",
    "--validation-size",
    "100",
    "--device",
    "cpu",
)


@pytest.mark.parametrize("representation", ["sites", "pca"])
def test_training_lowers_the_loss_and_samples_have_the_training_sites(small, tmp_path, representation):
    model = tmp_path / "diffusion.safetensors"
    extra = ("--pca-components", "7") if representation == "pca" else ()
    run_genosynth(
        "train-diffusion",
        small,
        "-o",
        model,
        *TINY,  # before --representation: TINY asks for sites, and the last one given counts
        "--representation",
        representation,
        "--epochs",
        "12",
        "--monitor-every",
        "12",
        "--mlp-width",
        "64",
        *extra,
    )
    rows = (tmp_path / "diffusion.training.tsv").read_text().splitlines()
    header = rows[0].split("\t")
    losses = [float(row.split("\t")[header.index("loss")]) for row in rows[1:]]
    saved = load_model_file(model)
    assert saved.kind == "diffusion" and saved.config["representation"] == representation and len(losses) == 12
    if representation == "sites":
        assert np.mean(losses[-3:]) < 0.96 * np.mean(losses[:3]), losses
    else:  # orthonormal components sharing one scale; learning: test_an_unconditional_model_keeps_two_populations_apart
        components = saved.tensors["pca.components"].double()
        k = saved.config["pca_components"]
        assert k == 7 and saved.config["mlp_width"] == 64 and saved.tensors["network.first.weight"].shape[0] == 64
        assert components.shape == (k, 60) and np.allclose(components @ components.T, np.eye(k), atol=1e-4)
        scale = saved.tensors["pca.scale"]
        assert float(scale.min()) > 0 and float(scale.max()) == float(scale.min()) and all(np.isfinite(losses))
    assert saved.provenance[-1]["step"] == "train-diffusion"
    run_genosynth("sample", model, "-n", "40", "--steps", "8", "-o", tmp_path / "ag.h5", "--seed", "1")
    sampled, real = read_matrix(tmp_path / "ag.h5"), read_matrix(small)
    assert sampled.sites.keys() == real.sites.keys() and sampled.haplotypes.shape == (40, 60)
    assert set(np.unique(sampled.haplotypes)) <= {0, 1}
    assert sampled.provenance[-1]["parameters"]["steps"] == 8
    # the default decoding: sign for sites; for pca on these 805-SNP panel sites, drawing (next tests)
    assert sampled.provenance[-1]["parameters"]["bernoulli"] is (representation == "pca")


def test_a_trained_model_keeps_the_allele_frequencies_and_sampling_is_reproducible(small, tmp_path, monkeypatch):
    train = genosynth.read_haplotypes(small)
    model = genosynth.train_diffusion(
        train,
        representation="sites",
        channels=(16, 32),
        epochs=40,
        monitor_every=40,
        validation_size=100,
        monitor_steps=10,
        seed=1,
        device="cpu",
        progress=False,
    )
    artificial = model.sample(400, steps=20, seed=5, progress=False)
    real_af = train.allele_frequencies()
    assert fidelity.pearson(real_af, artificial.allele_frequencies()) > 0.9
    model.save(tmp_path / "m.safetensors")
    again = genosynth.load_model(tmp_path / "m.safetensors", device="cpu").sample(400, steps=20, seed=5, progress=False)
    assert np.array_equal(again.haplotypes, artificial.haplotypes)
    assert not np.array_equal(model.sample(400, steps=20, seed=6, progress=False).haplotypes, artificial.haplotypes)
    # on CPU the 400 are denoised in chunks of 256 for speed; all at once, the draw is the same (up to rounding)
    from genosynth.generate.models import diffusion

    assert diffusion.CPU_CHUNK < 400
    monkeypatch.setattr(diffusion, "CPU_CHUNK", 400)
    whole = model.sample(400, steps=20, seed=5, progress=False).haplotypes
    assert (whole == artificial.haplotypes).mean() > 0.999


@pytest.mark.parametrize("representation", ["sites", "pca"])
def test_an_unconditional_model_keeps_two_populations_apart(two_populations, representation):
    """Haplotypes of two populations with opposite allele frequencies project onto their frequency difference as
    two separate modes; a model that learns only the Gaussian of the data (as the PCA model with each component
    scaled to unit variance did) draws most haplotypes between them."""
    path, frequencies = two_populations
    train = genosynth.read_haplotypes(path)
    size = {"channels": (16, 32), "patch": 4} if representation == "sites" else {"mlp_width": 128}
    model = genosynth.train_diffusion(
        train,
        representation=representation,
        epochs=60,
        monitor_every=10**6,
        seed=1,
        device="cpu",
        progress=False,
        **size,
    )
    direction = frequencies["AAA"] - frequencies["BBB"]
    real = train.haplotypes @ direction
    population = train.haplotype_population
    middle = (real[population == "AAA"].mean() + real[population == "BBB"].mean()) / 2
    gap = real[population == "AAA"].mean() - middle

    def off_middle(scores):
        return float(np.mean(np.abs(scores - middle) > gap / 2))

    sampled = model.sample(600, seed=2, progress=False).haplotypes @ direction
    assert off_middle(real) > 0.95
    assert off_middle(sampled) > 0.85, off_middle(sampled)


def test_drawing_a_pca_models_alleles_keeps_the_frequencies_that_rounding_makes_a_consensus(two_populations):
    """Through fewer components than sites a haplotype maps back to about its population's allele frequencies:
    drawn (the default chosen for these data), a population's haplotypes keep those frequencies; rounded to the
    sample's expected counts, each site's alleles go to the haplotypes that map back highest, mostly of the
    population where the allele is commoner, and the frequencies within each population are lost."""
    path, frequencies = two_populations
    train = genosynth.read_haplotypes(path)
    model = genosynth.train_diffusion(
        train,
        representation="pca",
        pca_components=2,
        mlp_width=128,
        epochs=60,
        monitor_every=10**6,
        seed=1,
        device="cpu",
        progress=False,
    )
    direction = frequencies["AAA"] - frequencies["BBB"]
    middle = float((train.haplotypes @ direction).mean())  # the populations are the same size

    def frequency_error(artificial):  # of the haplotypes on AAA's side
        aaa = artificial.haplotypes[artificial.haplotypes @ direction > middle]
        assert len(aaa) > 100
        return float(np.abs(aaa.mean(0) - frequencies["AAA"]).mean())

    drawn = model.sample(600, seed=2, progress=False)  # the default here
    rounded = model.sample(600, seed=2, bernoulli=False, progress=False)
    assert drawn.provenance[-1]["parameters"]["bernoulli"] is True
    assert rounded.provenance[-1]["parameters"]["bernoulli"] is False
    assert frequency_error(drawn) < 0.07 and frequency_error(rounded) > 0.12, (
        frequency_error(drawn),
        frequency_error(rounded),
    )


def _carriers_of_expected_counts(expected):
    """0/1 alleles: at each site the round(sum) haplotypes (within 0..n) with the highest expected allele."""
    counts = np.clip(np.round(expected.sum(0)), 0, len(expected)).astype(int)
    alleles = np.zeros(expected.shape, dtype=np.uint8)
    for site, count in enumerate(counts):
        alleles[np.argsort(-expected[:, site], kind="stable")[:count], site] = 1
    return alleles


@settings(max_examples=200, deadline=None)
@given(
    arrays(np.int8, st.tuples(st.integers(1, 12), st.integers(1, 9)), elements=st.integers(-8, 24)), st.integers(1, 4)
)
def test_rounding_to_expected_counts_gives_each_site_its_expected_count_on_its_likeliest_haplotypes(grid, block):
    """Against a per-site numpy sort: values in sixteenths, so that sums and halves are exact."""
    import torch

    expected = grid.astype(np.float64) / 16
    got = round_to_expected_counts(torch.as_tensor(expected, dtype=torch.float32), block=block).numpy()
    assert np.array_equal(got.astype(np.uint8), _carriers_of_expected_counts(expected))
    if len(expected) == 1:  # one haplotype alone: rounding at 0.5
        assert np.array_equal(got[0], expected[0] > 0.5)


def test_a_pca_models_rounded_samples_keep_the_rare_alleles_that_rounding_each_at_a_half_drops(simulated):
    """On a dense simulated window (where rounding is the decoding chosen) most sites carry an allele too rare to
    reach 0.5 in any haplotype's reconstruction; rounded to the sample's expected counts they stay polymorphic."""
    train = genosynth.read_haplotypes(simulated["vcf_gz"])
    model = genosynth.train_diffusion(
        train,
        representation="pca",
        pca_components=16,
        mlp_width=64,
        epochs=40,
        monitor_every=10**6,
        seed=1,
        device="cpu",
        progress=False,
    )
    sampled = model.sample(480, seed=2, progress=False)
    assert sampled.provenance[-1]["parameters"]["bernoulli"] is False
    real_frequency, sampled_frequency = train.haplotypes.mean(0), sampled.haplotypes.mean(0)
    fixed = np.mean((sampled_frequency == 0) | (sampled_frequency == 1))
    assert fixed < 0.1, fixed
    assert np.corrcoef(real_frequency, sampled_frequency)[0, 1] > 0.95


def _banded_ld_correlation(real, decoded, band=100):
    """Pearson correlation of real and decoded r² over the site pairs at most ``band`` apart (both varying in
    the real haplotypes; 0 where a decoded site does not vary), from fidelity's r² matrix."""
    varies = real.std(0) > 0
    real, decoded = real[:, varies], decoded[:, varies]
    near = np.triu(np.ones((real.shape[1],) * 2, dtype=bool), 1) & ~np.triu(
        np.ones((real.shape[1],) * 2, dtype=bool), band + 1
    )
    with np.errstate(invalid="ignore", divide="ignore"):  # a site rounding leaves without variation: r² 0
        decoded_r2 = np.nan_to_num(fidelity.r_squared_matrix(decoded))
    return fidelity.pearson(fidelity.r_squared_matrix(real)[near], decoded_r2[near])


@pytest.mark.parametrize("data, components, drawing", [("small", 7, True), ("simulated", 16, False)])
def test_a_pca_model_decodes_alleles_the_way_that_keeps_more_of_its_training_ld(
    request, data, components, drawing, tmp_path
):
    """Drawing wins on the 805-SNP panel (common SNPs: rounding gives the haplotypes near a mode alike alleles),
    rounding on a dense simulated window (independent draws scatter the rare alleles that few haplotypes share);
    the choice, made when the components are fitted, agrees with LD measured here on the same reconstruction."""
    fixture = request.getfixturevalue(data)
    train = genosynth.read_haplotypes(fixture if data == "small" else fixture["vcf_gz"])
    model = genosynth.train_diffusion(
        train,
        representation="pca",
        pca_components=components,
        mlp_width=64,
        epochs=1,
        monitor_every=10**6,
        seed=1,
        device="cpu",
        progress=False,
    )
    model.save(tmp_path / "m.safetensors")
    tensors = load_model_file(tmp_path / "m.safetensors").tensors
    mean, basis = tensors["pca.mean"].numpy(), tensors["pca.components"].numpy()
    real = train.haplotypes.astype(np.float64)
    expected = (real - mean) @ basis.T @ basis + mean
    drawn = (np.random.default_rng(1).random(expected.shape) < np.clip(expected, 0, 1)).astype(np.uint8)
    rounded = _carriers_of_expected_counts(expected)
    measured = {
        True: _banded_ld_correlation(train.haplotypes, drawn),
        False: _banded_ld_correlation(train.haplotypes, rounded),
    }
    assert (measured[True] > measured[False]) is drawing, measured
    assert model.sample(20, seed=1, progress=False).provenance[-1]["parameters"]["bernoulli"] is drawing
    assert bool(tensors["pca.draw"].item()) is drawing


def test_conditional_model_samples_the_asked_population_and_guidance_sharpens_it(two_populations, tmp_path):
    path, frequencies = two_populations
    train = genosynth.read_haplotypes(path)
    model = genosynth.train_diffusion(
        train,
        condition_on="population",
        representation="sites",
        channels=(16, 32),
        patch=4,
        epochs=60,
        monitor_every=60,
        validation_size=100,
        monitor_steps=10,
        seed=1,
        device="cpu",
        progress=False,
    )
    assert model.populations == ["AAA", "BBB"]
    for population, other in (("AAA", "BBB"), ("BBB", "AAA")):
        separation = {}
        for guidance in (1.0, 3.0):
            sampled = model.sample(400, population=population, steps=20, guidance=guidance, seed=3, progress=False)
            assert set(sampled.populations) == {population}
            af = sampled.allele_frequencies()
            assert (
                fidelity.pearson(af, frequencies[population]) > 0.8 and fidelity.pearson(af, frequencies[other]) < -0.6
            )
            assert np.abs(af - frequencies[population]).mean() < np.abs(af - frequencies[other]).mean()
            separation[guidance] = np.abs(af - frequencies[other]).mean()
        assert separation[3.0] >= separation[1.0] - 0.01, separation  # guidance pushes away from the other population
    path = tmp_path / "c.safetensors"
    model.save(path)
    run_genosynth(
        "sample",
        path,
        "-n",
        "20",
        "--population",
        "BBB",
        "--guidance",
        "2",
        "--steps",
        "4",
        "-o",
        tmp_path / "b.h5",
        "--seed",
        "1",
    )
    assert set(read_matrix(tmp_path / "b.h5").populations) == {"BBB"}


def test_resume_ends_bit_for_bit_where_an_uninterrupted_run_ends(small, tmp_path):
    import torch

    whole, split = tmp_path / "whole.safetensors", tmp_path / "split.safetensors"
    options = ("--monitor-every", "2", "--checkpoint-every", "1", "--patch", "4", "--no-self-conditioning", *TINY)
    run_genosynth("train-diffusion", small, "-o", whole, "--epochs", "4", *options)
    run_genosynth("train-diffusion", small, "-o", split, "--epochs", "2", *options)
    result = run_genosynth("train-diffusion", small, "-o", split, "--epochs", "4", "--resume", *options)
    assert "after epoch 2" in result.stderr
    a, b = load_model_file(whole).tensors, load_model_file(split).tensors
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert any(k.startswith("average.") for k in a) and any(k.startswith("network.") for k in a)
    config = load_model_file(whole).config  # the options reached the model
    assert (config["channels"], config["patch"], config["self_conditioning"]) == ([16, 32], 4, False)
    assert a["network.patches.weight"].shape == (16, 3 + 4, 4)  # 16 channels over 4 sites of 3 inputs + location


def test_windows_chain_with_context_as_known_sites(simulated):
    train = genosynth.read_haplotypes(simulated["vcf_gz"]).filter_maf(0.05)
    train = train.select_sites(np.arange(60))
    pos = train.sites.pos
    first = f"{train.sites.chrom[0]}:{pos[0]}-{pos[29]}"
    second = f"{train.sites.chrom[0]}:{pos[30]}-{pos[59]}"
    common = dict(
        representation="sites",
        channels=(16, 32),
        epochs=2,
        monitor_every=2,
        validation_size=50,
        monitor_steps=4,
        seed=1,
        device="cpu",
        progress=False,
    )
    models = [
        genosynth.train_diffusion(train, region=first, **common),
        genosynth.train_diffusion(train, region=second, context_sites=10, **common),
    ]
    assert models[1].context_sites == 10 and models[1].generator.config.context_sites == 10
    chained = genosynth.sample_chain(models, 20, steps=3, seed=2, progress=False)
    assert chained.sites.keys() == train.sites.keys() and chained.haplotypes.shape == (20, 60)
    with pytest.raises(genosynth.OptionError, match="conditioned on the 10 sites before it"):
        models[1].sample(5, steps=2)


@pytest.mark.parametrize("scale", [0.3, 3.0])
def test_the_sampler_solves_the_probability_flow_of_gaussian_data_to_second_order(scale):
    """For data drawn from N(0, scale^2 I) the exact denoiser is linear and the probability-flow path from noise z
    ends at z sqrt(alpha(0)^2 scale^2 + sigma(0)^2): the sampler, given that denoiser, must reach it with an error
    that falls fourfold when the steps double (DPM-Solver++(2M); a first-order solver such as DDIM halves it)."""
    import math

    import torch
    from genosynth.generate.models.diffusion import Diffusion, DiffusionConfig, noise_levels

    class ExactDenoiser(torch.nn.Module):
        def forward(self, x, t, labels, estimate):
            alpha, sigma = (level.unsqueeze(1) for level in noise_levels(t.double()))
            x0 = alpha * scale**2 / (alpha**2 * scale**2 + sigma**2) * x
            return (alpha * x - x0) / sigma  # v

    config = DiffusionConfig.for_sites(16, n_haplotypes=100, representation="pca", pca_components=16, mlp_width=8)
    model = Diffusion(config, device="cpu", seed=1)
    model.average = ExactDenoiser()
    noise = torch.randn(2000, 16, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    alpha, sigma = (float(level) for level in noise_levels(torch.tensor(0.0, dtype=torch.float64)))
    exact = noise * math.sqrt(alpha**2 * scale**2 + sigma**2)

    def error(steps: int) -> float:
        return float((model._solve(noise, None, steps=steps, guidance=1.0) - exact).abs().max() / exact.abs().max())

    assert error(20) < 0.02
    assert error(40) / error(80) > 3.5


@pytest.mark.parametrize("self_conditioning", [True, False])
def test_sampling_reads_the_previous_estimate_only_when_trained_to(self_conditioning):
    """A model trained without self-conditioning only ever saw a zero estimate: sampling must give it zeros too."""
    import torch
    from genosynth.generate.models.diffusion import Diffusion, DiffusionConfig

    config = DiffusionConfig.for_sites(40, n_haplotypes=100, channels=(8, 16), self_conditioning=self_conditioning)
    model = Diffusion(config, device="cpu", seed=1)
    with torch.no_grad():
        model.average.out.weight.normal_(generator=torch.Generator().manual_seed(2))  # as if trained: not zeros

    def draw():
        return model.generate(30, torch.Generator().manual_seed(4), steps=5)

    before = draw()
    with torch.no_grad():  # the weights that read the estimate channel (inputs: noisy, known, estimate, location)
        model.average.patches.weight[:, 2] += torch.randn_like(model.average.patches.weight[:, 2])
    assert np.array_equal(draw(), before) != self_conditioning


def test_unet_parameters_grow_linearly_with_the_sites():
    from genosynth.generate.models.diffusion import Diffusion, DiffusionConfig

    def parameters(sites: int) -> int:
        model = Diffusion(DiffusionConfig.for_sites(sites, n_haplotypes=100), device="cpu", seed=1)
        return sum(p.numel() for p in model.network.parameters())

    small, large, larger = parameters(1024), parameters(8192), parameters(65536)
    assert larger - large <= 8 * (large - small) * 1.2  # the increments are per site
    assert larger < 3 * large


@pytest.mark.parametrize(
    "args, message",
    [
        (("--channels", "4"), "--channels must be >= 8"),
        (("--channels", "64", "--max-channels", "32"), "--channels (64, 32): the finest level's channels exceed"),
        (("--representation", "pca", "--pca-components", "100000"), "--pca-components must be <="),
        (("--patch", "0"), "--patch must be >= 1"),
        (("--lr", "-1"), "--lr"),
    ],
)
def test_training_option_errors(small, tmp_path, args, message):
    result = run_genosynth(
        "train-diffusion", small, "-o", tmp_path / "m.safetensors", "--epochs", "1", *args, check=False
    )
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (("--steps", "0"), "--steps must be >= 1"),
        (("--guidance", "-1"), "--guidance must be in [0, 100]"),
        (("--gibbs-steps", "3"), "--gibbs-steps does not apply to diffusion models"),
        (("--population", "YRI"), "the model is not conditional"),
    ],
)
def test_sampling_option_errors(small, tmp_path, args, message):
    model = tmp_path / "m.safetensors"
    run_genosynth("train-diffusion", small, "-o", model, "--epochs", "1", *TINY)
    result = run_genosynth("sample", model, "-n", "4", *args, "-o", tmp_path / "x.h5", check=False)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "x.h5").exists()


@pytest.mark.gpu
def test_diffusion_trains_and_samples_on_cuda(small, tmp_path):
    model = tmp_path / "m.safetensors"
    run_genosynth("train-diffusion", small, "-o", model, "--epochs", "2", "--monitor-every", "1", "--device", "cuda")
    run_genosynth("sample", model, "-n", "100", "-o", tmp_path / "ag.h5", "--device", "cuda", "--steps", "10")
    assert read_matrix(tmp_path / "ag.h5").haplotypes.shape == (100, 60)


def test_a_model_file_from_before_the_decoding_choice_still_loads_and_samples(tmp_path):
    """The Galaxy test data's diffusion model predates pca.draw; the tensor checks at load accept its absence (the
    model rounds, as it did) while still refusing a missing tensor the kind needs."""
    from genosynth.io.model_file import load_model_file, save_model_file
    from safetensors import safe_open

    old = Path(__file__).resolve().parents[1] / "galaxy_wrappers" / "test-data" / "diffusion.safetensors"
    with safe_open(str(old), "pt") as handle:
        assert "model.pca.draw" not in handle.keys()
    model = genosynth.load_model(old, device="cpu")
    assert model.sample(20, seed=1, progress=False).n_haplotypes == 20
    saved = load_model_file(old)
    del saved.tensors["pca.scale"]
    save_model_file(tmp_path / "damaged.safetensors", saved)
    with pytest.raises(genosynth.InputError, match="tensor model.pca.scale is missing"):
        genosynth.load_model(tmp_path / "damaged.safetensors", device="cpu")
