"""bench/gpu.py in its tiny CPU mode, as CI runs it so that the GPU benchmark never rots: every section runs in a
fresh process and writes its figures, and the documentation page is rendered from the result file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GPU_BENCH = REPO / "bench" / "gpu.py"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("gpu_bench")
    result = folder / "tiny.json"
    run = subprocess.run(
        [
            sys.executable,
            str(GPU_BENCH),
            "run",
            "--tiny",
            "--device",
            "cpu",
            "--budget",
            "60",
            "-o",
            str(result),
            "--data-dir",
            str(folder / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    docs = folder / "docs"
    render = subprocess.run(
        [sys.executable, str(GPU_BENCH), "render", str(result), "--docs", str(docs)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert render.returncode == 0, render.stderr[-3000:]
    return {
        "result": json.loads(result.read_text()),
        "page": (docs / "gpu.md").read_text(),
        "docs": docs,
        "log": run.stdout,
    }


def test_every_section_ran_without_error(tiny):
    sections = tiny["result"]["sections"]
    assert list(sections) == ["yardstick", "throughput", "time_to_target", "conv_window", "scale", "gpu_tests"]
    assert not [name for name, section in sections.items() if "error" in section], sections
    assert tiny["result"]["schema_version"] == 1 and tiny["result"]["device"] == "cpu"


def test_throughput_measures_every_generator_and_the_cnn(tiny):
    rows = [row for row in tiny["result"]["sections"]["throughput"]["rows"] if row["group"] == "device"]
    measured = {row["generator"] for row in rows if row.get("train_haplotypes_per_s", 0) > 0}
    assert measured == {
        "gan yelmen2021",
        "gan wgan-gp",
        "gan conv-wgan-gp",
        "rbm",
        "diffusion sites",
        "diffusion pca",
        "selection cnn",
    }
    assert all(
        row["sample_haplotypes_per_s"] > 0 and row["finite_losses"]
        for row in rows
        if row["generator"] != "selection cnn"
    )
    large = [row for row in tiny["result"]["sections"]["throughput"]["rows"] if row["group"] == "large_batch"]
    assert large and all(row.get("train_haplotypes_per_s", 0) > 0 for row in large)


def test_time_to_target_judges_each_model_against_the_cpu_benchmark_targets(tiny):
    section = tiny["result"]["sections"]["time_to_target"]
    for name in ("gan", "rbm", "diffusion"):
        stage = section["models"][name]["stages"][0]
        assert 0 <= stage["privacy_loss"] + 1 and -1 <= stage["af_r"] <= 1 and stage["epochs"] >= 1
        # a few seconds of CPU training meet no target: the judge must say so, naming them
        assert "af_r >= 0.98" in section["models"]["gan"]["stages"][-1]["missed"]
    assert section["models"]["rbm"]["targets"]["ld_r_all_pairs"] == [">=", 0.97]


def test_window_scale_and_gpu_tests_sections(tiny):
    sections = tiny["result"]["sections"]
    assert set(sections["conv_window"]["sets"]) == {"conv_gan", "bernoulli", "holdout"}
    assert sections["conv_window"]["sets"]["holdout"]["af_r"] > 0.5
    sampled = sections["scale"]["sampling"]
    assert {"gan", "rbm", "diffusion", "conv_gan"} <= set(sampled)
    assert all(row["haplotypes"] == 1000 for row in sampled.values() if "skipped" not in row)
    assert sections["scale"]["evaluate"]["real"] == sections["scale"]["evaluate"]["synthetic"] > 0
    collected = sections["gpu_tests"]["tests"]
    assert sections["gpu_tests"]["collected_only"] and len(collected) >= 6
    assert "tests/test_models.py::test_gan_and_rbm_train_and_sample_on_cuda" in collected


def test_the_page_and_plots_come_from_the_result(tiny):
    page, docs = tiny["page"], tiny["docs"]
    throughput = next(
        row
        for row in tiny["result"]["sections"]["throughput"]["rows"]
        if row["generator"] == "rbm" and row["group"] == "device"
    )
    assert f"| rbm | 64 | {throughput['train_haplotypes_per_s']:,.0f} |" in page
    for heading in (
        "## Yardstick",
        "## Throughput",
        "## Time to the fidelity targets",
        "## The convolutional GAN",
        "## At scale",
        "## The `gpu`-marked tests",
    ):
        assert heading in page
    for plot in ("gpu-throughput.png", "gpu-time-to-target.png"):
        assert f"]({plot})" in page and (docs / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dense_gan_training_state_is_estimated_before_it_is_allocated():
    sys.path.insert(0, str(REPO / "bench"))
    from genosynth.generate.models.gan import GanConfig
    from gpu import state_bytes

    config = GanConfig.for_preset("wgan-gp", n_sites=1000)
    layers = [(600, 833), (833, 909), (909, 1000), (1000, 500), (500, 333), (333, 1)]
    assert state_bytes("gan", config) == 16 * sum(a * b + b for a, b in layers)
    assert state_bytes("gan", GanConfig.for_preset("conv-wgan-gp", n_sites=1000)) is None
