"""The device option's preparation of the CPU maths: a fresh process's first element-wise calls on two threads
give the same values as every later call."""

from __future__ import annotations

import subprocess
import sys

# In a fresh process as a step starts: resolve the device, then call every VML function of ATen on two threads
# (a tensor of 4096 values is two shares of ATen's 2048-value grain) and once more; the two results must agree.
FIRST_CALLS = """
import torch
from genosynth._infra.devices import VML_FUNCTIONS, resolve_device
torch.set_num_threads(2)
resolve_device("cpu")
for dtype in (torch.float32, torch.float64):
    x = torch.linspace(0.05, 0.95, 4096, dtype=dtype)
    for name in VML_FUNCTIONS:
        first, again = getattr(torch, name)(x), getattr(torch, name)(x)
        if not torch.equal(first, again):
            raise SystemExit(f"{name} {dtype}: {int((first != again).sum())} of 4096 values differ on the first call")
"""
# Without the preparation about one fresh process in four computed its first VML call with a low-accuracy kernel
# on one thread here; twenty processes all clean leave such a fault unseen with probability about 0.3%.
PROCESSES = 20


def test_the_first_element_wise_calls_of_a_fresh_process_are_as_accurate_as_later_ones():
    for _ in range(PROCESSES):
        run = subprocess.run([sys.executable, "-c", FIRST_CALLS], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr


def test_a_computing_step_says_which_device_it_uses(tmp_path):
    """Every step computing with torch names its device once; ``auto`` on a machine without a usable GPU computes
    on the CPU and, with no GPU present at all, gives no warning."""
    import genosynth
    import numpy as np
    from conftest import run_genosynth
    from genosynth._infra.devices import NO_GPU, cuda_problem

    rng = np.random.default_rng(1)
    matrix = genosynth.HaplotypeMatrix.artificial((rng.random((40, 12)) < 0.4).astype(np.uint8), _sites(12), ploidy=1)
    genosynth.write_haplotypes(matrix, tmp_path / "m.h5")
    result = run_genosynth(
        "train-rbm",
        tmp_path / "m.h5",
        "-o",
        tmp_path / "rbm.safetensors",
        "--epochs",
        "1",
        "--hidden-units",
        "2",
        "--chains",
        "4",
        "--monitor-gibbs-steps",
        "1",
        "--batch-size",
        "8",
    )
    problem = cuda_problem()
    device = "cuda" if problem is None else "cpu"
    assert sum(f"computing on {device}" in line for line in result.stderr.splitlines()) == 1, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning:" in line]
    if problem in (None, NO_GPU):
        assert warnings == [], result.stderr
    else:  # a GPU present but not usable: one warning saying why
        assert len(warnings) == 1 and problem in warnings[0], result.stderr
    quiet = run_genosynth("--quiet", "sample", tmp_path / "rbm.safetensors", "-n", "4", "-o", tmp_path / "ag.h5")
    assert quiet.stderr == "", quiet.stderr


def _sites(n):
    import numpy as np
    from genosynth.io.matrix import Sites

    return Sites(np.full(n, "1"), np.arange(1, n + 1) * 100, np.full(n, "."), np.full(n, "A"), np.full(n, "C"))
