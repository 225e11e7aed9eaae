"""The haplotype matrix: phased 0/1 haplotypes with site, sample and population metadata and provenance, the one
dataset type every genosynth function takes and returns (its file layout lives in :mod:`genosynth.io.hdf5`).

In memory a :class:`HaplotypeMatrix` holds haplotypes as uint8 (n_haplotypes, n_sites): the haplotypes of a
sample are consecutive rows, ``ploidy[i]`` rows for sample ``i``.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genosynth._infra.errors import InputError

SiteKey = tuple[str, int, str, str]


@dataclass
class Sites:
    """Per-site metadata; every array has shape (n_sites,).

    Examples
    --------
    >>> import numpy as np
    >>> sites = Sites(np.array(["22", "22"]), np.array([100, 200]), np.array(["rs1", "."]), np.array(["A", "C"]),
    ...               np.array(["G", "T"]))
    >>> len(sites), sites.take([1]).pos.tolist()
    (2, [200])
    """

    chrom: np.ndarray
    pos: np.ndarray
    id: np.ndarray
    ref: np.ndarray
    alt: np.ndarray

    def __len__(self) -> int:
        return len(self.pos)

    def take(self, index: Any) -> Sites:
        """The sites selected by a slice, boolean mask or integer index array."""
        return Sites(*(getattr(self, name)[index] for name in SITE_FIELDS))

    @classmethod
    def concatenate(cls, parts: list[Sites]) -> Sites:
        """The sites of ``parts`` one after the other (no sites when ``parts`` is empty)."""
        if not parts:
            return cls(*(np.array([], dtype=np.int64 if name == "pos" else str) for name in SITE_FIELDS))
        return cls(*(np.concatenate([getattr(part, name) for part in parts]) for name in SITE_FIELDS))

    def label(self, i: int) -> str:
        """``CHROM:POS`` of site ``i``, as error messages name it."""
        return f"{self.chrom[i]}:{self.pos[i]}"

    def key(self, i: int) -> SiteKey:
        """(CHROM, POS, REF, ALT) of site ``i``."""
        return str(self.chrom[i]), int(self.pos[i]), str(self.ref[i]), str(self.alt[i])

    def preceding(self, i: int, count: int) -> slice:
        """The up to ``count`` sites just before site ``i`` on its chromosome (fewer near its start)."""
        first = int(np.flatnonzero(self.chrom == self.chrom[i])[0])
        return slice(max(first, i - count), i)

    def keys(self) -> list[SiteKey]:
        """(CHROM, POS, REF, ALT) of every site, the key that matches sites across files."""
        return list(zip(self.chrom.tolist(), self.pos.tolist(), self.ref.tolist(), self.alt.tolist()))


SITE_FIELDS = ("chrom", "pos", "id", "ref", "alt")


@dataclass
class HaplotypeMatrix:
    """Phased haplotypes with site, sample and population metadata and a provenance record.

    Parameters
    ----------
    haplotypes
        uint8 array (n_haplotypes, n_sites) of 0/1 alleles (0 = REF).
    sites
        Site metadata, ``len(sites) == n_sites``.
    samples
        Sample names (n_samples,); a sample's haplotypes are consecutive rows.
    ploidy
        Haplotypes per sample (n_samples,), each 1 or 2.
    populations
        Population label per sample (n_samples,), "" where unknown.
    provenance
        Provenance records, oldest first (see :mod:`genosynth._infra.provenance`).
    label
        Row label used by the .hapt format ("Real" for real data, "AG" for artificial genomes).
    source
        The file the haplotypes were read from, as provenance names it (``{"name", "sha256"}``); None for a
        matrix made in memory.

    Example
    -------
    >>> m = HaplotypeMatrix(
    ...     haplotypes=np.array([[0, 1], [1, 1], [0, 0]], dtype=np.uint8),
    ...     sites=Sites(np.array(["1", "1"]), np.array([10, 20]), np.array([".", "."]),
    ...                 np.array(["A", "C"]), np.array(["G", "T"])),
    ...     samples=np.array(["s1", "s2"]), ploidy=np.array([2, 1], dtype=np.int8),
    ...     populations=np.array(["YRI", "CEU"]))
    >>> m.haplotype_sample.tolist(), m.haplotype_index.tolist()
    (['s1', 's1', 's2'], [0, 1, 0])
    >>> m
    HaplotypeMatrix(3 haplotypes of 2 samples x 2 sites on 1, populations CEU 1, YRI 2, label Real)
    """

    haplotypes: np.ndarray
    sites: Sites
    samples: np.ndarray
    ploidy: np.ndarray
    populations: np.ndarray
    provenance: list[dict[str, Any]] = field(default_factory=list)
    label: str = "Real"
    source: dict[str, str] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def n_haplotypes(self) -> int:
        return self.haplotypes.shape[0]

    @property
    def n_sites(self) -> int:
        return self.haplotypes.shape[1]

    @property
    def haplotype_sample(self) -> np.ndarray:
        """Sample name of each haplotype (n_haplotypes,)."""
        return np.repeat(self.samples, self.ploidy)

    @property
    def haplotype_index(self) -> np.ndarray:
        """Index of each haplotype within its sample, 0 or 1 (n_haplotypes,)."""
        starts = np.repeat(self.sample_offsets[:-1], self.ploidy)
        return np.arange(self.n_haplotypes) - starts

    @property
    def haplotype_population(self) -> np.ndarray:
        """Population label of each haplotype (n_haplotypes,)."""
        return np.repeat(self.populations, self.ploidy)

    @property
    def sample_offsets(self) -> np.ndarray:
        """First haplotype row of each sample, plus the total at the end (n_samples + 1,)."""
        return np.concatenate([[0], np.cumsum(self.ploidy, dtype=np.int64)])

    def allele_frequencies(self) -> np.ndarray:
        """Alternate-allele frequency of every site (float64, n_sites)."""
        return self.haplotypes.mean(axis=0, dtype=np.float64)

    def filter_maf(self, min_maf: float) -> HaplotypeMatrix:
        """The sites whose minor allele frequency is at least ``min_maf``, monomorphic sites always dropped (the
        filter of vcf-to-matrix --min-maf)."""
        frequencies = self.allele_frequencies()
        minor = np.minimum(frequencies, 1 - frequencies)
        return self.select_sites((minor > 0) & (minor >= min_maf))

    def population_counts(self) -> dict[str, int]:
        """Haplotypes per population label ("" for unlabelled), labels sorted."""
        labels, counts = np.unique(self.haplotype_population, return_counts=True)
        return dict(zip(labels.tolist(), counts.tolist()))

    def select_samples(self, index: np.ndarray) -> HaplotypeMatrix:
        """A new matrix holding the samples at ``index`` (integer array), haplotypes and all."""
        offsets = self.sample_offsets
        rows = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in index]) if len(index) else []
        return self._replace(
            haplotypes=self.haplotypes[np.asarray(rows, dtype=np.int64)],
            samples=self.samples[index],
            ploidy=self.ploidy[index],
            populations=self.populations[index],
        )

    def select_sites(self, index: Any) -> HaplotypeMatrix:
        """A new matrix holding the sites at ``index`` (slice, integer array or boolean mask), samples unchanged."""
        return self._replace(haplotypes=np.ascontiguousarray(self.haplotypes[:, index]), sites=self.sites.take(index))

    def with_populations(self, populations: Sequence[str]) -> HaplotypeMatrix:
        """The same matrix with these population labels (one per sample)."""
        return self._replace(populations=np.asarray(populations, dtype=str))

    def with_provenance(self, record: dict[str, Any]) -> HaplotypeMatrix:
        """The same matrix with ``record`` appended to its provenance."""
        return self._replace(provenance=[*self.provenance, record])

    @classmethod
    def stack(cls, parts: Sequence[HaplotypeMatrix]) -> HaplotypeMatrix:
        """The samples of every part, one part after the other, on the sites of the first (which all must share);
        provenance and label of the first part."""
        first = parts[0]
        for part in parts[1:]:
            require_same_sites(first.sites, part.sites, reference_name="the first set", other_name="a stacked set")
        return cls(
            np.concatenate([p.haplotypes for p in parts]),
            first.sites,
            np.concatenate([p.samples for p in parts]),
            np.concatenate([p.ploidy for p in parts]),
            np.concatenate([p.populations for p in parts]),
            list(first.provenance),
            first.label,
        )

    @classmethod
    def artificial(
        cls,
        haplotypes: np.ndarray,
        sites: Sites,
        *,
        ploidy: int = 1,
        populations: np.ndarray | None = None,
        provenance: list[dict[str, Any]] | None = None,
    ) -> HaplotypeMatrix:
        """Artificial haplotypes as samples ``AG_1, AG_2, ...`` (label ``AG``): haploid, or consecutive haplotypes
        paired into diploids with ``ploidy`` 2; ``populations`` gives each haplotype's label (a sample takes its
        first haplotype's)."""
        n_samples = len(haplotypes) // ploidy
        labels = (
            np.full(n_samples, "", dtype=object).astype(str)
            if populations is None
            else np.asarray(populations, dtype=str)[::ploidy]
        )
        return cls(
            haplotypes,
            sites,
            np.array([f"AG_{i + 1}" for i in range(n_samples)]),
            np.full(n_samples, ploidy, dtype=np.int8),
            labels,
            list(provenance or []),
            label="AG",
        )

    def name(self, fallback: str | None) -> str | None:
        """The name of the file this matrix was read from, for messages; ``fallback`` for one made in memory."""
        return (self.source or {}).get("name") or fallback

    def describe(self) -> dict[str, Any]:
        """This matrix as a provenance input: its source file, or a digest of its content when made in memory."""
        if self.source is not None:
            return dict(self.source)
        digest = hashlib.sha256(np.ascontiguousarray(self.haplotypes).tobytes())
        for name in SITE_FIELDS:
            digest.update("\t".join(map(str, getattr(self.sites, name).tolist())).encode())
        digest.update("\t".join(self.samples.tolist()).encode())
        return {"name": None, "sha256": digest.hexdigest(), "in_memory": True}

    def _replace(self, **changes: Any) -> HaplotypeMatrix:
        values = {
            name: getattr(self, name)
            for name in ("haplotypes", "sites", "samples", "ploidy", "populations", "provenance", "label", "source")
        }
        values["provenance"] = list(values["provenance"])
        values.update(changes)
        return HaplotypeMatrix(**values)

    def __repr__(self) -> str:
        chromosomes = ", ".join(dict.fromkeys(self.sites.chrom.tolist()))
        counts = ", ".join(f"{name or '(none)'} {count}" for name, count in self.population_counts().items())
        return (
            f"HaplotypeMatrix({self.n_haplotypes} haplotypes of {len(self.samples)} samples x {self.n_sites} "
            f"sites on {chromosomes or 'no chromosome'}, populations {counts or 'none'}, label {self.label})"
        )

    def _repr_html_(self) -> str:
        rows = [
            ("haplotypes", f"{self.n_haplotypes} ({len(self.samples)} samples)"),
            ("sites", str(self.n_sites)),
            ("chromosomes", ", ".join(dict.fromkeys(self.sites.chrom.tolist()))),
            ("populations", ", ".join(f"{k or '(none)'}: {v}" for k, v in self.population_counts().items())),
            ("label", self.label),
            ("steps so far", " → ".join(str(r.get("step")) for r in self.provenance)),
        ]
        body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
        return f"<table><caption>HaplotypeMatrix</caption>{body}</table>"


def require_same_sites(a: Sites, b: Sites, *, reference_name: str, other_name: str) -> None:
    """InputError naming the first site where two site lists differ in CHROM, POS, REF or ALT."""
    n = min(len(a), len(b))
    differs = np.zeros(n, dtype=bool)
    for name in ("chrom", "pos", "ref", "alt"):
        differs |= getattr(a, name)[:n] != getattr(b, name)[:n]
    if differs.any():
        i = int(np.flatnonzero(differs)[0])
        raise InputError(
            f"{other_name}: site {i + 1} is {b.label(i)} {b.ref[i]}>{b.alt[i]}, but {reference_name} "
            f"has {a.label(i)} {a.ref[i]}>{a.alt[i]}; the sets must hold the same sites"
        )
    if len(a) != len(b):
        raise InputError(
            f"{other_name}: {len(b)} sites, but {reference_name} has {len(a)}; the sets must hold the same sites"
        )


def intersect_sites(matrices: list[HaplotypeMatrix]) -> list[HaplotypeMatrix]:
    """Each matrix restricted to the sites (CHROM, POS, REF, ALT) present in all of them, in the first one's order.

    Example
    -------
    >>> def one(pos):
    ...     n = len(pos)
    ...     sites = Sites(np.array(["1"] * n), np.array(pos), np.array(["."] * n), np.array(["A"] * n), np.array(["G"] * n))
    ...     return HaplotypeMatrix(np.zeros((2, n), dtype=np.uint8), sites, np.array(["s"]), np.array([2], dtype=np.int8), np.array([""]))
    >>> [m.sites.pos.tolist() for m in intersect_sites([one([1, 2, 3]), one([2, 3, 4])])]
    [[2, 3], [2, 3]]
    """
    keys = [m.sites.keys() for m in matrices]
    common = set(keys[0]).intersection(*keys[1:])
    order = [k for k in keys[0] if k in common]
    result = []
    for matrix, matrix_keys in zip(matrices, keys):
        index_of = {key: i for i, key in enumerate(matrix_keys)}
        result.append(matrix.select_sites(np.array([index_of[k] for k in order], dtype=np.int64)))
    return result


def _validate(matrix: HaplotypeMatrix) -> None:
    """Check shapes, dtypes, values and site order; raise InputError with the first violation."""
    h = matrix.haplotypes
    s = matrix.sites
    if h.ndim != 2 or h.dtype != np.uint8:
        raise InputError(f"haplotypes must be a 2-D uint8 array, got {h.ndim}-D {h.dtype}")
    n_samples = len(matrix.samples)
    for name in ("ploidy", "populations"):
        if len(getattr(matrix, name)) != n_samples:
            raise InputError(f"{name} has {len(getattr(matrix, name))} entries for {n_samples} samples")
    if not np.isin(matrix.ploidy, (1, 2)).all():
        raise InputError("ploidy must be 1 or 2 for every sample")
    if int(matrix.ploidy.sum()) != h.shape[0]:
        raise InputError(f"{h.shape[0]} haplotype rows, but the samples' ploidy adds up to {int(matrix.ploidy.sum())}")
    for name in SITE_FIELDS:
        if len(getattr(s, name)) != h.shape[1]:
            raise InputError(f"site field {name} has {len(getattr(s, name))} entries for {h.shape[1]} sites")
    if len(np.unique(matrix.samples)) != n_samples:
        names, counts = np.unique(matrix.samples, return_counts=True)
        raise InputError(f"sample {str(names[counts > 1][0])!r} appears more than once")
    if h.size and h.max() > 1:
        row, col = np.argwhere(h > 1)[0]
        raise InputError(f"site {s.label(col)}: allele value {h[row, col]} is not 0 or 1")
    SiteOrderCheck().check(s)


class SiteOrderCheck:
    """Checks, chunk by chunk, that positions never decrease within a chromosome and that each
    chromosome's sites form one block; raises InputError naming the first offending site."""

    def __init__(self) -> None:
        self._last: tuple[str, int] | None = None
        self._finished: set[str] = set()

    def check(self, s: Sites) -> None:
        if len(s) == 0:
            return
        chrom = s.chrom.astype(str)
        prev_chrom = np.concatenate([[self._last[0] if self._last else None], chrom[:-1]])
        prev_pos = np.concatenate([[self._last[1] if self._last else -1], s.pos[:-1]])
        same = chrom == prev_chrom
        backwards = same & (s.pos < prev_pos)
        if backwards.any():
            i = int(np.flatnonzero(backwards)[0])
            raise InputError(f"site {s.label(i)}: positions are not sorted (follows {prev_chrom[i]}:{prev_pos[i]})")
        for i in np.flatnonzero(~same):
            if chrom[i] in self._finished:
                raise InputError(f"site {s.label(i)}: chromosome {chrom[i]} appears in more than one block of sites")
            if prev_chrom[i] is not None:
                self._finished.add(str(prev_chrom[i]))
        self._last = (str(chrom[-1]), int(s.pos[-1]))
