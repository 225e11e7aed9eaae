"""The generator kinds by name: adding a generator is one module and one line here."""

from __future__ import annotations

from genosynth._infra.errors import InputError
from genosynth.generate.models.base import Generator
from genosynth.generate.models.diffusion import Diffusion
from genosynth.generate.models.gan import Gan
from genosynth.generate.models.rbm import Rbm

KINDS: dict[str, type[Generator]] = {cls.kind: cls for cls in (Gan, Rbm, Diffusion)}


def generator_class(kind: str) -> type[Generator]:
    """The class of generator ``kind``; an InputError for a kind this genosynth does not know."""
    try:
        return KINDS[kind]
    except KeyError:
        raise InputError(f"unknown model kind {kind!r} (this genosynth knows {', '.join(KINDS)})") from None
