"""Print the nf-core ``versions.yml`` of one pipeline process: genosynth, torch and CUDA versions.

Usage (inside a Nextflow process): ``python3 -m genosynth.versions "${task.process}" > versions.yml``
"""

from __future__ import annotations

import sys

from . import __version__


def versions_yaml(process: str) -> str:
    """The YAML text nf-core modules emit as ``versions.yml``.

    Example
    -------
    >>> print(versions_yaml("GENOSYNTH_SAMPLE").splitlines()[0])
    "GENOSYNTH_SAMPLE":
    """
    import torch

    cuda = torch.version.cuda or "none"
    return (f'"{process}":\n    genosynth: "{__version__}"\n    torch: "{torch.__version__}"\n'
            f'    cuda: "{cuda}"\n    gpu_available: {str(torch.cuda.is_available()).lower()}\n')


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m genosynth.versions PROCESS_NAME")
    sys.stdout.write(versions_yaml(sys.argv[1]))
