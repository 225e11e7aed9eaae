"""Monitoring and early stopping: the rules on crafted histories (a mean AATS of 0.5 from halves 0 and 1 is never
kept over a balanced state; a state over the privacy limit never over one within it; the lowest privacy loss when
none is within), the monitored figures against an independent computation, and short real runs of each model
with a holdout."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_genosynth, write_805_split
from genosynth.generate.monitoring import EarlyStopping, Monitor, selection_margin
from genosynth.io.hdf5 import read_matrix
from genosynth.io.model_file import load_model_file


def _row(aa_truth, aa_syn, af_r=0.99, privacy_loss=0.0, privacy_loss_se=0.0):
    return {
        "aa_truth": aa_truth,
        "aa_syn": aa_syn,
        "aats": (aa_truth + aa_syn) / 2,
        "af_r": af_r,
        "ld_r": 0.99,
        "privacy_loss": privacy_loss,
        "privacy_loss_se": privacy_loss_se,
    }


def _choose(rule, rows, **options):
    stopper = EarlyStopping(rule, tolerance=options.pop("tolerance", 0.01), **options)
    for epoch, row in enumerate(rows, start=1):
        stopper.offer(epoch, row, lambda: {})
    return stopper


@pytest.mark.parametrize("rule", ["aats", "fidelity"])
def test_a_mean_of_half_from_halves_zero_and_one_is_never_kept_over_a_balanced_state(rule):
    stopper = _choose(rule, [_row(0.45, 0.58), _row(0.0, 1.0), _row(0.02, 0.98)], max_privacy_loss=0.05)
    assert stopper.kept.epoch == 1 and stopper.kept.score == pytest.approx(0.08 + (0.02 if rule == "fidelity" else 0))


def test_fidelity_never_keeps_a_state_over_the_privacy_limit_when_one_within_it_exists():
    rows = [
        _row(0.30, 0.70, privacy_loss=0.02),
        _row(0.50, 0.50, privacy_loss=0.12),
        _row(0.49, 0.52, privacy_loss=0.09),
        _row(0.50, 0.50, privacy_loss=0.04, privacy_loss_se=0.02),
    ]  # within the limit only by monitoring noise
    stopper = _choose("fidelity", rows, max_privacy_loss=0.05)
    assert stopper.kept.epoch == 1
    assert stopper.summary()["privacy_limit_met"] is True and "note" not in stopper.summary()


def test_with_no_state_within_the_limit_the_lowest_privacy_loss_is_kept_and_said():
    rows = [_row(0.5, 0.5, privacy_loss=0.12), _row(0.4, 0.6, privacy_loss=0.07), _row(0.5, 0.5, privacy_loss=0.09)]
    summary = _choose("fidelity", rows, max_privacy_loss=0.05).summary()
    assert summary["privacy_limit_met"] is False and summary["kept_privacy_loss"] == 0.07
    assert (
        "no monitored state had a privacy loss within 0.05 (0 judged afresh): kept the one with the lowest monitored "
        "loss, 0.070 (epoch 2)" == summary["note"]
    )


def test_the_selection_margin_is_one_standard_error_for_one_state_and_bonferroni_for_more():
    from scipy.stats import norm

    assert selection_margin(1) == pytest.approx(1.0)
    for k in (2, 10, 40):
        assert selection_margin(k) == pytest.approx(norm.isf(norm.sf(1.0) / k))
    with pytest.raises(ValueError, match="at least 1"):
        selection_margin(0)


def test_states_over_the_limit_that_monitoring_noise_admits_are_refused_when_judged_afresh():
    """Forty states improving in fidelity, all truly over the limit (0.06) but the first (0.0); monitoring and
    privacy-check measure each with noise of one standard error 0.01. Screening alone (monitored loss plus one
    standard error within 0.05, the earlier rule) admits late, over-limit states whose estimate came out low by
    chance; the judgement afresh with the margin for the states judged keeps the one truly within the limit."""
    rng = np.random.default_rng(3)
    true_loss = [0.0] + [0.06] * 39
    rows = [
        _row(0.5 - 0.2 / (epoch + 1), 0.5, privacy_loss=loss + 0.01 * rng.standard_normal(), privacy_loss_se=0.01)
        for epoch, loss in enumerate(true_loss)
    ]
    admitted_by_screening = [e for e, row in enumerate(rows) if row["privacy_loss"] + 0.01 <= 0.05 and e > 0]
    assert len(admitted_by_screening) >= 2  # the earlier rule would keep an over-limit state
    stopper = EarlyStopping("fidelity", tolerance=0.0, max_privacy_loss=0.05)
    for epoch, (row, loss) in enumerate(zip(rows, true_loss)):
        fresh = {"judged_privacy_loss": loss + 0.01 * rng.standard_normal(), "judged_privacy_loss_se": 0.01}
        stopper.offer(epoch, row, lambda: {}, judge=lambda fresh=fresh: dict(fresh))
    assert stopper.kept.epoch == 0 and true_loss[stopper.kept.epoch] <= 0.05
    summary = stopper.summary()
    assert summary["states_judged"] == 1 + len(admitted_by_screening) and summary["privacy_limit_met"]
    assert rows[0]["judged_margin"] == 1.0 and summary["kept_margin"] == 1.0  # the judged figures enter the row
    assert rows[admitted_by_screening[-1]]["judged_margin"] == pytest.approx(selection_margin(summary["states_judged"]))


def test_a_checkpoint_carries_the_states_judged():
    stopper = _choose("fidelity", [_row(0.5, 0.5, privacy_loss=0.01), _row(0.5, 0.5)], max_privacy_loss=0.05)
    again = EarlyStopping("fidelity", tolerance=0.01, max_privacy_loss=0.05)
    again.load_state(stopper.state())
    assert stopper.judged == again.judged == 2


def test_fidelity_prefers_allele_frequencies_when_balance_ties_and_the_latest_within_tolerance():
    rows = [
        _row(0.48, 0.52, af_r=0.90),
        _row(0.48, 0.52, af_r=0.99),
        _row(0.47, 0.53, af_r=0.99),
        _row(0.40, 0.60, af_r=0.99),
    ]
    assert _choose("fidelity", rows, max_privacy_loss=0.05).kept.epoch == 3  # epoch 3 is within 0.01 of epoch 2


def test_the_monitor_measures_against_an_independent_computation():
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(1)
    real, holdout = rng.integers(0, 2, (60, 30), dtype=np.uint8), rng.integers(0, 2, (60, 30), dtype=np.uint8)
    generated = real.copy()
    generated[:30] = rng.integers(0, 2, (30, 30), dtype=np.uint8)  # half of them copies of training haplotypes
    row = Monitor(real, real.mean(0), holdout=holdout).measure(generated)

    def halves(a, b):
        d_ab, d_ba = cdist(a, b, "hamming").min(1), cdist(b, a, "hamming").min(1)
        d_aa = (cdist(a, a, "hamming") + np.eye(len(a)) * 9).min(1)
        d_bb = (cdist(b, b, "hamming") + np.eye(len(b)) * 9).min(1)
        return np.mean((d_ab > d_aa) + 0.5 * (d_ab == d_aa)), np.mean((d_ba > d_bb) + 0.5 * (d_ba == d_bb))

    truth, syn = halves(real, generated)
    truth_h, syn_h = halves(holdout, generated)
    assert (row["aa_truth"], row["aa_syn"]) == pytest.approx((truth, syn))
    assert row["privacy_loss"] == pytest.approx((truth_h + syn_h) / 2 - (truth + syn) / 2)
    assert row["privacy_loss"] > 0.2 and 0 < row["privacy_loss_se"] < 0.1  # copies are closer to train than holdout


@pytest.fixture(scope="module")
def split(data_805, tmp_path_factory):
    return write_805_split(data_805, tmp_path_factory.mktemp("monitoring"), {"train": 300, "holdout": 150}, seed=6)


@pytest.mark.parametrize(
    "command, extra",
    [("train-gan", ("--preset", "wgan-gp")), ("train-rbm", ("--hidden-units", "20", "--chains", "20"))],
)
def test_a_short_run_with_a_holdout_records_every_monitored_figure(split, tmp_path, command, extra):
    model = tmp_path / "m.safetensors"
    run_genosynth(
        command,
        split["train"],
        "-o",
        model,
        "--epochs",
        "4",
        "--monitor-every",
        "2",
        "--holdout",
        split["holdout"],
        "--early-stop",
        "fidelity",
        "--max-privacy-loss",
        "0.5",
        "--validation-size",
        "200",
        "--device",
        "cpu",
        *extra,
    )
    lines = (tmp_path / "m.training.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    for column in (
        "aa_truth",
        "aa_syn",
        "aats",
        "aats_se",
        "af_r",
        "ld_r",
        "ld_strength",
        "fixed_fraction",
        "pairwise_w",
        "aa_truth_holdout",
        "aa_syn_holdout",
        "aats_holdout",
        "privacy_loss",
        "privacy_loss_se",
        "judged_privacy_loss",
        "judged_privacy_loss_se",
        "judged_size",
        "judged_margin",
    ):
        assert column in header, column
    assert np.isfinite(float(dict(zip(header, lines[-1].split("\t")))["ld_strength"]))  # epoch 4 is monitored
    summary = load_model_file(model).provenance[-1]["summary"]
    assert (
        summary["early_stop"] == "fidelity"
        and summary["kept_epoch"] in (2, 4)
        and summary["kept"]["privacy_loss"] <= 0.5
    )
    # the kept state was judged as privacy-check judges it: 5000 fresh haplotypes against the whole sets
    assert (
        summary["states_judged"] >= 1 and summary["kept"]["judged_size"] == read_matrix(split["holdout"]).n_haplotypes
    )
    if command == "train-gan":  # privacy-check judges the kept state afresh as training did (within its error)
        run_genosynth("sample", model, "-n", "5000", "-o", tmp_path / "ag.h5", "--seed", "9")
        run_genosynth(
            "privacy-check", "--train", split["train"], "--holdout", split["holdout"], "--synthetic",
            tmp_path / "ag.h5", "-o", tmp_path / "privacy", "--seed", "9",
        )  # fmt: skip
        fresh = json.loads((tmp_path / "privacy" / "privacy.json").read_text())
        error = summary["kept_judged_privacy_loss_se"]
        assert abs(fresh["privacy_loss"] - summary["kept_judged_privacy_loss"]) <= 3 * error
    record = load_model_file(model).provenance[-1]
    assert [entry["name"] for entry in record["inputs"]] == ["train.h5", "holdout.h5"]
    assert read_matrix(split["train"]).n_sites == 805


def test_fidelity_early_stopping_without_a_holdout_is_one_line(split, tmp_path):
    result = run_genosynth(
        "train-rbm", split["train"], "-o", tmp_path / "m.safetensors", "--early-stop", "fidelity", check=False
    )
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "--early-stop fidelity needs held-out haplotypes (holdout)" in result.stderr
    assert not list(tmp_path.iterdir())
