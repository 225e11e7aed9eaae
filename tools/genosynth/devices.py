"""The ``--device auto|cpu|cuda`` option shared by every step that computes."""

from __future__ import annotations

from .errors import OptionError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> str:
    """The torch device to use: ``auto`` is ``cuda`` when a GPU is visible, else ``cpu``."""
    import torch

    if name not in DEVICE_CHOICES:
        raise OptionError("device", f"{name!r}: expected one of {', '.join(DEVICE_CHOICES)}")
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise OptionError("device", "cuda: no CUDA device is visible (use auto or cpu)")
    return name
