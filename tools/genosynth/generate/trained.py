"""A trained generator with what sampling needs around it (training sites, population labels, provenance): what
``train_gan``/``train_rbm``/``train_diffusion`` return and :func:`load_model` reads back from a model file."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.devices import require_memory, resolve_device
from genosynth._infra.errors import InputError, OptionError
from genosynth._infra.options import parse_haplotype_count, parse_int
from genosynth._infra.progress import Progress
from genosynth._infra.provenance import describe_file, make_record, resolve_seed
from genosynth.generate.models.base import Generator
from genosynth.generate.models.registry import generator_class
from genosynth.io.matrix import HaplotypeMatrix, Sites
from genosynth.io.model_file import ModelFile, load_model_file, save_model_file


class ModelDescription:
    """What a model is apart from its weights: the sites it was trained on, its population labels, the window it
    covers, its provenance; shared by a loaded :class:`Model` and a :class:`ModelHeader` read from a file."""

    kind: str
    config: Any

    def __init__(
        self,
        *,
        sites: Sites,
        populations: Sequence[str] = (),
        population_frequencies: Sequence[float] = (),
        provenance: Sequence[dict[str, Any]] = (),
        source: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.sites = sites
        self.populations = list(populations)
        self.population_frequencies = list(population_frequencies)
        self.provenance = list(provenance)
        self.source = source
        self.extra = dict(extra or {})

    def name(self, fallback: str) -> str:
        """The name of the file the model was read from, for messages; ``fallback`` for one made in memory."""
        return (self.source or {}).get("name") or fallback

    @property
    def window(self) -> dict[str, Any]:
        """The window the model was trained on: its region, the context sites it is conditioned on (site keys)
        and the site before it (see :mod:`genosynth.io.windows`); empty for a model of a whole matrix."""
        return dict(self.extra.get("window") or {})

    @property
    def context_sites(self) -> int:
        """How many sites before its window the model is conditioned on."""
        return int(getattr(self.config, "context_sites", 0))

    @property
    def sampling_option_names(self) -> tuple[str, ...]:
        """The sampling options of the model's kind."""
        return generator_class(self.kind).sampling_option_names

    def check_sampling_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """Those of ``options`` that apply to the model's kind, validated against its configuration and sites
        without its weights (see :meth:`genosynth.generate.models.base.Generator.check_sampling_options`)."""
        kind = generator_class(self.kind)
        return kind.check_sampling_options(
            self.config, self.sites, **{k: v for k, v in options.items() if k in kind.sampling_option_names}
        )

    @property
    def training_summary(self) -> dict[str, Any]:
        """How training ended: epochs trained, why it stopped, the epoch kept, the last monitored figures."""
        return dict(self.provenance[-1].get("summary", {})) if self.provenance else {}

    def population_codes(
        self, n: int, population: str | None, ploidy: int, rng: np.random.Generator
    ) -> np.ndarray | None:
        """The condition label index of every haplotype to generate (None for an unconditional model)."""
        labels = self.populations
        if not labels:
            if population is not None:
                raise OptionError(
                    "population", f"{population}: the model is not conditional (train it conditioned on population)"
                )
            return None
        if population is not None:
            if population not in labels:
                raise OptionError(
                    "population", f"{population}: not among the model's populations ({', '.join(labels)})"
                )
            return np.full(n, labels.index(population))
        # a diploid individual's two haplotypes come from one population
        per_sample = rng.choice(len(labels), n // ploidy, p=self.population_frequencies)
        return np.repeat(per_sample, ploidy)


class Model(ModelDescription):
    """A generator of artificial haplotypes on the sites it was trained on: ``sample`` draws from it, ``save``
    writes its model file (read back by :func:`load_model`), ``write_history`` its training history.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import genosynth
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> model = genosynth.train_rbm(train, epochs=2, seed=1, validation_size=20, progress=False)
    >>> artificial = model.sample(100, seed=1, progress=False)
    >>> artificial.haplotypes.shape, artificial.provenance[-1]["step"]
    ((100, 40), 'sample')
    >>> model.save(pathlib.Path(tempfile.mkdtemp()) / "rbm.safetensors")
    """

    def __init__(
        self,
        generator: Generator,
        *,
        sites: Sites,
        populations: Sequence[str] = (),
        population_frequencies: Sequence[float] = (),
        provenance: Sequence[dict[str, Any]] = (),
        history: list[dict[str, Any]] | None = None,
        source: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            sites=sites,
            populations=populations,
            population_frequencies=population_frequencies,
            provenance=provenance,
            source=source,
            extra=extra,
        )
        self.generator = generator
        self.history = history

    @property
    def kind(self) -> str:
        return self.generator.kind

    @property
    def config(self) -> Any:
        """The typed configuration (a dataclass of the kind's)."""
        return self.generator.config

    def sample(
        self,
        n: int,
        *,
        seed: int | None = None,
        population: str | None = None,
        ploidy: int = 1,
        batch: int = 10_000,
        progress: bool = True,
        context: HaplotypeMatrix | np.ndarray | None = None,
        **options: Any,
    ) -> HaplotypeMatrix:
        """Draw ``n`` artificial haplotypes.

        Parameters
        ----------
        n
            Haplotypes to draw.
        seed
            Seed of the draw (random, and recorded, when None).
        population
            A conditional model's population to draw; by default each sample's population is drawn in the
            training proportions.
        ploidy
            1: haploid samples ``AG_1, AG_2, ...``; 2: consecutive haplotypes paired into phased diploids.
        batch
            Haplotypes generated at a time (memory; a ``pca`` diffusion model's rounded alleles, and a GAN's with
            ``expected_counts``, keep each batch's expected allele counts).
        context
            A window's model with context sites: the alleles of those sites for each haplotype to draw (a
            HaplotypeMatrix on them, or uint8 n x context_sites). Whole chromosomes are drawn by
            :func:`genosynth.sample_chain`, which feeds each window the sites the windows before it generated.
        options
            The kind's sampling options: GAN ``bernoulli``, ``expected_counts``; RBM ``gibbs_steps``, ``start``,
            ``sampling_set``; diffusion ``steps``, ``guidance``, ``bernoulli`` (None, the default: round, except a ``pca`` model's
            own choice, made on its training haplotypes).

        Returns
        -------
        HaplotypeMatrix
            Label ``AG``, the training sites, the population of each sample when the model is conditional,
            and this model's provenance followed by the sampling record.
        """
        import torch

        n, ploidy = parse_haplotype_count(n, ploidy)
        batch = parse_int("batch", batch, minimum=1)
        sampling = self.generator.parse_sampling_options(self.sites, **options)
        context_rows = self._parse_context(context, n)
        seed = resolve_seed(seed)
        # the uint8 output, and a batch's float32 outputs with their intermediates on the CPU
        require_memory(
            n * len(self.sites) + min(batch, n) * len(self.sites) * 16,
            f"{n} haplotypes x {len(self.sites)} sites",
            advice="ask for fewer haplotypes (-n) and a smaller --batch, or draw them in several runs",
        )
        codes = self.population_codes(n, population, ploidy, np.random.default_rng(seed))
        rng = torch.Generator(device=self.generator.device).manual_seed(seed)
        meter = Progress("sample", unit="haplotypes", total=n, enabled=progress)
        out = self.generate(n, rng, codes=codes, context=context_rows, sampling=sampling, batch=batch, meter=meter)
        meter.close()
        inputs = [self.source] if self.source else []
        recorded = {k: v for k, v in sampling.items() if k != "sampling_set"}
        if options.get("sampling_set") is not None and isinstance(options["sampling_set"], HaplotypeMatrix):
            inputs.append(options["sampling_set"].describe())
        record = make_record(
            "sample",
            parameters={"n": n, "population": population, "ploidy": ploidy, "batch": batch, **recorded},
            seed=seed,
            inputs=inputs,
        )
        populations = None if codes is None else np.asarray(self.populations)[codes]
        return HaplotypeMatrix.artificial(
            out, self.sites, ploidy=ploidy, populations=populations, provenance=self.provenance + [record]
        )

    def generate(
        self,
        n: int,
        rng: Any,
        *,
        codes: np.ndarray | None,
        context: np.ndarray | None,
        sampling: dict[str, Any],
        batch: int,
        meter: Progress | None = None,
    ) -> np.ndarray:
        """``n`` haplotypes (uint8 n x sites) in batches of ``batch``, haplotype i conditioned on population
        ``codes[i]`` and on ``context[i]`` (for a conditional or windowed model); ``sampling`` are parsed
        sampling options."""
        import torch

        device = self.generator.device
        out = np.empty((n, len(self.sites)), dtype=np.uint8)
        for lo in range(0, n, batch):
            hi = min(lo + batch, n)
            parts = []
            if codes is not None:
                parts.append(
                    torch.nn.functional.one_hot(torch.as_tensor(codes[lo:hi], device=device), len(self.populations)).to(
                        torch.float32
                    )
                )
            if context is not None and context.shape[1]:
                parts.append(torch.as_tensor(context[lo:hi], device=device).to(torch.float32))
            condition = torch.cat(parts, dim=1) if parts else None
            out[lo:hi] = self.generator.generate(hi - lo, rng, condition=condition, **sampling)
            if meter is not None:
                meter.update(hi - lo)
        return out

    def _parse_context(self, context: HaplotypeMatrix | np.ndarray | None, n: int) -> np.ndarray | None:
        """The context rows (uint8 n x context_sites) of a windowed model; an OptionError when missing or wrong."""
        needed = self.context_sites
        if not needed:
            if context is not None:
                raise OptionError("context", "the model is not conditioned on sites before a window")
            return None
        if context is None:
            raise OptionError(
                "context",
                f"the model of window {self.window.get('region')} is conditioned on the "
                f"{needed} sites before it: sample it in a chain after the models of the "
                "windows before it, or give those sites' alleles",
            )
        if isinstance(context, HaplotypeMatrix):
            expected = [tuple(key) for key in self.window.get("context", [])]
            if context.sites.keys() != expected:
                raise OptionError(
                    "context",
                    f"{context.name('the context')}: its sites are not the {needed} sites the model is conditioned on",
                )
            context = context.haplotypes
        rows = np.asarray(context)
        if rows.shape != (n, needed) or not np.isin(rows, (0, 1)).all():
            raise OptionError(
                "context", f"must hold 0/1 alleles of {needed} sites for each of {n} haplotypes, got shape {rows.shape}"
            )
        return rows.astype(np.uint8)

    def to_file(self) -> ModelFile:
        """The model as a model file's content."""
        return ModelFile(
            kind=self.kind,
            config=self.config.to_dict(),
            tensors=self.generator.model_tensors(),
            sites=self.sites,
            populations=self.populations,
            population_frequencies=self.population_frequencies,
            provenance=self.provenance,
            extra=self.extra,
        )

    def save(self, path: str | Path) -> None:
        """Write the model file (safetensors with JSON metadata), atomically."""
        save_model_file(path, self.to_file())

    def write_history(self, path: str | Path) -> None:
        """The training history as TSV (one row per epoch, NA where not monitored) and its curves beside it."""
        from genosynth.generate.monitoring import MONITORED
        from genosynth.reports.training import write_history

        if self.history is None:
            raise ValueError("this model carries no training history (it was read from a model file)")
        summary = self.training_summary
        write_history(
            Path(path),
            self.history,
            monitored=MONITORED,
            kept_epoch=summary.get("kept_epoch"),
            max_privacy_loss=summary.get("max_privacy_loss"),
        )

    def __repr__(self) -> str:
        conditional = f", populations {', '.join(self.populations)}" if self.populations else ""
        return f"Model({self.kind}, {len(self.sites)} sites{conditional}, {self.config})"

    def _repr_html_(self) -> str:
        rows = [
            ("kind", self.kind),
            ("sites", str(len(self.sites))),
            ("populations", ", ".join(self.populations) or "(unconditional)"),
        ]
        rows += [(f"training: {k}", str(v)) for k, v in self.training_summary.items() if k != "final"]
        body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
        return f"<table><caption>genosynth Model</caption>{body}</table>"


class ModelHeader(ModelDescription):
    """A model file as its header describes it, without its weights: what checking a chain of window models
    needs, so that :func:`genosynth.write_chain` holds one window's model in memory at a time.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import genosynth
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "rbm.safetensors"
    >>> genosynth.train_rbm(train, epochs=2, seed=1, validation_size=20, progress=False).save(path)
    >>> header = genosynth.read_model_header(path)
    >>> header.kind, len(header.sites), header.path.name
    ('rbm', 40, 'rbm.safetensors')
    """

    def __init__(self, path: str | Path, *, kind: str, config: Any, **description: Any) -> None:
        super().__init__(**description)
        self.path = Path(path)
        self.kind = kind
        self.config = config

    def load(self, device: str = "auto") -> Model:
        """The model itself (see :func:`load_model`); an InputError if the file changed since its header was
        read."""
        model = load_model(self.path, device=device)
        if model.source != self.source:
            raise InputError(f"{self.path}: the model file changed after its header was read")
        return model

    def __repr__(self) -> str:
        return f"ModelHeader({self.kind}, {len(self.sites)} sites, {self.path.name})"


def read_model_header(path: str | Path) -> ModelHeader:
    """Read what a model file says about its model (kind, configuration, sites, populations, window,
    provenance) without its weights.

    Parameters
    ----------
    path
        A model file.

    Returns
    -------
    ModelHeader
        What the file says about its model.

    Raises
    ------
    InputError
        Not a genosynth model file, naming it.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import genosynth
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w2.safetensors"
    >>> genosynth.train_rbm(train, region="1:100000001-", context_sites=5, epochs=2, seed=1, validation_size=20,
    ...                     progress=False).save(path)
    >>> header = read_model_header(path)
    >>> header.kind, header.window["region"], header.context_sites
    ('rbm', '1:100000001-', 5)
    """
    saved = load_model_file(path, tensors=False)
    return ModelHeader(
        path,
        kind=saved.kind,
        config=_typed_config(path, saved),
        sites=saved.sites,
        populations=saved.populations,
        population_frequencies=saved.population_frequencies,
        provenance=saved.provenance,
        source=describe_file(path),
        extra=saved.extra,
    )


def load_model(path: str | Path, *, device: str = "auto") -> Model:
    """Read a model file written by :meth:`Model.save` (or ``train-gan``/``train-rbm``/``train-diffusion``).

    Parameters
    ----------
    path
        A model file.
    device
        ``"auto"`` (a CUDA GPU when present), ``"cpu"`` or ``"cuda"``.

    Returns
    -------
    Model
        The model, on ``device``.

    Raises
    ------
    InputError
        Not a genosynth model file, or one whose tensors do not match its configuration.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import genosynth
    >>> from genosynth.datasets import small_805
    >>> train, holdout = small_805()
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "gan.safetensors"
    >>> genosynth.train_gan(train, epochs=2, seed=1, validation_size=20, progress=False).save(path)
    >>> model = load_model(path, device="cpu")
    >>> model.kind, model.sample(10, seed=1, progress=False).n_sites
    ('gan', 40)
    """
    device = resolve_device(device)
    saved = load_model_file(path, device=device)
    config = _typed_config(path, saved)
    try:
        generator = generator_class(saved.kind)(config, device=device, seed=0)
        _check_tensors(path, saved, config, generator.model_tensors())
        generator.load_model_tensors(saved.tensors)
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise _damaged(path, saved.kind, err) from None
    return Model(
        generator,
        sites=saved.sites,
        populations=saved.populations,
        population_frequencies=saved.population_frequencies,
        provenance=saved.provenance,
        source=describe_file(path),
        extra=saved.extra,
    )


def _typed_config(path: str | Path, saved: ModelFile) -> Any:
    """The kind's configuration dataclass from a model file's JSON; an InputError naming the file otherwise."""
    try:
        cls = generator_class(saved.kind)
    except InputError as err:
        raise InputError(f"{path}: {err}") from None
    try:
        return cls.config_class.from_dict(saved.config)
    except (KeyError, TypeError, ValueError) as err:
        raise _damaged(path, saved.kind, err) from None


def _check_tensors(path: str | Path, saved: ModelFile, config: Any, expected: dict[str, Any]) -> None:
    """Refuse a model file whose tensors disagree with its configuration and sites (a shape, a missing tensor) or
    hold NaN or infinite values, naming the tensor, before sampling would fail or draw from garbage."""
    import torch

    n_sites = getattr(config, "n_sites", None)
    if n_sites is not None and n_sites != len(saved.sites):
        raise InputError(f"{path}: the configuration says {n_sites} sites, the file lists {len(saved.sites)}")
    optional = generator_class(saved.kind).optional_tensor_names
    for name, model_tensor in expected.items():
        if (
            model_tensor is None
            or not hasattr(model_tensor, "shape")
            or (name in optional and name not in saved.tensors)
        ):
            continue
        if name not in saved.tensors:
            raise InputError(f"{path}: damaged {saved.kind} model file: tensor model.{name} is missing")
        tensor = saved.tensors[name]
        if tuple(tensor.shape) != tuple(model_tensor.shape):
            raise InputError(
                f"{path}: tensor model.{name} has shape {tuple(tensor.shape)}; this {saved.kind} "
                f"model's configuration needs {tuple(model_tensor.shape)}"
            )
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise InputError(f"{path}: tensor model.{name} holds NaN or infinite values")


def _damaged(path: str | Path, kind: str, err: Exception) -> InputError:
    return InputError(f"{path}: damaged {kind} model file ({type(err).__name__}: {str(err)[:200]})")
