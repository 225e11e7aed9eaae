"""Print the version of one piece of software in this environment, for the pipeline's `versions` topic channel.

Usage (a Nextflow module's ``eval`` output): ``python3 -m genosynth.versions genosynth|torch|cuda|beagle``
"""

from __future__ import annotations

import subprocess
import sys

from genosynth._infra.version import __version__


def software_version(name: str) -> str:
    """The version of ``name``: genosynth, torch, cuda (the CUDA runtime torch was built with, ``none`` for a CPU
    build) or beagle (from its jar's banner).

    Example
    -------
    >>> software_version("genosynth") == __version__
    True
    """
    if name == "genosynth":
        return __version__
    if name in ("torch", "cuda"):
        import torch

        return torch.__version__ if name == "torch" else (torch.version.cuda or "none")
    if name == "beagle":
        from genosynth.io.beagle import require_beagle

        java, jar = require_beagle("beagle's version")
        banner = subprocess.run([java, "-jar", str(jar)], capture_output=True, text=True).stdout
        first = banner.strip().splitlines()[0] if banner.strip() else "unknown"
        return first.split("(version ")[-1].rstrip(")") if "(version " in first else first
    raise ValueError(f"no version known for {name!r} (genosynth, torch, cuda, beagle)")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 -m genosynth.versions genosynth|torch|cuda|beagle")
    print(software_version(sys.argv[1]))
