"""Sampling a chromosome from the models of its windows (a chain): every artificial haplotype is drawn window by
window, window i+1 conditioned on the sites the windows before it just generated, so that each haplotype is
one coherent sequence; the output is streamed one window at a time, so memory grows with the haplotypes times
one window, not with the chromosome."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from .errors import OptionError
from .formats import HaplotypeWriter
from .matrix import HaplotypeMatrix, Sites
from .model import Model
from .options import parse_haplotype_count, parse_int
from .progress import Progress
from .provenance import make_record, resolve_seed
from .windows import ChainLink, check_chain, site_keys


@dataclass
class ChainDraw:
    """A chain's artificial samples (``header``: samples, populations and provenance, no sites) and an iterator
    over its windows' (sites, haplotypes n x window sites)."""

    header: HaplotypeMatrix
    windows: Iterator[tuple[Sites, np.ndarray]]


def draw_chain(models: Sequence[Model], n: int, *, seed: int | None = None, population: str | None = None,
               ploidy: int = 1, batch: int = 10_000, progress: bool = True, **options: Any) -> ChainDraw:
    """Check that ``models`` chain (see :func:`genosynth.windows.check_chain`) and prepare the draw of ``n``
    haplotypes through them; the haplotypes are generated as the windows are iterated.

    ``population`` (a conditional chain) draws every haplotype from it; otherwise each sample's population is
    drawn once, in the first window's training proportions, and carried through the chain. ``options`` are
    sampling options, each passed to the models of the kinds it applies to.
    """
    if not models:
        raise OptionError("models", "a chain needs at least one model")
    check_chain([ChainLink(model.name(f"model {i + 1}"), model.sites, site_keys(model.window.get("context")),
                           _preceding(model), model.populations) for i, model in enumerate(models)])
    n, ploidy = parse_haplotype_count(n, ploidy)
    batch = parse_int("batch", batch, minimum=1)
    if options.get("sampling_set") is not None:
        raise OptionError("sampling_set", "starts an RBM's chains from real haplotypes of one window; a chain of "
                                          "windows cannot take it")
    if len({model.generator.device for model in models}) > 1:
        raise OptionError("models", "a chain's models must be loaded on one device")
    sampling = [_options_for(model, options) for model in models]
    for name in options:
        if not any(name in model.generator.sampling_option_names for model in models):
            raise OptionError(name, "applies to none of the chain's models")
    seed = resolve_seed(seed)
    codes = models[0].population_codes(n, population, ploidy, np.random.default_rng(seed))
    windows = [[str(m.sites.chrom[0]), int(m.sites.pos[0]), int(m.sites.pos[-1])] for m in models]
    inputs = [m.source for m in models if m.source]
    record = make_record("sample", parameters={"n": n, "population": population, "ploidy": ploidy, "batch": batch,
                                               "windows": windows, **options}, seed=seed, inputs=inputs)
    provenance = models[0].provenance + [m.provenance[-1] for m in models[1:] if m.provenance] + [record]
    populations = None if codes is None else np.asarray(models[0].populations)[codes]
    header = HaplotypeMatrix.artificial(np.empty((n, 0), dtype=np.uint8), Sites.concatenate([]), ploidy=ploidy,
                                        populations=populations, provenance=provenance)
    return ChainDraw(header, _generate(models, n, seed, codes, sampling, batch, progress))


def _generate(models: Sequence[Model], n: int, seed: int, codes: np.ndarray | None,
              sampling: list[dict[str, Any]], batch: int, progress: bool) -> Iterator[tuple[Sites, np.ndarray]]:
    import torch

    rng = torch.Generator(device=models[0].generator.device).manual_seed(seed)
    longest_context = max(model.context_sites for model in models)
    tail = np.empty((n, 0), dtype=np.uint8)  # the last sites generated, as many as any window's context
    meter = Progress("sample", unit="haplotype windows", total=n * len(models), enabled=progress)
    for model, options in zip(models, sampling):
        context = tail[:, tail.shape[1] - model.context_sites:] if model.context_sites else None
        haplotypes = model.generate(n, rng, codes=codes, context=context, sampling=options, batch=batch, meter=meter)
        tail = np.concatenate([tail, haplotypes], axis=1)
        tail = tail[:, max(0, tail.shape[1] - longest_context):]
        yield model.sites, haplotypes
    meter.close()


def _preceding(model: Model) -> tuple[str, int, str, str] | None:
    keys = site_keys([model.window["preceding_site"]]) if model.window.get("preceding_site") else []
    return keys[0] if keys else None


def _options_for(model: Model, options: dict[str, Any]) -> dict[str, Any]:
    accepted = model.generator.sampling_option_names
    return model.generator.parse_sampling_options(model.sites, **{k: v for k, v in options.items() if k in accepted})


def sample_chain(models: Sequence[Model], n: int, **options: Any) -> HaplotypeMatrix:
    """Draw ``n`` haplotypes through a chain of window models, in memory (:func:`write_chain` streams to a
    file); ``options`` as :func:`draw_chain` takes them.

    Example
    -------
    >>> windows = [genosynth.load_model(f"chr22.w{i}.safetensors") for i in range(1, 4)]  # doctest: +SKIP
    >>> chromosome = genosynth.sample_chain(windows, 1000, seed=1)                        # doctest: +SKIP
    """
    draw = draw_chain(models, n, **options)
    parts = list(draw.windows)
    header = draw.header
    return HaplotypeMatrix(np.concatenate([h for _, h in parts], axis=1), Sites.concatenate([s for s, _ in parts]),
                           header.samples, header.ploidy, header.populations, header.provenance, header.label)


def write_chain(models: Sequence[Model], n: int, output: str | Path, *, legend: str | Path | None = None,
                **options: Any) -> HaplotypeMatrix:
    """Draw ``n`` haplotypes through a chain of window models straight into ``output`` (matrix, VCF or .hapt,
    atomically), one window at a time; returns the samples written (a matrix without sites)."""
    draw = draw_chain(models, n, **options)
    header = draw.header
    with HaplotypeWriter(output, samples=header.samples, ploidy=header.ploidy, populations=header.populations,
                         label=header.label, provenance=header.provenance, contigs=[str(models[0].sites.chrom[0])],
                         legend=legend) as writer:
        for sites, haplotypes in draw.windows:
            writer.append(sites, haplotypes)
    return header
