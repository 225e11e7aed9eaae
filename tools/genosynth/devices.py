"""The ``--device auto|cpu|cuda`` and ``--threads`` options shared by every step that computes with torch, and the
one-off preparation of the CPU maths those steps run on (:func:`prepare_cpu_math`)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from .errors import OptionError
from .options import parse_int

DEVICE_CHOICES = ("auto", "cpu", "cuda")

# the element-wise functions ATen hands to MKL's vector maths library (VML) on CPU (ATen/cpu/vml.h)
VML_FUNCTIONS = ("acos", "asin", "atan", "cos", "erf", "erfc", "erfinv", "exp", "log", "log10", "log2", "sin",
                 "sqrt", "tan", "tanh", "trunc")
_cpu_math_lock = threading.Lock()
_cpu_math_prepared = False
_deferred_threads: "tuple[int | None] | None" = None  # the command line's --threads, until a step computes


def resolve_device(name: str) -> str:
    """The torch device to use: ``auto`` is ``cuda`` when a GPU is visible, else ``cpu``. Prepares the CPU
    maths first (:func:`prepare_cpu_math`), since every device computes some of its work there, and sets the CPU
    threads the command line asked for (:func:`defer_cpu_threads`)."""
    import torch

    if name not in DEVICE_CHOICES:
        raise OptionError("device", f"{name!r}: expected one of {', '.join(DEVICE_CHOICES)}")
    prepare_cpu_math()
    global _deferred_threads
    if _deferred_threads is not None:
        set_cpu_threads(_deferred_threads[0])
        _deferred_threads = None
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise OptionError("device", "cuda: no CUDA device is visible (use auto or cpu)")
    return name


def prepare_cpu_math() -> None:
    """Call each VML function once, in float32 and float64, on this thread; later calls do nothing.

    oneMKL 2024.2, the one in torch's CPU wheels, picks a VML function's kernel on that function's first call.
    When the first call runs on several intra-op threads at once, one thread can run a low-accuracy kernel for
    its whole share of that call although high accuracy is asked for (pytorch/pytorch#188792, fixed in oneMKL
    2025.0). On two threads here that struck a fair share of fresh processes (the README gives the measurement):
    two identical training runs could differ and a resumed one did not continue bit for bit (the bad kernel
    serves that one call, but training carries its error on). First calls on one thread pick the right kernels.

    Example
    -------
    >>> prepare_cpu_math()
    """
    global _cpu_math_prepared
    with _cpu_math_lock:
        if _cpu_math_prepared:
            return
        import torch

        for dtype in (torch.float32, torch.float64):
            values = torch.full((16,), 0.5, dtype=dtype)  # inside every function's domain
            for function in VML_FUNCTIONS:
                getattr(torch, function)(values)
        _cpu_math_prepared = True


def usable_cpus(cgroup: "str | Path" = "/sys/fs/cgroup") -> int:
    """The cores this process may use: its CPU affinity, lowered to its container's CPU quota (cgroup v2
    ``cpu.max``, else v1 ``cpu.cfs_quota_us``), rounded up.

    ``docker run --cpus 2`` leaves the affinity at every core of the host; only the quota says 2.

    Example
    -------
    >>> 1 <= usable_cpus() <= len(os.sched_getaffinity(0))
    True
    """
    cgroup = Path(cgroup)
    cpus = len(os.sched_getaffinity(0))
    for quota_file, period_file in ((cgroup / "cpu.max", None),
                                    (cgroup / "cpu" / "cpu.cfs_quota_us", cgroup / "cpu" / "cpu.cfs_period_us")):
        try:
            fields = quota_file.read_text().split()
            quota, period = fields[0], (fields[1] if period_file is None else period_file.read_text().strip())
        except (OSError, IndexError):
            continue
        if quota not in ("max", "-1"):
            cpus = min(cpus, max(1, -(-int(quota) // int(period))))
        break
    return cpus


def set_cpu_threads(threads: int | None = None) -> int:
    """Set torch's intra-op CPU threads to ``threads``; when None, lower torch's own default (the host's physical
    cores, or ``OMP_NUM_THREADS``) to :func:`usable_cpus`, so that a step in a CPU-limited container does not run
    more threads than its share of cores. Returns the threads set.

    Example
    -------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> set_cpu_threads(1), torch.get_num_threads()
    (1, 1)
    >>> _ = set_cpu_threads(before)
    """
    import torch

    threads = min(torch.get_num_threads(), usable_cpus()) if threads is None else parse_int("threads", threads,
                                                                                              minimum=1)
    torch.set_num_threads(threads)
    return threads


def defer_cpu_threads(threads: int | None) -> None:
    """Have the next :func:`resolve_device` call :func:`set_cpu_threads` with ``threads``: the command line's
    ``--threads``, applied once a step computes with torch, so that a step that does not (a baseline sample) does
    not import it."""
    global _deferred_threads
    _deferred_threads = (None if threads is None else parse_int("threads", threads, minimum=1),)
