"""The machine a step runs on: the ``--device auto|cpu|cuda`` and ``--threads`` options shared by every step that
computes with torch, the one-off preparation of the CPU maths those steps run on (:func:`prepare_cpu_math`), and
the memory an output may take (:func:`require_memory`)."""

from __future__ import annotations

import functools
import os
import threading
from pathlib import Path

from genosynth._infra.errors import InputError, OptionError
from genosynth._infra.options import parse_int
from genosynth._infra.progress import note, warn

DEVICE_CHOICES = ("auto", "cpu", "cuda")

# the element-wise functions ATen hands to MKL's vector maths library (VML) on CPU (ATen/cpu/vml.h)
VML_FUNCTIONS = (
    "acos",
    "asin",
    "atan",
    "cos",
    "erf",
    "erfc",
    "erfinv",
    "exp",
    "log",
    "log10",
    "log2",
    "sin",
    "sqrt",
    "tan",
    "tanh",
    "trunc",
)
_cpu_math_lock = threading.Lock()
_cpu_math_prepared = False


def resolve_device(name: str) -> str:
    """The torch device to use: ``auto`` is ``cuda`` when a GPU is visible and usable, else ``cpu`` (with one
    warning saying why when a GPU is present but not usable). Prepares the CPU maths first
    (:func:`prepare_cpu_math`), since every device computes some of its work there, and says once which device
    the step computes on."""

    if name not in DEVICE_CHOICES:
        raise OptionError("device", f"{name!r}: expected one of {', '.join(DEVICE_CHOICES)}")
    prepare_cpu_math()
    problem = cuda_problem()
    if name == "cuda" and problem is not None:
        raise OptionError("device", f"cuda: {problem} (use auto or cpu)")
    if name == "auto":
        name = "cpu" if problem is not None else "cuda"
        if problem is not None and problem != NO_GPU and problem not in _announced:
            _announced.add(problem)
            warn(f"--device auto: {problem}; computing on the CPU")
    _announce(name)
    return name


NO_GPU = "no CUDA device is visible"
_announced: set[str] = set()  # the devices (and CUDA problems) already reported by this process


@functools.cache
def cuda_problem() -> str | None:
    """Why torch cannot compute on a GPU here (None when it can): no GPU, a PyTorch without CUDA on a machine
    with an NVIDIA GPU, a driver torch cannot use, or a GPU whose architecture this torch has no kernels for.

    Example
    -------
    >>> cuda_problem() in (None, NO_GPU) or isinstance(cuda_problem(), str)
    True
    """
    import warnings

    import torch

    gpu_present = Path("/dev/nvidia0").exists() or Path("/proc/driver/nvidia/gpus").is_dir()
    if torch.version.cuda is None:
        return (
            f"an NVIDIA GPU is present but this PyTorch ({torch.__version__}) is built without CUDA"
            if gpu_present
            else NO_GPU
        )
    with warnings.catch_warnings(record=True) as caught:  # torch says why CUDA failed to initialise as a warning
        warnings.simplefilter("always")
        available = torch.cuda.is_available()
    if not available:
        if gpu_present or caught:
            reason = str(caught[0].message).strip().splitlines()[0] if caught else "CUDA could not be initialised"
            return f"a CUDA device is visible but not usable ({reason})"
        return NO_GPU
    try:
        (torch.ones(1, device="cuda") + 1).item()  # a GPU whose architecture this build has no kernel for fails here
    except Exception as err:  # torch raises RuntimeError or its AcceleratorError subclasses
        return f"a CUDA device is visible but not usable ({str(err).strip().splitlines()[0]})"
    return None


def _announce(device: str) -> None:
    """Say once which device this process computes on (with the step's next progress or result line)."""
    if device in _announced:
        return
    _announced.add(device)
    if device == "cuda":
        import torch

        note(f"computing on cuda ({torch.cuda.get_device_name(0)})")
    else:
        import torch

        note(f"computing on cpu ({torch.get_num_threads()} threads)")


def available_memory(cgroup: str | Path = "/sys/fs/cgroup") -> int | None:
    """Bytes of memory this process may still take: the kernel's MemAvailable, lowered to what its container's
    memory limit (cgroup v2 ``memory.max``) leaves; None when unknown.

    Example
    -------
    >>> available_memory() is None or available_memory() > 0
    True
    """
    free = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                free = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit, used = (Path(cgroup) / "memory.max").read_text().strip(), (Path(cgroup) / "memory.current").read_text()
        if limit != "max":
            left = max(0, int(limit) - int(used))
            free = left if free is None else min(free, left)
    except (OSError, ValueError):
        pass
    return free


def require_memory(needed: int, what: str, *, advice: str) -> None:
    """Refuse up front (an InputError with the figures) an output that needs ``needed`` bytes of memory when the
    machine has less available; ``what`` says what needs it and ``advice`` how to need less.

    Example
    -------
    >>> require_memory(1_000, "1 haplotype x 1000 sites", advice="ask for fewer")
    """
    free = available_memory()
    if free is not None and needed > free:
        raise InputError(
            f"{what} need {format_bytes(needed)} of memory, and this machine has {format_bytes(free)} available: "
            f"{advice}"
        )


def format_bytes(count: float) -> str:
    """A byte count in bytes, KiB, MiB, GiB or TiB.

    Example
    -------
    >>> format_bytes(3 * 2**30)
    '3.0 GiB'
    """
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError


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


def usable_cpus(cgroup: str | Path = "/sys/fs/cgroup") -> int:
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
    for quota_file, period_file in (
        (cgroup / "cpu.max", None),
        (cgroup / "cpu" / "cpu.cfs_quota_us", cgroup / "cpu" / "cpu.cfs_period_us"),
    ):
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

    threads = (
        min(torch.get_num_threads(), usable_cpus()) if threads is None else parse_int("threads", threads, minimum=1)
    )
    torch.set_num_threads(threads)
    return threads
