"""The ``--device auto|cpu|cuda`` option shared by every step that computes, and the one-off preparation of the
CPU maths those steps run on (:func:`prepare_cpu_math`)."""

from __future__ import annotations

import threading

from .errors import OptionError

DEVICE_CHOICES = ("auto", "cpu", "cuda")

# the element-wise functions ATen hands to MKL's vector maths library (VML) on CPU (ATen/cpu/vml.h)
VML_FUNCTIONS = ("acos", "asin", "atan", "cos", "erf", "erfc", "erfinv", "exp", "log", "log10", "log2", "sin",
                 "sqrt", "tan", "tanh", "trunc")
_cpu_math_lock = threading.Lock()
_cpu_math_prepared = False


def resolve_device(name: str) -> str:
    """The torch device to use: ``auto`` is ``cuda`` when a GPU is visible, else ``cpu``. Prepares the CPU
    maths first (:func:`prepare_cpu_math`), since every device computes some of its work there."""
    import torch

    if name not in DEVICE_CHOICES:
        raise OptionError("device", f"{name!r}: expected one of {', '.join(DEVICE_CHOICES)}")
    prepare_cpu_math()
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
