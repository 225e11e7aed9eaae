"""Model and checkpoint files: tensors plus JSON text only, saved with ``torch.save`` and read back with
``torch.load(weights_only=True)``, so opening a file never runs pickled code.

A model file holds everything ``sample`` needs: the kind ("gan" or "rbm"), its configuration, the weights,
the training sites (CHROM/POS/ID/REF/ALT, to write VCF), the population labels of a conditional model and
the provenance. A checkpoint is a model file plus the training state (optimizers, random generator, epoch,
history, best state) that ``--resume`` continues from.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_outputs
from .errors import InputError
from .matrix import Sites

FORMAT_NAME = "genosynth-model"
FORMAT_VERSION = 1


@dataclass
class ModelFile:
    """The content of a model (or checkpoint) file."""

    kind: str
    config: dict[str, Any]
    weights: dict[str, Any]
    sites: Sites
    populations: list[str] = field(default_factory=list)
    population_frequencies: list[float] = field(default_factory=list)
    provenance: list[dict[str, Any]] = field(default_factory=list)
    training: dict[str, Any] | None = None


def save_model_file(path: Path, model: ModelFile) -> None:
    """Write ``model`` atomically (temporary name, then rename)."""
    import torch

    content = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "kind": model.kind,
        "config": json.dumps(model.config),
        "weights": {name: tensor.detach().cpu() for name, tensor in model.weights.items()},
        "sites": json.dumps({"chrom": model.sites.chrom.tolist(), "id": model.sites.id.tolist(),
                             "ref": model.sites.ref.tolist(), "alt": model.sites.alt.tolist()}),
        "positions": torch.as_tensor(model.sites.pos.astype(np.int64)),
        "populations": json.dumps({"labels": model.populations, "frequencies": model.population_frequencies}),
        "provenance": json.dumps(model.provenance),
    }
    if model.training is not None:
        content["training"] = model.training
    with atomic_outputs(path) as (temp,):
        torch.save(content, temp)


def load_model_file(path: Path, *, map_location: str = "cpu") -> ModelFile:
    """Read a model or checkpoint file; anything else is an InputError naming the file."""
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not a genosynth model file (not a PyTorch archive)")
    try:
        content = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        raise InputError(f"{path}: not a genosynth model file (it holds objects other than tensors and text, "
                         "which genosynth refuses to unpickle)") from None
    except (RuntimeError, zipfile.BadZipFile, EOFError, ValueError, OSError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"{path}: not a readable genosynth model file ({reason[:200]})") from None
    if not isinstance(content, dict) or content.get("format") != FORMAT_NAME:
        raise InputError(f"{path}: not a genosynth model file (no '{FORMAT_NAME}' header)")
    if content.get("format_version") != FORMAT_VERSION:
        raise InputError(f"{path}: model format version {content.get('format_version')} is not supported "
                         f"(this genosynth reads version {FORMAT_VERSION})")
    try:
        text = json.loads(content["sites"])
        sites = Sites(np.array(text["chrom"], dtype=str), content["positions"].numpy().astype(np.int64),
                      np.array(text["id"], dtype=str), np.array(text["ref"], dtype=str), np.array(text["alt"], dtype=str))
        populations = json.loads(content["populations"])
        return ModelFile(kind=content["kind"], config=json.loads(content["config"]), weights=content["weights"],
                         sites=sites, populations=populations["labels"],
                         population_frequencies=populations["frequencies"],
                         provenance=json.loads(content["provenance"]), training=content.get("training"))
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f"{path}: damaged genosynth model file ({type(err).__name__}: {err})") from None
