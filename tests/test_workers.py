"""make test's worker count: one pytest-xdist worker per usable core, a container's CPU quota included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, usable_cpus

AFFINITY = len(os.sched_getaffinity(0))


def _cgroup(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize("files, expected", [
    ({"cpu.max": "150000 100000\n"}, 2),                     # docker --cpus 1.5 (cgroup v2): rounded up
    ({"cpu.max": "100000 100000\n"}, 1),
    ({"cpu.max": "max 100000\n"}, AFFINITY),                 # no quota
    ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),   # cgroup v1
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, AFFINITY),
    ({}, AFFINITY),                                          # no cgroup files readable
])
def test_usable_cpus_is_the_affinity_lowered_to_the_cpu_quota(tmp_path, files, expected):
    assert usable_cpus(_cgroup(tmp_path, files)) == min(expected, AFFINITY)


def test_a_quota_above_the_affinity_leaves_the_affinity(tmp_path):
    assert usable_cpus(_cgroup(tmp_path, {"cpu.max": f"{(AFFINITY + 8) * 100000} 100000\n"})) == AFFINITY


def test_pytest_n_auto_starts_one_worker_per_usable_cpu():
    """As make test calls it (where no quota applies this only shows the hook is wired and agrees)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_AUTO_NUM_WORKERS"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-n", "auto", "-p", "no:cacheprovider",
                             "tests/test_workers.py::test_a_quota_above_the_affinity_leaves_the_affinity"],
                            capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    n = usable_cpus()
    assert f"created: {n}/{n} worker" in result.stdout, result.stdout[-2000:]
