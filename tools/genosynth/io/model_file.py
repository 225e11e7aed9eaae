"""Model and checkpoint files: safetensors (tensors) with JSON metadata in the safetensors header, so opening a file
never runs code (Galaxy datatype ``safetensors``).

A model file holds everything sampling needs: the kind, its configuration, the model's tensors (``model.*``),
the training sites (positions as the tensor ``sites.pos``, CHROM/ID/REF/ALT in the header), the population
labels of a conditional model, an optional ``extra`` record (such as the window a model covers) and the
provenance. A checkpoint adds the training state that ``resume`` continues from: optimizer states, the random
generator, epoch, history and early-stopping state, its tensors as ``training.N`` and their places in a JSON
skeleton.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.atomic import atomic_outputs
from genosynth._infra.errors import InputError, first_line
from genosynth._infra.version import __version__
from genosynth.io.matrix import Sites

FORMAT_NAME = "genosynth-model"
FORMAT_VERSION = 2
_ZIP_SIGNATURE = b"PK\x03\x04"
_MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit


@dataclass
class ModelFile:
    """The content of a model (or checkpoint) file."""

    kind: str
    config: dict[str, Any]
    tensors: dict[str, Any]
    sites: Sites
    populations: list[str] = field(default_factory=list)
    population_frequencies: list[float] = field(default_factory=list)
    provenance: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] | None = None


def save_model_file(path: str | Path, model: ModelFile) -> None:
    """Write ``model`` atomically (temporary name, then rename) as a safetensors file."""
    import torch
    from safetensors.torch import save_file

    tensors = {f"model.{name}": tensor for name, tensor in model.tensors.items()}
    tensors["sites.pos"] = torch.as_tensor(model.sites.pos.astype(np.int64))
    metadata = {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "software": f"genosynth {__version__}",
        "kind": model.kind,
        "config": json.dumps(model.config),
        "sites": json.dumps(
            {
                "chrom": model.sites.chrom.tolist(),
                "id": model.sites.id.tolist(),
                "ref": model.sites.ref.tolist(),
                "alt": model.sites.alt.tolist(),
            }
        ),
        "populations": json.dumps({"labels": model.populations, "frequencies": model.population_frequencies}),
        "provenance": json.dumps(model.provenance),
        "extra": json.dumps(model.extra),
    }
    if model.training is not None:
        training_tensors: dict[str, Any] = {}
        metadata["training"] = json.dumps(_flatten(model.training, training_tensors))
        tensors.update(training_tensors)
    # safetensors stores each tensor on its own: contiguous CPU copies that share no memory
    tensors = {name: tensor.detach().to("cpu").contiguous().clone() for name, tensor in tensors.items()}
    with atomic_outputs(path) as (temp,):
        save_file(tensors, str(temp), metadata=metadata)


def load_model_file(path: str | Path, *, device: str = "cpu", tensors: bool = True) -> ModelFile:
    """Read a model or checkpoint file; anything else is an InputError naming the file in one line. With
    ``tensors=False`` only its header and sites (no weights, no training state)."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    _check_header(path)
    try:
        with safe_open(str(path), framework="pt", device=device) as handle:
            metadata = handle.metadata() or {}
            names = handle.keys() if tensors else [name for name in handle.keys() if name == "sites.pos"]
            read = {name: handle.get_tensor(name) for name in names}
    except Exception as err:  # safetensors' own errors (truncated data, bad offsets) as one line
        raise InputError(f"{path}: not a readable genosynth model file ({first_line(err)[:200]})") from None
    if metadata.get("format") != FORMAT_NAME:
        raise InputError(f"{path}: a safetensors file, but not a genosynth model file (no '{FORMAT_NAME}' metadata)")
    if metadata.get("format_version") != str(FORMAT_VERSION):
        raise InputError(
            f"{path}: model format version {metadata.get('format_version')} is not supported "
            f"(this genosynth reads version {FORMAT_VERSION})"
        )
    try:
        text = json.loads(metadata["sites"])
        sites = Sites(
            np.array(text["chrom"], dtype=str),
            read.pop("sites.pos").cpu().numpy().astype(np.int64),
            np.array(text["id"], dtype=str),
            np.array(text["ref"], dtype=str),
            np.array(text["alt"], dtype=str),
        )
        populations = json.loads(metadata["populations"])
        model_tensors = {name[len("model.") :]: t for name, t in read.items() if name.startswith("model.")}
        training = None
        if "training" in metadata and tensors:
            training = _unflatten(json.loads(metadata["training"]), read)
        return ModelFile(
            kind=metadata["kind"],
            config=json.loads(metadata["config"]),
            tensors=model_tensors,
            sites=sites,
            populations=populations["labels"],
            population_frequencies=populations["frequencies"],
            provenance=json.loads(metadata["provenance"]),
            extra=json.loads(metadata.get("extra", "{}")),
            training=training,
        )
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f"{path}: damaged genosynth model file ({type(err).__name__}: {err})") from None


def _check_header(path: Path) -> None:
    """One-line refusals of what is plainly not a whole safetensors file, before the parser sees it."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        start = handle.read(9)
        if start[:4] == _ZIP_SIGNATURE:
            raise InputError(
                f"{path}: a PyTorch (.pt) model file of genosynth 0.1, which this version no longer "
                "opens (it could hold pickled code); train the model again with this version "
                "(its training options are the same)"
            )
        if len(start) < 9:
            raise InputError(f"{path}: not a genosynth model file (too short)")
        header_bytes = struct.unpack("<Q", start[:8])[0]
        if not 2 <= header_bytes <= _MAX_HEADER_BYTES or start[8:9] != b"{":
            raise InputError(f"{path}: not a genosynth model file (not a safetensors file)")
        handle.seek(8)
        header = handle.read(header_bytes)
    try:
        entries = json.loads(header)
        data_end = max(
            (entry["data_offsets"][1] for name, entry in entries.items() if name != "__metadata__"), default=0
        )
    except (ValueError, KeyError, TypeError, IndexError):
        if len(header) < header_bytes:
            data_end = 0
        else:
            raise InputError(f"{path}: not a genosynth model file (unreadable safetensors header)") from None
    if size < 8 + header_bytes + data_end:
        raise InputError(
            f"{path}: truncated genosynth model file ({size} bytes where its header announces "
            f"{8 + header_bytes + data_end})"
        )


def _flatten(value: Any, tensors: dict[str, Any]) -> Any:
    """A JSON skeleton of ``value`` with every tensor moved into ``tensors`` (as ``training.N``); dict keys keep
    their types (optimizer states are keyed by integers)."""
    import torch

    if isinstance(value, torch.Tensor):
        name = f"training.{len(tensors)}"
        tensors[name] = value
        return {"__tensor__": name}
    if isinstance(value, dict):
        return {"__dict__": [[key, _flatten(item, tensors)] for key, item in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"__list__": [_flatten(item, tensors) for item in value], "tuple": isinstance(value, tuple)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a model file")


def _unflatten(skeleton: Any, tensors: dict[str, Any]) -> Any:
    if isinstance(skeleton, dict):
        if "__tensor__" in skeleton:
            return tensors[skeleton["__tensor__"]]
        if "__dict__" in skeleton:
            return {
                key if not isinstance(key, list) else tuple(key): _unflatten(item, tensors)
                for key, item in skeleton["__dict__"]
            }
        if "__list__" in skeleton:
            items = [_unflatten(item, tensors) for item in skeleton["__list__"]]
            return tuple(items) if skeleton["tuple"] else items
    return skeleton
