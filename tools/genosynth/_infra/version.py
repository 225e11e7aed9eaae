r"""genosynth's version, read from the one file that holds it (``genosynth/VERSION``, package data; the build's
metadata, the container images, the pipeline and the Galaxy tools read or are checked against the same file).

Example
-------
>>> import re
>>> bool(re.fullmatch(r"\d+\.\d+\.\d+", __version__))
True
"""

from __future__ import annotations

from importlib.resources import files

__version__ = files("genosynth").joinpath("VERSION").read_text(encoding="utf-8").strip()
