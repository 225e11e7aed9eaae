"""Candidate demographic scenarios: stdpopsim models (``Species/Model``) or Demes graph files (YAML or JSON, read
with ``demes`` and turned into an msprime demography), each with the populations the data are sampled from.

A scenario is written ``SPEC`` or ``SPEC:MODELPOP=LABEL,...``: SPEC is a stdpopsim id such as
``HomSap/OutOfAfrica_3G09`` or the path of a Demes file; the renames map a population of the scenario to a
population label of the data (``HomSap/OutOfAfrica_2T12:AFR=YRI,EUR=CEU``), so that scenarios naming their
populations differently can be compared on the same data. A data label without a rename must be a population
of the scenario under that name.

Example
-------
>>> scenario = parse_scenario("HomSap/OutOfAfrica_2T12:AFR=YRI,EUR=CEU")
>>> scenario.name, scenario.population_of("YRI"), scenario.mutation_rate
('OutOfAfrica_2T12', 'AFR', 2.36e-08)
>>> parse_scenario("HomSap/NoSuchModel")
Traceback (most recent call last):
genosynth.OptionError: scenarios 'HomSap/NoSuchModel': not a stdpopsim Species/Model id (HomSap has no model NoSuchModel; its models: OutOfAfricaExtendedNeandertalAdmixturePulse_3I21, OutOfAfrica_3G09, OutOfAfrica_2T12, Africa_1T12, AmericanAdmixture_4B18, ...) nor a Demes file
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genosynth._infra.errors import InputError, OptionError, first_line

DEFAULT_MUTATION_RATE = 1.25e-8
DEFAULT_RECOMBINATION_RATE = 1e-8
DEMES_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Scenario:
    """One candidate: its ``name`` (the stdpopsim model id or the Demes file's stem), ``spec`` as given,
    ``source`` (``"stdpopsim"`` or ``"demes"``), the msprime ``demography``, its extant ``populations`` (those
    present at time 0, which can be sampled), ``renames`` (data label -> scenario population), the model's
    ``mutation_rate`` and ``recombination_rate`` per bp per generation (stdpopsim's; None for a Demes graph) and a
    ``fingerprint`` of its content (the stdpopsim id and version, or the file's SHA-256)."""

    name: str
    spec: str
    source: str
    demography: Any = field(repr=False, compare=False)
    populations: tuple[str, ...]
    renames: tuple[tuple[str, str], ...]
    mutation_rate: float | None
    recombination_rate: float | None
    fingerprint: str

    def population_of(self, label: str) -> str:
        """The scenario's population the data label ``label`` is sampled from."""
        return dict(self.renames).get(label, label)

    def check_labels(self, labels: Sequence[str]) -> None:
        """OptionError unless every data label maps to an extant population of the scenario, and no rename
        names a label outside ``labels``."""
        for label, population in self.renames:
            if label not in labels:
                raise OptionError(
                    "scenarios",
                    f"{self.spec}: renames {population}={label} but the data have no population {label!r} "
                    f"among those used ({', '.join(labels)})",
                )
        for label in labels:
            population = self.population_of(label)
            if population not in self.populations:
                hint = "" if population != label else f"; map one to it with {self.spec.split(':')[0]}:POP={label}"
                raise OptionError(
                    "scenarios",
                    f"{self.spec}: no population {population!r} to sample data population {label!r} from "
                    f"(its populations at time 0: {', '.join(self.populations) or 'none'}){hint}",
                )
        used = [self.population_of(label) for label in labels]
        if len(set(used)) < len(used):
            raise OptionError("scenarios", f"{self.spec}: two data populations map to the same population")

    def describe(self) -> dict[str, Any]:
        """The scenario as the report and provenance record it."""
        return {
            "name": self.name,
            "spec": self.spec,
            "source": self.source,
            "populations": list(self.populations),
            "renames": dict(self.renames),
            "mutation_rate": self.mutation_rate,
            "recombination_rate": self.recombination_rate,
            "fingerprint": self.fingerprint,
        }


def parse_scenarios(specs: Sequence[str] | str) -> list[Scenario]:
    """At least two distinct scenarios from their specs (a list, or one comma-free string of them separated by
    spaces or semicolons); see the module's description for the syntax.

    Example
    -------
    >>> [s.name for s in parse_scenarios("HomSap/OutOfAfrica_3G09; HomSap/OutOfAfrica_4J17")]
    ['OutOfAfrica_3G09', 'OutOfAfrica_4J17']
    """
    if isinstance(specs, str):
        specs = [item for item in specs.replace(";", " ").split() if item]
    scenarios = [parse_scenario(spec) for spec in specs]
    if len(scenarios) < 2:
        raise OptionError("scenarios", f"{len(scenarios)} given: name at least two scenarios to choose between")
    names = [s.name for s in scenarios]
    for name in names:
        if names.count(name) > 1:
            raise OptionError("scenarios", f"{name} is named twice (scenario names must differ)")
    return scenarios


def parse_scenario(spec: str) -> Scenario:
    """One scenario from ``SPEC[:MODELPOP=LABEL,...]``: a stdpopsim ``Species/Model`` id or a Demes file."""
    if not isinstance(spec, str) or not spec.strip():
        raise OptionError("scenarios", f"{spec!r}: expected a stdpopsim Species/Model id or a Demes file")
    spec = spec.strip()
    target, _, renames_text = spec.partition(":")
    if renames_text and Path(spec).is_file():  # a file whose name holds a colon
        target, renames_text = spec, ""
    renames = _parse_renames(spec, renames_text)
    path = Path(target)
    if path.suffix.lower() in DEMES_SUFFIXES or path.exists():
        return _demes_scenario(spec, path, renames)
    return _stdpopsim_scenario(spec, target, renames)


def _parse_renames(spec: str, text: str) -> tuple[tuple[str, str], ...]:
    if not text:
        return ()
    pairs = []
    for item in text.split(","):
        population, equals, label = (part.strip() for part in item.partition("="))
        if not equals or not population or not label:
            raise OptionError("scenarios", f"{spec}: {item!r} is not MODELPOP=LABEL")
        pairs.append((label, population))
    labels = [label for label, _ in pairs]
    if len(set(labels)) < len(labels):
        raise OptionError("scenarios", f"{spec}: a data label is renamed twice")
    return tuple(pairs)


def _stdpopsim_scenario(spec: str, identifier: str, renames: tuple[tuple[str, str], ...]) -> Scenario:
    import stdpopsim

    species_id, slash, model_id = identifier.partition("/")
    if not slash or not species_id or not model_id:
        raise OptionError(
            "scenarios",
            f"{identifier!r}: not a stdpopsim Species/Model id (e.g. HomSap/OutOfAfrica_3G09) "
            f"nor a Demes file ({', '.join(DEMES_SUFFIXES)})",
        )
    try:
        species = stdpopsim.get_species(species_id)
    except (ValueError, KeyError):
        raise OptionError(
            "scenarios", f"{identifier!r}: no stdpopsim species {species_id!r} (e.g. HomSap, DroMel)"
        ) from None
    try:
        with warnings.catch_warnings():  # a renamed model's deprecation warning
            warnings.simplefilter("ignore")
            model = species.get_demographic_model(model_id)
    except (ValueError, KeyError):
        known = [m.id for m in species.demographic_models]
        raise OptionError(
            "scenarios",
            f"{identifier!r}: not a stdpopsim Species/Model id ({species_id} has no model {model_id}; its models: "
            f"{', '.join(known[:5])}{', ...' if len(known) > 5 else ''}) nor a Demes file",
        ) from None
    demography = model.model
    return Scenario(
        name=model.id,
        spec=spec,
        source="stdpopsim",
        demography=demography,
        populations=_extant(demography),
        renames=renames,
        mutation_rate=float(model.mutation_rate or species.genome.mean_mutation_rate),
        recombination_rate=float(species.genome.mean_recombination_rate),
        fingerprint=f"stdpopsim {stdpopsim.__version__} {species.id}/{model.id}",
    )


def _demes_scenario(spec: str, path: Path, renames: tuple[tuple[str, str], ...]) -> Scenario:
    import demes
    import msprime

    if not path.is_file():
        raise InputError(f"{path}: no such Demes file")
    try:
        content = path.read_bytes()
        graph = demes.load(path)
    except Exception as err:  # YAML, JSON and Demes' own validation errors, each as one line
        raise InputError(f"{path}: not a valid Demes graph ({first_line(err)[:200]})") from None
    try:
        demography = msprime.Demography.from_demes(graph)
    except Exception as err:  # a graph msprime cannot simulate
        raise InputError(f"{path}: msprime cannot simulate this Demes graph ({first_line(err)[:200]})") from None
    return Scenario(
        name=path.stem,
        spec=spec,
        source="demes",
        demography=demography,
        populations=_extant(demography),
        renames=renames,
        mutation_rate=None,
        recombination_rate=None,
        fingerprint=f"demes sha256 {hashlib.sha256(content).hexdigest()}",
    )


def _extant(demography: Any) -> tuple[str, ...]:
    """Populations of an msprime demography that exist at time 0 (an ancestral one, inactive then, is left out)."""
    debug = demography.debug()
    active = debug.epochs[0].populations
    return tuple(p.name for p, state in zip(demography.populations, active) if state.active)


def scenarios_fingerprint(scenarios: Sequence[Scenario]) -> str:
    """A short digest of the scenarios' content and renames (names the cache of their simulations)."""
    text = json.dumps([[s.fingerprint, list(s.renames)] for s in scenarios])
    return hashlib.sha256(text.encode()).hexdigest()[:16]
