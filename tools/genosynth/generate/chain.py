"""Sampling a chromosome from the models of its windows (a chain): every artificial haplotype is drawn window by
window, window i+1 conditioned on the sites the windows before it just generated, so that each haplotype is
one coherent sequence; the output is streamed one window at a time, and models given as files are loaded one
at a time, so memory grows with the haplotypes times one window (and one window's model), not with the
chromosome."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.devices import require_memory, resolve_device
from genosynth._infra.errors import OptionError
from genosynth._infra.options import parse_haplotype_count, parse_int
from genosynth._infra.progress import Progress
from genosynth._infra.provenance import make_record, resolve_seed
from genosynth.generate.trained import Model, ModelDescription, ModelHeader, read_model_header
from genosynth.io import HaplotypeWriter
from genosynth.io.matrix import HaplotypeMatrix, Sites
from genosynth.io.windows import ChainLink, check_chain, site_keys

#: a window model of a chain: loaded, or a model file (its path or its header), loaded when its window comes
ChainModel = Model | ModelHeader | str | os.PathLike


@dataclass
class ChainDraw:
    """A chain's artificial samples (``header``: samples, populations and provenance, no sites), its
    ``chromosome``, its ``n_sites`` and an iterator over its windows' (sites, haplotypes n x window sites)."""

    header: HaplotypeMatrix
    chromosome: str
    n_sites: int
    windows: Iterator[tuple[Sites, np.ndarray]]


def draw_chain(
    models: Sequence[ChainModel],
    n: int,
    *,
    seed: int | None = None,
    population: str | None = None,
    ploidy: int = 1,
    batch: int = 10_000,
    device: str = "auto",
    progress: bool = True,
    **options: Any,
) -> ChainDraw:
    """Check that ``models`` chain (see :func:`genosynth.io.windows.check_chain`) and prepare the draw of ``n``
    haplotypes through them; the haplotypes are generated as the windows are iterated.

    ``models`` are loaded :class:`Model` objects or model files (paths, or headers from
    :func:`genosynth.read_model_header`); a file's header is read at once (the checks need only that)
    and its model loaded on ``device`` when its window comes, then released, so a chromosome of many windows
    never holds more than one file's model. ``population`` (a conditional chain) draws every haplotype from
    it; otherwise each sample's population is drawn once, in the first window's training proportions, and
    carried through the chain. ``options`` are sampling options, each passed to the models of the kinds it
    applies to; their values are checked against every window's model (a file's header) before anything is
    drawn, so a bad one is an OptionError here, not midway through the chain.
    """
    if not models:
        raise OptionError("models", "a chain needs at least one model")
    described = [m if isinstance(m, ModelDescription) else read_model_header(m) for m in models]
    check_chain(
        [
            ChainLink(
                model.name(f"model {i + 1}"),
                model.sites,
                site_keys(model.window.get("context")),
                _preceding(model),
                model.populations,
            )
            for i, model in enumerate(described)
        ]
    )
    n, ploidy = parse_haplotype_count(n, ploidy)
    batch = parse_int("batch", batch, minimum=1)
    if options.get("sampling_set") is not None:
        raise OptionError(
            "sampling_set",
            "starts an RBM's chains from real haplotypes of one window; a chain of windows cannot take it",
        )
    devices = {m.generator.device for m in described if isinstance(m, Model)}
    if any(isinstance(m, ModelHeader) for m in described):
        devices.add(resolve_device(device))
    if len(devices) > 1:
        raise OptionError(
            "models",
            f"a chain's models must be on one device, not {' and '.join(sorted(devices))}"
            " (load them on one, or give device= for those read from files)",
        )
    for name in options:
        if not any(name in model.sampling_option_names for model in described):
            raise OptionError(name, "applies to none of the chain's models")
    for model in described:  # every window's option values, before anything is drawn or loaded
        model.check_sampling_options(options)
    seed = resolve_seed(seed)
    widest = max(len(m.sites) for m in described) + max(m.context_sites for m in described)
    # one window's uint8 haplotypes with the context kept, and a batch's float32 outputs with their intermediates
    require_memory(
        n * widest * 2 + min(batch, n) * widest * 16,
        f"{n} haplotypes x {widest} sites of a window",
        advice="ask for fewer haplotypes (-n) and a smaller --batch, or draw them in several runs",
    )
    codes = described[0].population_codes(n, population, ploidy, np.random.default_rng(seed))
    windows = [[str(m.sites.chrom[0]), int(m.sites.pos[0]), int(m.sites.pos[-1])] for m in described]
    inputs = [m.source for m in described if m.source]
    record = make_record(
        "sample",
        parameters={"n": n, "population": population, "ploidy": ploidy, "batch": batch, "windows": windows, **options},
        seed=seed,
        inputs=inputs,
    )
    provenance = described[0].provenance + [m.provenance[-1] for m in described[1:] if m.provenance] + [record]
    populations = None if codes is None else np.asarray(described[0].populations)[codes]
    header = HaplotypeMatrix.artificial(
        np.empty((n, 0), dtype=np.uint8),
        Sites.concatenate([]),
        ploidy=ploidy,
        populations=populations,
        provenance=provenance,
    )
    return ChainDraw(
        header,
        windows[0][0],
        sum(len(m.sites) for m in described),
        _generate(described, n, seed, codes, options, batch, devices.pop(), progress),
    )


def _generate(
    described: Sequence[ModelDescription],
    n: int,
    seed: int,
    codes: np.ndarray | None,
    options: dict[str, Any],
    batch: int,
    device: str,
    progress: bool,
) -> Iterator[tuple[Sites, np.ndarray]]:
    import torch

    rng = torch.Generator(device=device).manual_seed(seed)
    longest_context = max(model.context_sites for model in described)
    tail = np.empty((n, 0), dtype=np.uint8)  # the last sites generated, as many as any window's context
    meter = Progress("sample", unit="haplotype windows", total=n * len(described), enabled=progress)
    for description in described:
        model = description if isinstance(description, Model) else description.load(device)
        context = tail[:, tail.shape[1] - model.context_sites :] if model.context_sites else None
        haplotypes = model.generate(
            n, rng, codes=codes, context=context, batch=batch, meter=meter, sampling=_options_for(model, options)
        )
        del model  # a model read from a file is released before the next one is loaded
        tail = np.concatenate([tail, haplotypes], axis=1)
        tail = tail[:, max(0, tail.shape[1] - longest_context) :]
        yield description.sites, haplotypes
    meter.close()


def _preceding(model: ModelDescription) -> tuple[str, int, str, str] | None:
    keys = site_keys([model.window["preceding_site"]]) if model.window.get("preceding_site") else []
    return keys[0] if keys else None


def _options_for(model: Model, options: dict[str, Any]) -> dict[str, Any]:
    accepted = model.generator.sampling_option_names
    return model.generator.parse_sampling_options(model.sites, **{k: v for k, v in options.items() if k in accepted})


def sample_chain(models: Sequence[ChainModel], n: int, **options: Any) -> HaplotypeMatrix:
    """Draw ``n`` haplotypes through a chain of window models (loaded, or model files loaded one at a time), in
    memory (:func:`write_chain` streams to a file); ``options`` as :func:`draw_chain` takes them.

    Parameters
    ----------
    models
        The window models in chromosome order, each conditioned on the sites before it (``context_sites``):
        loaded :class:`~genosynth.Model` objects, or model files (paths or headers).
    n
        Haplotypes to draw.
    **options
        ``seed``, ``population``, ``ploidy``, ``batch``, ``device``, ``progress`` and the models' sampling options.

    Returns
    -------
    HaplotypeMatrix
        ``n`` haplotypes on the sites of every window, in order.

    Raises
    ------
    InputError
        Windows that do not chain (a gap, an overlap, a context that is not the window before).

    Examples
    --------
    >>> import genosynth
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> options = {"epochs": 2, "seed": 1, "validation_size": 20, "progress": False}
    >>> first = genosynth.train_rbm(train, region="1:1-100000000", **options)
    >>> second = genosynth.train_rbm(train, region="1:100000001-", context_sites=5, **options)
    >>> chromosome = sample_chain([first, second], 10, seed=1, progress=False)
    >>> chromosome.n_sites, chromosome.provenance[-1]["step"]
    (40, 'sample')
    """
    draw = draw_chain(models, n, **options)
    parts = list(draw.windows)
    header = draw.header
    return HaplotypeMatrix(
        np.concatenate([h for _, h in parts], axis=1),
        Sites.concatenate([s for s, _ in parts]),
        header.samples,
        header.ploidy,
        header.populations,
        header.provenance,
        header.label,
    )


def write_chain(
    models: Sequence[ChainModel], n: int, output: str | Path, *, legend: str | Path | None = None, **options: Any
) -> ChainDraw:
    """Draw ``n`` haplotypes through a chain of window models straight into ``output`` (matrix, VCF or .hapt,
    atomically), one window at a time; given as model files, the models are loaded one window at a time too,
    so memory does not grow with the chromosome. ``options`` as :func:`draw_chain` takes them. Returns the
    draw written (its samples, chromosome and number of sites; its windows consumed).

    Parameters
    ----------
    models
        The window models in chromosome order, loaded or as model files (loaded as their windows come).
    n
        Haplotypes to draw.
    output, legend
        The file to write (its suffix picks the format) and, for .hapt, its legend.
    **options
        As :func:`sample_chain` takes them.

    Returns
    -------
    ChainDraw
        The draw written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import genosynth
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> options = {"epochs": 2, "seed": 1, "validation_size": 20, "progress": False}
    >>> genosynth.train_rbm(train, region="1:1-100000000", **options).save(folder / "w1.safetensors")
    >>> genosynth.train_rbm(train, region="1:100000001-", context_sites=5, **options).save(folder / "w2.safetensors")
    >>> windows = [folder / "w1.safetensors", folder / "w2.safetensors"]
    >>> write_chain(windows, 10, folder / "chromosome.vcf.gz", seed=1, ploidy=2, progress=False).n_sites
    40
    """
    draw = draw_chain(models, n, **options)
    header = draw.header
    with HaplotypeWriter(
        output,
        samples=header.samples,
        ploidy=header.ploidy,
        populations=header.populations,
        label=header.label,
        provenance=header.provenance,
        contigs=[draw.chromosome],
        legend=legend,
    ) as writer:
        for sites, haplotypes in draw.windows:
            writer.append(sites, haplotypes)
    return draw
