"""The usable cores (a container's CPU quota included): make test's worker count and the steps' torch threads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_genosynth
from genosynth._infra.devices import usable_cpus

AFFINITY = len(os.sched_getaffinity(0))


def _cgroup(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"cpu.max": "150000 100000\n"}, 2),  # docker --cpus 1.5 (cgroup v2): rounded up
        ({"cpu.max": "100000 100000\n"}, 1),
        ({"cpu.max": "max 100000\n"}, AFFINITY),  # no quota
        ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),  # cgroup v1
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, AFFINITY),
        ({}, AFFINITY),  # no cgroup files readable
    ],
)
def test_usable_cpus_is_the_affinity_lowered_to_the_cpu_quota(tmp_path, files, expected):
    assert usable_cpus(_cgroup(tmp_path, files)) == min(expected, AFFINITY)


def test_a_quota_above_the_affinity_leaves_the_affinity(tmp_path):
    assert usable_cpus(_cgroup(tmp_path, {"cpu.max": f"{(AFFINITY + 8) * 100000} 100000\n"})) == AFFINITY


def test_pytest_n_auto_starts_one_worker_per_usable_cpu():
    """As make test calls it (where no quota applies this only shows the hook is wired and agrees)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_AUTO_NUM_WORKERS"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "auto",
            "-p",
            "no:cacheprovider",
            "tests/test_cpus.py::test_a_quota_above_the_affinity_leaves_the_affinity",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    n = usable_cpus()
    assert f"created: {n}/{n} worker" in result.stdout, result.stdout[-2000:]


# a fresh Python as the genosynth command starts: run the step, then report torch's intra-op threads
STEP_THEN_THREADS = """
import sys, torch
from genosynth.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    assert exit.code == 0, exit.code
print("threads", torch.get_num_threads())
"""


def _threads_after_step(small, output, *options):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            STEP_THEN_THREADS,
            "privacy-check",
            "--train",
            str(small),
            "--holdout",
            str(small),
            "--synthetic",
            str(small),
            "-o",
            str(output),
            "--repeats",
            "1",
            "--seed",
            "1",
            "--device",
            "cpu",
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (output / "report.html").is_file()
    return int(result.stdout.split("threads ")[-1])


def test_a_torch_step_runs_on_the_threads_it_is_given(small, tmp_path):
    assert _threads_after_step(small, tmp_path / "privacy", "--threads", "1") == 1


def test_a_torch_step_runs_on_at_most_the_usable_cpus_by_default(small, tmp_path):
    """torch caps its default at the affinity itself; the quota is this default's to add, which a machine without
    one (as here) cannot show: test_usable_cpus_... holds the quota arithmetic."""
    assert 1 <= _threads_after_step(small, tmp_path / "privacy") <= usable_cpus()


def test_threads_below_one_are_a_usage_error(small, tmp_path):
    result = run_genosynth(
        "evaluate", "--real", small, "--synthetic", f"a={small}", "-o", tmp_path / "e", "--threads", "0", check=False
    )
    assert result.returncode == 1 and "--threads must be >= 1" in result.stderr
    assert not (tmp_path / "e").exists()


def test_a_step_that_does_not_compute_with_torch_does_not_import_it(small, tmp_path):
    """--threads waits until a step resolves its device: a baseline sample (0.3 s) never loads torch (1.6 s)."""
    code = (
        "import sys; from genosynth.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
        "print('torch imported', 'torch' in sys.modules)"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "sample",
            "--baseline",
            "bernoulli",
            "--reference",
            str(small),
            "-n",
            "10",
            "-o",
            str(tmp_path / "b.h5"),
            "--seed",
            "1",
            "--threads",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "torch imported False" in result.stdout and (tmp_path / "b.h5").is_file()
