"""train-gan, train-rbm and sample: tiny real CPU runs of each model and preset, bit-for-bit resume, time
budget and early stopping, conditional sampling, the baselines' known properties, safe model files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import read_text, run_genosynth
from genosynth.assess import fidelity
from genosynth.generate.models.baselines import bernoulli_haplotypes, markov_haplotypes
from genosynth.generate.models.rbm import Rbm, RbmConfig
from genosynth.io.hdf5 import read_matrix
from genosynth.io.model_file import load_model_file


class Payload:
    """An arbitrary object: a pickle-loading reader would import and build it."""

    def __reduce__(self):
        return (print, ("unpickled!",))


FAST = ("--monitor-every", "2", "--validation-size", "100", "--device", "cpu")


@pytest.mark.parametrize("preset", ["yelmen2021", "wgan-gp"])
def test_gan_trains_and_samples_on_the_training_sites(small, tmp_path, preset):
    model = tmp_path / "gan.safetensors"
    run_genosynth("train-gan", small, "-o", model, "--preset", preset, "--epochs", "3", *FAST)
    history = (tmp_path / "gan.training.tsv").read_text().splitlines()
    assert history[0].split("\t")[:3] == ["epoch", "loss_d", "loss_g"] and len(history) == 4
    assert (tmp_path / "gan.training.png").stat().st_size > 1000 and (tmp_path / "gan.ckpt").is_file()
    saved = load_model_file(model)
    assert saved.kind == "gan" and saved.config["preset"] == preset and saved.training is None
    assert saved.provenance[-1]["summary"]["epochs_trained"] == 3
    run_genosynth("sample", model, "-n", "50", "-o", tmp_path / "ag.vcf.gz", "--seed", "1", "--ploidy", "2")
    text = read_text(tmp_path / "ag.vcf.gz")
    records = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    real = read_matrix(small)
    assert [(r[0], int(r[1]), r[3], r[4]) for r in records] == list(
        zip(real.sites.chrom, real.sites.pos, real.sites.ref, real.sites.alt)
    )
    assert len(records[0]) == 9 + 25 and all(g in ("0|0", "0|1", "1|0", "1|1") for r in records for g in r[9:])
    sampled = read_matrix(_to_matrix(tmp_path / "ag.vcf.gz", tmp_path))
    assert sampled.n_haplotypes == 50 and set(np.unique(sampled.haplotypes)) <= {0, 1}


def test_gan_expected_counts_keep_each_sites_summed_output_where_rounding_loses_rare_alleles(small, tmp_path):
    import genosynth
    import torch

    path = tmp_path / "gan.safetensors"
    run_genosynth("train-gan", small, "-o", path, "--preset", "wgan-gp", "--epochs", "3", *FAST)
    model = genosynth.load_model(path, device="cpu")
    with torch.no_grad():  # the outputs sample(seed=5) decodes: a fresh generator seeded 5, one batch
        outputs = model.generator._generate_raw(300, torch.Generator().manual_seed(5), None).clamp(0, 1).numpy()
    rounded = model.sample(300, seed=5, progress=False).haplotypes
    counted = model.sample(300, seed=5, expected_counts=True, progress=False)
    assert np.array_equal(rounded, np.round(outputs))  # the paper's rounding, each output at 0.5
    assert np.array_equal(counted.haplotypes.sum(0), np.round(outputs.sum(0, dtype=np.float64)))
    lost = (outputs.max(0) < 0.5) & (np.round(outputs.sum(0, dtype=np.float64)) >= 1)
    assert lost.any() and not rounded[:, lost].any()
    assert (counted.haplotypes[:, lost].sum(0) >= 1).all()
    carriers = counted.haplotypes.astype(bool)  # who carries an allele: the haplotypes with the highest outputs
    assert all(
        outputs[carriers[:, j], j].min(initial=1) >= outputs[~carriers[:, j], j].max(initial=0)
        for j in range(outputs.shape[1])
    )
    assert counted.provenance[-1]["parameters"]["expected_counts"] is True
    with pytest.raises(genosynth.OptionError, match="expected_counts rounds the outputs and bernoulli draws"):
        model.sample(5, bernoulli=True, expected_counts=True)


def _to_matrix(vcf, tmp_path):
    run_genosynth("vcf-to-matrix", vcf, "-o", tmp_path / "back.h5", "--keep-monomorphic")
    return tmp_path / "back.h5"


@pytest.mark.parametrize(
    "command, extra",
    [
        ("train-gan", ("--preset", "yelmen2021")),
        ("train-gan", ()),
        ("train-rbm", ("--chains", "20", "--monitor-gibbs-steps", "5")),
    ],
)
def test_resume_ends_bit_for_bit_where_an_uninterrupted_run_ends(small, tmp_path, command, extra):
    import torch

    whole, split = tmp_path / "whole.safetensors", tmp_path / "split.safetensors"
    run_genosynth(command, small, "-o", whole, "--epochs", "4", "--checkpoint-every", "1", *FAST, *extra)
    run_genosynth(command, small, "-o", split, "--epochs", "2", *FAST, *extra)
    result = run_genosynth(command, small, "-o", split, "--epochs", "4", "--resume", *FAST, *extra)
    assert "resuming from" in result.stderr and "after epoch 2" in result.stderr
    a, b = load_model_file(whole).tensors, load_model_file(split).tensors
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "whole.training.tsv").read_text().split("\n")[0] == (
        tmp_path / "split.training.tsv"
    ).read_text().split("\n")[0]
    assert len((tmp_path / "split.training.tsv").read_text().splitlines()) == 5


@pytest.mark.parametrize("tolerance", ["0", "0.05"])
def test_time_budget_stops_cleanly_and_early_stop_keeps_the_most_balanced_aa_halves(small, tmp_path, tolerance):
    model = tmp_path / "gan.safetensors"
    result = run_genosynth(
        "train-gan",
        small,
        "-o",
        model,
        "--epochs",
        "100000",
        "--max-time",
        "3s",
        "--early-stop",
        "aats",
        "--early-stop-tolerance",
        tolerance,
        *FAST,
    )
    assert "time budget 3s reached" in result.stderr
    summary = load_model_file(model).provenance[-1]["summary"]
    assert summary["stopped_by"] == "max_time" and summary["epochs_trained"] < 100000
    rows = [line.split("\t") for line in (tmp_path / "gan.training.tsv").read_text().splitlines()]
    header, rows = rows[0], rows[1:]
    column = {name: header.index(name) for name in ("aa_truth", "aa_syn")}
    monitored = {
        int(r[0]): (float(r[column["aa_truth"]]), float(r[column["aa_syn"]]))
        for r in rows
        if r[column["aa_truth"]] != "NA"
    }
    assert int(rows[-1][0]) in monitored  # the stop is monitored too
    # the last epoch within the tolerance of the best up to it (with 0: the last of the best), judged by the worse
    # of the two AA halves' distances from 0.5
    distances = {e: max(abs(t - 0.5), abs(s - 0.5)) for e, (t, s) in monitored.items()}
    expected = max(
        e for e in monitored if distances[e] <= min(d for f, d in distances.items() if f <= e) + float(tolerance)
    )
    assert summary["kept_epoch"] == expected


def test_training_that_diverges_keeps_the_early_stopping_state(small, tmp_path):
    """An RBM that diverges after monitored epochs (forced here at epoch 3) ends with the kept state."""
    import torch
    from genosynth._infra.errors import TrainingDiverged
    from genosynth.generate.training import TrainingOptions, train
    from genosynth.io.windows import split_window

    matrix = read_matrix(small)

    class DivergingAtEpoch3(Rbm):
        epochs = 0

        def train_epoch(self, data, condition, rng):
            DivergingAtEpoch3.epochs += 1
            if DivergingAtEpoch3.epochs == 3:
                self.w.fill_(float("nan"))
                raise TrainingDiverged("the RBM diverged (forced)")
            return super().train_epoch(data, condition, rng)

    config = RbmConfig.for_sites(matrix.n_sites, n_hidden=5, chains=10)
    options = TrainingOptions(
        epochs=10,
        monitor_every=1,
        early_stop="aats",
        early_stop_tolerance=0.5 - 1e-9,
        validation_size=50,
        progress=False,
    )
    window = split_window(matrix, None)  # the whole matrix, no context
    model = train(
        DivergingAtEpoch3, config, window, options, step="train-rbm", parameters={}, monitor_sampling={"gibbs_steps": 2}
    )
    summary = model.training_summary
    assert summary["stopped_by"] == "diverged" and summary["epochs_trained"] == 2 and summary["kept_epoch"] == 2
    model.save(tmp_path / "m.safetensors")
    saved = load_model_file(tmp_path / "m.safetensors").tensors
    assert all(torch.isfinite(t).all() for t in saved.values())
    DivergingAtEpoch3.epochs = 0  # nothing kept: the error goes up to the caller (the command line exits 1)
    with pytest.raises(TrainingDiverged):
        train(
            DivergingAtEpoch3,
            config,
            window,
            TrainingOptions(epochs=10, monitor_every=1, progress=False),
            step="train-rbm",
            parameters={},
            monitor_sampling={"gibbs_steps": 2},
        )


def test_conditional_gan_samples_the_asked_population(two_populations, tmp_path):
    path, frequencies = two_populations
    model = tmp_path / "cgan.safetensors"
    run_genosynth(
        "train-gan",
        path,
        "-o",
        model,
        "--preset",
        "wgan-gp",
        "--condition-on",
        "population",
        "--epochs",
        "150",
        "--monitor-every",
        "150",
        "--device",
        "cpu",
        "--lr-discriminator",
        "1e-3",
        "--lr-generator",
        "1e-3",
    )
    assert load_model_file(model).populations == ["AAA", "BBB"]
    for population in ("AAA", "BBB"):
        out = tmp_path / f"{population}.h5"
        run_genosynth("sample", model, "-n", "400", "-o", out, "--population", population, "--seed", "3", "--bernoulli")
        sampled = read_matrix(out)
        assert set(sampled.populations) == {population}
        af = fidelity.allele_frequencies(sampled.haplotypes)
        other = "BBB" if population == "AAA" else "AAA"
        assert fidelity.pearson(af, frequencies[population]) > 0.9 and fidelity.pearson(af, frequencies[other]) < -0.8
    mixed = tmp_path / "mixed.h5"
    run_genosynth("sample", model, "-n", "400", "-o", mixed, "--seed", "3", "--ploidy", "2")
    counts = {p: int((read_matrix(mixed).populations == p).sum()) for p in ("AAA", "BBB")}
    assert counts["AAA"] + counts["BBB"] == 200 and min(counts.values()) > 60  # drawn in training proportions


def test_rbm_trains_writes_hidden_representation_and_samples(small, tmp_path):
    model = tmp_path / "rbm.safetensors"
    run_genosynth(
        "train-rbm",
        small,
        "-o",
        model,
        "--epochs",
        "2",
        "--hidden-units",
        "12",
        "--chains",
        "20",
        "--monitor-gibbs-steps",
        "5",
        *FAST,
    )
    hidden = (tmp_path / "rbm.hidden.tsv").read_text().splitlines()
    assert hidden[0].split("\t") == ["sample", "haplotype", "population"] + [f"h{j}" for j in range(1, 13)]
    assert len(hidden) == 401 and all(float(v) >= 0 for v in hidden[1].split("\t")[3:])  # ReLU units
    assert (tmp_path / "rbm.hidden.png").is_file()
    saved = load_model_file(model)
    frequencies = fidelity.allele_frequencies(read_matrix(small).haplotypes)
    assert saved.kind == "rbm" and saved.tensors["w"].shape == (12, 60)
    run_genosynth("sample", model, "-n", "400", "-o", tmp_path / "ag.h5", "--seed", "1")
    run_genosynth("sample", model, "-n", "30", "-o", tmp_path / "ag2.h5", "--seed", "1", "--sampling-set", small)
    run_genosynth("sample", model, "-n", "4", "-o", tmp_path / "ag4.h5", "--seed", "1", "--gibbs-steps", "7")
    sweeps = [
        read_matrix(tmp_path / name).provenance[-1]["parameters"]["gibbs_steps"]
        for name in ("ag.h5", "ag2.h5", "ag4.h5")
    ]
    assert sweeps == [20, 1000, 7]  # few sweeps from the persistent chains, many from real starts, as given
    result = run_genosynth(
        "sample",
        model,
        "-n",
        "30",
        "-o",
        tmp_path / "ag3.h5",
        "--start",
        "random",
        "--sampling-set",
        small,
        check=False,
    )
    assert result.returncode == 1 and "--start cannot be given with a sampling set" in result.stderr
    assert read_matrix(tmp_path / "ag2.h5").haplotypes.shape == (30, 60)
    sampled = read_matrix(tmp_path / "ag.h5").haplotypes
    assert sampled.shape == (400, 60)  # the model's samples keep the training allele frequencies (biases start there)
    assert fidelity.pearson(fidelity.allele_frequencies(sampled), frequencies) > 0.9


def test_rbm_visible_biases_start_at_allele_log_odds():
    frequencies = np.array([0.5, 0.1, 0.9])
    model = Rbm(RbmConfig.for_sites(3), device="cpu", seed=0, frequencies=frequencies)
    np.testing.assert_allclose(model.b.numpy(), np.log(frequencies / (1 - frequencies)), rtol=1e-6)


@pytest.mark.parametrize("hidden", ["relu", "sigmoid"])
def test_centred_rbm_update_equals_the_update_of_the_centred_parameters(hidden):
    """One centred batch (Melchior et al. 2016) checked against its definition: move to the centred parameters
    b' = b + W^T lambda, c' = c + W mu, step them along <(v - mu)(h - lambda)>, <v>, <h> differences, move back."""
    import torch

    g = np.random.default_rng(3)
    data = torch.as_tensor(g.random((16, 9)) < 0.3).float()
    mu = data.mean(0)
    model = Rbm(
        RbmConfig.for_sites(9, n_hidden=4, hidden=hidden, k=2, chains=6, lr=0.05, batch_size=16),
        device="cpu",
        seed=1,
        frequencies=mu.numpy(),
    )
    model.w = torch.as_tensor(g.normal(0, 0.3, (4, 9))).float()
    model.c = torch.as_tensor(g.normal(0, 0.3, 4)).float()
    w, b, c = model.w.clone(), model.b.clone(), model.c.clone()
    model.train_epoch(data, None, torch.Generator().manual_seed(0))
    original = Rbm(model.config, device="cpu", seed=1)
    original.w, original.b, original.c = w, b, c
    h_data, h_model, chains = original.hidden_mean(data), original.hidden_mean(model.chains), model.chains
    lam = h_data.mean(0)  # the first batch sets the hidden offset (the moving average starts there)
    b_centred, c_centred = b + w.T @ lam, c + w @ mu
    w_new = w + 0.05 * ((h_data - lam).T @ (data - mu) / 16 - (h_model - lam).T @ (chains - mu) / 6)
    b_centred += 0.05 * (data.mean(0) - chains.mean(0))
    c_centred += 0.05 * (h_data.mean(0) - h_model.mean(0))
    torch.testing.assert_close(model.w, w_new)
    torch.testing.assert_close(model.b, b_centred - w_new.T @ lam)
    torch.testing.assert_close(model.c, c_centred - w_new @ mu)


def test_no_centering_trains_with_the_plain_gradient(small, tmp_path):
    """--no-centering: one batch moves W by <h v>_data - <h v>_model and the biases by the mean differences."""
    import dataclasses

    import torch

    model_path = tmp_path / "plain.safetensors"
    run_genosynth(
        "train-rbm",
        small,
        "-o",
        model_path,
        "--epochs",
        "1",
        "--no-centering",
        "--hidden-units",
        "4",
        "--chains",
        "6",
        "--monitor-gibbs-steps",
        "2",
        *FAST,
    )
    config = load_model_file(model_path).config
    assert config["centered"] is False
    data = torch.as_tensor(read_matrix(small).haplotypes[:32]).float()
    model = Rbm(
        dataclasses.replace(RbmConfig.from_dict(config), batch_size=32, lr=0.05),
        device="cpu",
        seed=1,
        frequencies=data.mean(0).numpy(),
    )
    w, b, c = model.w.clone(), model.b.clone(), model.c.clone()
    model.train_epoch(data, None, torch.Generator().manual_seed(0))
    original = Rbm(model.config, device="cpu", seed=1)
    original.w, original.b, original.c = w, b, c
    h_data, h_model, chains = original.hidden_mean(data), original.hidden_mean(model.chains), model.chains
    torch.testing.assert_close(model.w, w + 0.05 * (h_data.T @ data / 32 - h_model.T @ chains / 6))
    torch.testing.assert_close(model.b, b + 0.05 * (data.mean(0) - chains.mean(0)))
    torch.testing.assert_close(model.c, c + 0.05 * (h_data.mean(0) - h_model.mean(0)))


def test_rbm_sampling_starts_from_the_persistent_chains_by_default():
    import torch
    from genosynth._infra.errors import OptionError

    model = Rbm(RbmConfig.for_sites(20, n_hidden=3, chains=5), device="cpu", seed=0)
    rng = torch.Generator().manual_seed(0)
    chains = {tuple(row) for row in model.chains.to(torch.uint8).tolist()}
    assert {tuple(row) for row in model.generate(50, rng, gibbs_steps=0).tolist()} <= chains
    assert len({tuple(row) for row in model.generate(50, rng, gibbs_steps=0, start="random").tolist()} - chains) > 40
    with pytest.raises(OptionError, match="start 'data': expected one of chains, random"):
        model.parse_sampling_options(None, start="data")
    assert model.parse_sampling_options(None) == {"gibbs_steps": 20, "start": "chains", "sampling_set": None}
    assert model.parse_sampling_options(None, start="random")["gibbs_steps"] == 1000


def test_a_windows_rbm_starts_each_haplotype_from_a_chain_that_makes_its_context_likely():
    """With context clamped, Gibbs sampling barely moves a chain towards the context: each draw starts from a
    persistent chain drawn by the likelihood of the given context under the chain's hidden state (here hidden
    unit 1 says "context 111", unit 2 "context 000"), its window kept when no sweep runs."""
    import torch

    model = Rbm(RbmConfig.for_sites(2, n_hidden=2, chains=3, context_sites=3), device="cpu", seed=0)
    model.w = torch.tensor([[4.0, 4, 4, 0, 0], [-4, -4, -4, 0, 0]])
    model.b, model.c = torch.tensor([-4.0, -4, -4, 0, 0]), torch.zeros(2)
    model.chains = torch.tensor([[0, 0, 0, 0, 0], [1, 1, 1, 1, 0], [1, 1, 1, 0, 1]], dtype=torch.float32)
    contexts = torch.tensor([[0, 0, 0], [1, 1, 1]] * 100, dtype=torch.float32)
    windows = model.generate(200, torch.Generator().manual_seed(0), condition=contexts, gibbs_steps=0)
    assert windows[0::2].tolist() == [[0, 0]] * 100  # only the first chain makes 000 likely
    likely = [tuple(row) for row in windows[1::2].tolist()]  # the other two, equally
    assert set(likely) == {(1, 0), (0, 1)} and 30 < likely.count((1, 0)) < 70


def test_relu_hidden_units_follow_the_truncated_normal():
    """p(h | v) of a ReLU unit is N(a, 1) truncated at 0: sample mean and the closed-form mean agree."""
    import torch
    from scipy.stats import truncnorm

    model = Rbm(RbmConfig.for_sites(1, n_hidden=3), device="cpu", seed=0)
    model.w = torch.zeros(3, 1)
    model.c = torch.tensor([-2.0, 0.0, 1.5])
    v = torch.zeros(200_000, 1)
    draws = model.sample_hidden(v, torch.Generator().manual_seed(0))
    expected = [truncnorm.mean(-a, np.inf, loc=a) for a in (-2.0, 0.0, 1.5)]
    np.testing.assert_allclose(draws.mean(0).numpy(), expected, rtol=0.02)
    np.testing.assert_allclose(model.hidden_mean(v[:1])[0].numpy(), expected, rtol=1e-5)
    assert (draws >= 0).all()


def test_bernoulli_baseline_keeps_frequencies_and_drops_ld(small):
    reference = read_matrix(small).haplotypes
    generated = bernoulli_haplotypes(reference, 20000, np.random.default_rng(0))
    np.testing.assert_allclose(generated.mean(0), reference.mean(0), atol=0.015)
    polymorphic = (generated.mean(0) > 0.05) & (generated.mean(0) < 0.95)
    r2 = fidelity.r_squared_matrix(generated[:, polymorphic])
    assert np.abs(r2[np.triu_indices(len(r2), 1)]).max() < 0.01


def test_markov_baseline_keeps_short_range_ld(small):
    reference = read_matrix(small).haplotypes
    keep = (reference.mean(0) > 0.05) & (reference.mean(0) < 0.95)
    markov = markov_haplotypes(reference, 4000, np.random.default_rng(0), window=5)
    bernoulli = bernoulli_haplotypes(reference, 4000, np.random.default_rng(0))
    real_r2 = fidelity.r_squared_matrix(reference[:, keep])
    adjacent = np.arange(keep.sum() - 1), np.arange(1, keep.sum())
    markov_r = fidelity.pearson(real_r2[adjacent], fidelity.r_squared_matrix(markov[:, keep])[adjacent])
    bernoulli_r = fidelity.pearson(real_r2[adjacent], fidelity.r_squared_matrix(bernoulli[:, keep])[adjacent])
    assert markov_r > 0.9 and markov_r > bernoulli_r + 0.3


def test_sample_baselines_through_the_cli(small, tmp_path):
    run_genosynth(
        "sample",
        "--baseline",
        "markov",
        "--reference",
        small,
        "-n",
        "40",
        "-o",
        tmp_path / "m.hapt.gz",
        "--window",
        "3",
        "--seed",
        "1",
    )
    assert (tmp_path / "m.legend").is_file() and read_text(tmp_path / "m.hapt.gz").startswith("AG ")
    run_genosynth("sample", "--baseline", "bernoulli", "--reference", small, "-n", "40", "-o", tmp_path / "b.h5")
    assert read_matrix(tmp_path / "b.h5").label == "AG"
    for option in ("--bernoulli", "--no-bernoulli"):  # a model's options, refused however they are given
        result = run_genosynth(
            "sample",
            "--baseline",
            "bernoulli",
            "--reference",
            small,
            "-n",
            "4",
            option,
            "-o",
            tmp_path / "x.h5",
            check=False,
        )
        assert result.returncode == 1 and "--bernoulli applies to models, not to --baseline" in result.stderr
        assert not (tmp_path / "x.h5").exists()


def test_model_files_that_are_not_ours_are_one_line_refusals(small, tmp_path):
    """A matrix, an old PyTorch .pt file (a pickle inside a zip), a bare pickle, a truncated file and a file of an
    unknown model kind: exit 1 with one line, nothing unpickled, nothing written."""
    import pickle

    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    run_genosynth("train-gan", small, "-o", tmp_path / "gan.safetensors", "--epochs", "1", *FAST)
    good = (tmp_path / "gan.safetensors").read_bytes()
    torch.save({"format": "genosynth-model", "payload": Payload()}, tmp_path / "old.pt")
    (tmp_path / "bare.pkl").write_bytes(pickle.dumps(Payload()))
    (tmp_path / "truncated.safetensors").write_bytes(good[: len(good) // 2])
    with safe_open(str(tmp_path / "gan.safetensors"), framework="pt") as handle:  # the same file, another kind
        tensors, metadata = {k: handle.get_tensor(k) for k in handle.keys()}, handle.metadata()
    save_file(tensors, str(tmp_path / "vae.safetensors"), metadata={**metadata, "kind": "vae"})
    cases = {
        small: "not a genosynth model file (not a safetensors file)",
        tmp_path / "old.pt": "a PyTorch (.pt) model file of genosynth 0.1",
        tmp_path / "bare.pkl": "not a genosynth model file",
        tmp_path / "truncated.safetensors": "truncated genosynth model file",
        tmp_path / "vae.safetensors": "unknown model kind 'vae'",
    }
    for path, message in cases.items():
        result = run_genosynth("sample", path, "-n", "5", "-o", tmp_path / "x.h5", check=False)
        assert result.returncode == 1 and message in result.stderr, (path, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "unpickled!" not in result.stdout + result.stderr
        assert not (tmp_path / "x.h5").exists()
    header_size = int.from_bytes(good[:8], "little")  # a safetensors header holding our metadata
    assert json.loads(good[8 : 8 + header_size])["__metadata__"]["format"] == "genosynth-model"


@pytest.mark.parametrize(
    "args, message",
    [
        (("--population", "YRI"), "--population YRI: the model is not conditional"),
        (("--ploidy", "2", "-n", "3"), "must be even"),
        (
            ("--sampling-set", "{small}"),
            "--sampling-set does not apply to gan models (their sampling options: bernoulli, expected_counts)",
        ),
        (("--start", "random"), "--start does not apply to gan models"),
        (("--gibbs-steps", "3"), "--gibbs-steps does not apply to gan models"),
        (("--batch", "0"), "--batch must be >= 1"),
        (("--bernoulli", "--expected-counts"), "--expected-counts rounds the outputs and bernoulli draws from them"),
    ],
)
def test_sample_option_errors(small, tmp_path, args, message):
    model = tmp_path / "gan.safetensors"
    run_genosynth("train-gan", small, "-o", model, "--epochs", "1", *FAST)
    args = [a.replace("{small}", str(small)) for a in args]
    extra = [] if "-n" in args else ["-n", "4"]
    result = run_genosynth("sample", model, *extra, *args, "-o", tmp_path / "x.h5", check=False)
    assert result.returncode == 1 and message in result.stderr, result.stderr


def test_training_option_errors(small, tmp_path):
    result = run_genosynth("train-gan", small, "-o", tmp_path / "m.safetensors", "--max-time", "soon", check=False)
    assert result.returncode == 1 and "--max-time 'soon'" in result.stderr
    result = run_genosynth(
        "train-gan", small, "-o", tmp_path / "m.safetensors", "--condition-on", "population", check=False
    )
    assert result.returncode == 1 and "no population label" in result.stderr
    result = run_genosynth("train-rbm", small, "-o", tmp_path / "m.safetensors", "--resume", check=False)
    assert result.returncode == 1 and "no such file" in result.stderr
    result = run_genosynth(
        "train-gan", small, "-o", tmp_path / "m.safetensors", "--early-stop-tolerance", "0.5", check=False
    )
    assert result.returncode == 1 and "--early-stop-tolerance must be in [0, 0.5)" in result.stderr
    result = run_genosynth(
        "train-rbm", small, "-o", tmp_path / "m.safetensors", "--lr", "1e6", "--epochs", "3", *FAST, check=False
    )
    assert result.returncode == 1 and "diverged" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "m.safetensors").exists()
    result = run_genosynth("train-rbm", small, "-o", tmp_path / "m.safetensors", "--k", "0", check=False)
    assert result.returncode == 1 and result.stderr.startswith("genosynth train-rbm: error: --k must be >= 1 (see ")


@pytest.mark.gpu
def test_gan_and_rbm_train_and_sample_on_cuda(small, tmp_path):
    run_genosynth(
        "train-gan",
        small,
        "-o",
        tmp_path / "gan.safetensors",
        "--epochs",
        "2",
        "--device",
        "cuda",
        "--monitor-every",
        "1",
    )
    run_genosynth(
        "train-rbm",
        small,
        "-o",
        tmp_path / "rbm.safetensors",
        "--epochs",
        "2",
        "--device",
        "cuda",
        "--monitor-every",
        "1",
    )
    for model in ("gan", "rbm"):
        run_genosynth(
            "sample", tmp_path / f"{model}.safetensors", "-n", "100", "-o", tmp_path / f"{model}.h5", "--device", "cuda"
        )
        assert read_matrix(tmp_path / f"{model}.h5").haplotypes.shape == (100, 60)
    json.dumps(load_model_file(tmp_path / "gan.safetensors").config)


def test_sigmoid_rbm_custom_paths_and_batched_sampling(small, tmp_path):
    model = tmp_path / "rbm.safetensors"
    run_genosynth(
        "train-rbm",
        small,
        "-o",
        model,
        "--epochs",
        "2",
        "--hidden",
        "sigmoid",
        "--hidden-units",
        "8",
        "--chains",
        "10",
        "--monitor-gibbs-steps",
        "3",
        "--checkpoint",
        tmp_path / "state.ckpt",
        "--history",
        tmp_path / "curves.tsv",
        "--hidden-output",
        tmp_path / "h.tsv",
        *FAST,
    )
    assert (tmp_path / "state.ckpt").is_file() and (tmp_path / "curves.png").is_file()
    values = np.array([line.split("\t")[3:] for line in (tmp_path / "h.tsv").read_text().splitlines()[1:]], dtype=float)
    assert values.shape == (400, 8) and (values >= 0).all() and (values <= 1).all()  # sigmoid unit means
    run_genosynth("sample", model, "-n", "23", "--batch", "5", "--gibbs-steps", "2", "-o", tmp_path / "ag.h5")
    assert read_matrix(tmp_path / "ag.h5").haplotypes.shape == (23, 60)
