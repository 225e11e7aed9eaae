"""Genotype imputation from a reference panel (Beagle 5 or minimac4) and its accuracy, dosage r² by MAF bin, and
:func:`impute_augment`: a panel augmented with artificial haplotypes against the panel alone, as one
:class:`ImputationReport`.

Sites are matched by (CHROM, POS, REF, ALT); only biallelic SNP records take part.

Example
-------
>>> r2_by_bin(np.array([[0, 1, 2.0]]), np.array([[0.1, 0.9, 1.8]]), np.array([0.2]),
...           edges=np.array([0.0, 0.5]))[0]["r2"]  # doctest: +ELLIPSIS
0.99...
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import tempfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.atomic import atomic_outputs
from genosynth._infra.errors import InputError, OptionError
from genosynth._infra.options import parse_choice, parse_haplotype_count, parse_int, parse_memory
from genosynth._infra.progress import logger
from genosynth._infra.provenance import describe_file, make_record, resolve_seed
from genosynth.io import write_haplotypes
from genosynth.io.beagle import require_beagle, run_beagle
from genosynth.io.matrix import HaplotypeMatrix, SiteKey
from genosynth.io.tables import format_cell, read_fields, write_tsv
from genosynth.io.vcf import detail_of, htslib_messages
from genosynth.reports import Report, ReportParts

# MAF bin edges: finer where augmentation is meant to help (rare alleles), 10 bins in all
MAF_EDGES = np.array([0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5])
ENGINES = ("beagle", "minimac4")
PANELS = ("panel", "augmented", "private")


@dataclass
class Dosages:
    """Alternate-allele dosages of a VCF's biallelic SNPs: ``values`` (n_sites, n_samples) float64."""

    keys: list[SiteKey]
    samples: list[str]
    values: np.ndarray
    quality: np.ndarray  # the engine's estimated r² per site (Beagle DR2, minimac4 R2); NaN when absent
    unphased: str | None  # "record N, sample S" of the first unphased diploid call, None when all are phased


def check_whole_gzip(path: Path) -> None:
    """Refuse a gzip or BGZF file that does not decompress to its end (truncated, corrupt), naming its last complete
    record, before htslib reads it (htslib reports such a file as an unparsable header, or stops early)."""
    from genosynth.io.vcf_text import last_complete_record

    with open(path, "rb") as raw:
        if raw.read(2) != b"\x1f\x8b":
            return
    try:
        with gzip.open(path, "rb") as handle:
            while handle.read(1 << 24):
                pass
    except (OSError, EOFError, zlib.error):
        last = last_complete_record(path)
        after = f" after record {last[0]}:{last[1]}" if last else " before the first record"
        raise InputError(f"{path}: truncated or corrupt gzip data{after}") from None


def read_dosages(path: Path, *, field: str = "GT", keys: set[SiteKey] | None = None) -> Dosages:
    """Dosages of every biallelic SNP (restricted to ``keys`` when given) from the GT calls or the DS field.

    Missing calls are an InputError naming the record: a truth or an imputed file has none.
    """
    from cyvcf2 import VCF

    with htslib_messages() as messages:  # htslib's warnings (e.g. contigs without header lines) stay out of logs
        try:
            vcf = VCF(str(path), lazy=True)
        except (OSError, ValueError):
            raise InputError(f"{path}: cannot read as VCF/BCF{detail_of(messages.read())}") from None
        return _read_records(vcf, path, field, keys)


def _read_records(vcf: object, path: Path, field: str, keys: set[SiteKey] | None) -> Dosages:
    site_keys, rows, quality, unphased = [], [], [], None
    for number, record in enumerate(vcf, start=1):
        if len(record.ALT) != 1 or len(record.REF) != 1 or len(record.ALT[0]) != 1:
            continue
        key = (record.CHROM, int(record.POS), record.REF, record.ALT[0])
        if keys is not None and key not in keys:
            continue
        if field == "DS":
            values = record.format("DS")
            if values is None:
                raise InputError(f"{path}: record {number} ({key[0]}:{key[1]}) has no DS field")
            row = values[:, 0].astype(np.float64)
        else:
            genotypes = record.genotype.array()
            alleles = genotypes[:, :-1].astype(np.int64)
            if (alleles == -1).any():
                raise InputError(f"{path}: record {number} ({key[0]}:{key[1]}) has a missing genotype")
            row = np.where(alleles >= 0, alleles, 0).sum(axis=1).astype(np.float64)
            if unphased is None:
                diploid = (alleles >= 0).all(axis=1)
                bad = np.flatnonzero(diploid & (genotypes[:, -1] == 0))
                if len(bad):
                    unphased = f"record {number}, sample {vcf.samples[bad[0]]}"
        score = record.INFO.get("DR2", record.INFO.get("R2"))
        site_keys.append(key)
        rows.append(row)
        quality.append(np.nan if score is None else float(score))
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(vcf.samples))
    return Dosages(site_keys, list(vcf.samples), values, np.array(quality), unphased)


def write_site_subset(source: Path, keys: set[SiteKey], output: Path) -> int:
    """Copy the records of ``source`` whose key is in ``keys`` into bgzipped VCF ``output`` with its tabix
    index (minimac4 needs one); return how many."""
    from cyvcf2 import VCF, Writer

    with htslib_messages():
        vcf = VCF(str(source))
        writer = Writer(str(output), vcf, mode="wz")
        written = 0
        for record in vcf:
            if len(record.ALT) == 1 and (record.CHROM, int(record.POS), record.REF, record.ALT[0]) in keys:
                writer.write_record(record)
                written += 1
        writer.close()
        vcf.close()
    if shutil.which("tabix") is None:
        raise InputError(f"{output}: indexing needs 'tabix' (Debian/Ubuntu package 'tabix')")
    subprocess.run(["tabix", "-f", "-p", "vcf", str(output)], check=True)
    return written


def impute(engine: str, *, reference: Path, target: Path, prefix: Path, seed: int, threads: int, memory: str) -> Path:
    """Impute ``target`` from ``reference`` with ``engine`` ("beagle" or "minimac4"); return the imputed .vcf.gz.

    The engine's log is written to ``prefix``.log.
    """
    require_engine(engine)
    if engine == "beagle":
        return run_beagle(
            {
                "ref": reference,
                "gt": target,
                "out": prefix,
                "seed": seed,
                "nthreads": threads,
                "impute": "true",
                "gp": "false",
            },
            memory=memory,
            task="imputation",
            source=target,
        )
    compressed = Path(f"{prefix}.msav")
    output = Path(f"{prefix}.vcf.gz")
    log = Path(f"{prefix}.log")
    with open(log, "w") as log_file:
        for command in (
            ["minimac4", "--compress-reference", str(reference), "-o", str(compressed)],
            [
                "minimac4",
                "--threads",
                str(threads),
                "--format",
                "GT,DS",
                str(compressed),
                str(target),
                "-o",
                str(output),
            ],
        ):
            log_file.write("$ " + " ".join(command) + "\n")
            log_file.flush()
            result = subprocess.run(command, stdout=log_file, stderr=subprocess.STDOUT)
            if result.returncode != 0:
                lines = [line for line in log.read_text().splitlines() if line.strip()]
                reason = next((line for line in reversed(lines) if "rror" in line), lines[-1] if lines else "no output")
                raise InputError(f"{target}: minimac4 imputation failed: {reason.strip()}")
    return output


def require_engine(engine: str) -> None:
    """An InputError naming what is missing when ``engine`` cannot run here."""
    if engine == "beagle":
        require_beagle("imputation")
    elif shutil.which("minimac4") is None:
        raise InputError("the minimac4 engine needs the minimac4 program (Debian/Ubuntu package 'minimac4')")


def site_r2(truth: np.ndarray, imputed: np.ndarray) -> np.ndarray:
    """Squared Pearson correlation of true and imputed dosages per site (rows); NaN where either is constant."""
    t = truth - truth.mean(axis=1, keepdims=True)
    d = imputed - imputed.mean(axis=1, keepdims=True)
    denominator = np.sqrt((t * t).sum(axis=1) * (d * d).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (t * d).sum(axis=1) / denominator
    return np.where(denominator > 0, r * r, np.nan)


def r2_by_bin(
    truth: np.ndarray,
    imputed: np.ndarray,
    maf: np.ndarray,
    *,
    edges: np.ndarray = MAF_EDGES,
    quality: np.ndarray | None = None,
) -> list[dict]:
    """Per MAF bin (``edges``, the last bin closed): sites, dosage r² pooled over every genotype of the bin's
    sites, mean per-site r² and mean engine quality (DR2/R2).

    Parameters
    ----------
    truth, imputed
        (n_sites, n_samples) dosages.
    maf
        Minor allele frequency of each site in the reference panel (n_sites,).
    """
    index = np.clip(np.searchsorted(edges, maf, side="right") - 1, 0, len(edges) - 2)
    per_site = site_r2(truth, imputed)
    bins = []
    for b in range(len(edges) - 1):
        rows = index == b
        pooled = site_r2(truth[rows].reshape(1, -1), imputed[rows].reshape(1, -1))[0] if rows.any() else np.nan
        defined = per_site[rows][np.isfinite(per_site[rows])]
        scores = quality[rows][np.isfinite(quality[rows])] if quality is not None else np.array([])
        bins.append(
            {
                "maf_low": float(edges[b]),
                "maf_high": float(edges[b + 1]),
                "n_sites": int(rows.sum()),
                "r2": None if not np.isfinite(pooled) else float(pooled),
                "mean_site_r2": float(defined.mean()) if len(defined) else None,
                "mean_engine_r2": float(scores.mean()) if len(scores) else None,
            }
        )
    return bins


# -- impute_augment: does adding artificial haplotypes to a panel help imputation? ---------------------------


@dataclass
class ImputationReport(Report):
    """Imputation accuracy from each panel (``summary[name]`` for "panel", "augmented" and, with private
    haplotypes, "private": mean and pooled r², r² by MAF bin), the augmented panel, and the engine's imputed
    files and logs; ``write(folder)`` writes them all with impute.json, impute.tsv, a plot and report.html."""

    summary: dict[str, Any]
    provenance: dict[str, Any]
    augmented_panel: HaplotypeMatrix = field(repr=False)
    engine_files: dict[str, Path] = field(repr=False)
    workdir: Any = field(repr=False)  # the TemporaryDirectory holding engine_files while the report lives
    report_title = "genosynth impute-augment"
    json_name = "impute.json"
    step = "impute-augment"

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary, "provenance": self.provenance}

    @property
    def panels(self) -> list[str]:
        return [name for name in PANELS if name in self.summary]

    def _write_files(self, folder: Path) -> None:
        rows = [
            [name, b["maf_low"], b["maf_high"], b["n_sites"], b["r2"], b["mean_site_r2"], b["mean_engine_r2"]]
            for name in self.panels
            for b in self.summary[name]["bins"]
        ]
        write_tsv(
            folder / "impute.tsv",
            ["panel", "maf_low", "maf_high", "n_sites", "r2", "mean_site_r2", "mean_engine_r2"],
            rows,
        )
        write_haplotypes(self.augmented_panel, folder / "augmented_panel.vcf.gz")
        for name, source in self.engine_files.items():
            with atomic_outputs(folder / name) as (temp,):
                _copy_without_private_paths(source, temp, Path(self.workdir.name))

    def _report_parts(self, folder: Path) -> ReportParts:
        from genosynth.reports.imputation import imputation_figure

        rows = [
            ("engine", self.summary["engine"]),
            (
                "common / array / scored sites",
                f"{self.summary['common_sites']} / {self.summary['array_sites']} / {self.summary['scored_sites']}",
            ),
        ]
        rows += [(f"mean r² ({name})", format_cell(self.summary[name]["mean_r2"], ".4f")) for name in self.panels]
        rows += [(f"pooled r² ({name})", format_cell(self.summary[name]["pooled_r2"], ".4f")) for name in self.panels]
        figure = (
            "Imputation accuracy by minor allele frequency (as Fig 4 of Yelmen et al. 2021)",
            imputation_figure(folder, self.summary, self.panels),
        )
        return rows, None, [figure]

    def __repr__(self) -> str:
        return (
            "ImputationReport("
            + ", ".join(f"{name}: mean r² {format_cell(self.summary[name]['mean_r2'], '.4f')}" for name in self.panels)
            + ")"
        )


def impute_augment(
    panel: HaplotypeMatrix,
    synthetic: HaplotypeMatrix,
    target: str | Path,
    *,
    private: HaplotypeMatrix | None = None,
    ploidy: int = 1,
    keep_every: int = 10,
    array_sites: Iterable[tuple[str, int]] | None = None,
    engine: str = "beagle",
    threads: int = 2,
    memory: str = "2g",
    seed: int | None = None,
    progress: bool = True,
) -> ImputationReport:
    """Impute a target masked to array sites from a real panel, from the panel augmented with artificial
    haplotypes, and optionally from the panel with real ``private`` haplotypes (the "perfect" panel), and score
    the imputed dosages against the hidden genotypes.

    Parameters
    ----------
    panel, synthetic
        The real reference panel and the artificial haplotypes (added as haploid samples ``AG_i``, or phased
        pairs with ``ploidy`` 2).
    target
        VCF/BCF of the individuals to impute with all their genotypes: the truth that is masked.
    keep_every, array_sites
        The genotyping array keeps every ``keep_every``-th common site, or the (CHROM, POS) in ``array_sites``.
    engine, threads, memory, seed
        ``"beagle"`` (Java heap ``memory``) or ``"minimac4"`` (phased targets only); its threads; Beagle's seed.

    Example
    -------
    >>> report = impute_augment(panel, artificial, "target.vcf.gz", seed=1)  # doctest: +SKIP
    >>> report.summary["augmented"]["mean_r2"] - report.summary["panel"]["mean_r2"]  # doctest: +SKIP
    0.01...
    """
    target = Path(target)
    parse_choice("engine", engine, ENGINES)
    parse_haplotype_count(2, ploidy)
    parse_int("keep_every", keep_every, minimum=2)
    parse_int("threads", threads, minimum=1)
    parse_memory("memory", memory)
    if not target.is_file():
        raise InputError(f"{target}: no such file")
    require_engine(engine)
    seed = resolve_seed(seed)
    say = logger("impute-augment", progress)
    check_whole_gzip(target)
    truth = read_dosages(target)
    if engine == "minimac4" and truth.unphased:
        raise InputError(
            f"{target}: {truth.unphased} is unphased; minimac4 needs a phased target "
            "(use the beagle engine, or phase the target first)"
        )
    ingredients = {"panel": panel, "synthetic": synthetic} | ({"private": private} if private is not None else {})
    common = _common_sites(truth, ingredients, target)
    panel, synthetic = _restrict(panel, common), _restrict(synthetic, common)
    panels = {"panel": panel, "augmented": _augmented_panel(panel, synthetic, ploidy=ploidy, say=say)}
    if private is not None:
        panels["private"] = _stack_samples(panel, _restrict(private, common), private.name("the private set"))
    keys = panel.sites.keys()
    on_array = _array_mask(keys, keep_every=keep_every, array_sites=array_sites)
    if on_array.all() or not on_array.any():
        raise OptionError(
            "array_sites" if array_sites is not None else "keep_every",
            f"keeps {int(on_array.sum())} of the {len(keys)} common sites on the array; it must keep "
            "some and leave some to impute",
        )
    say(
        f"{len(keys)} common sites, {int(on_array.sum())} on the array, {int((~on_array).sum())} imputed; "
        + ", ".join(f"{name} {m.n_haplotypes} haplotypes" for name, m in panels.items())
        + f"; {len(truth.samples)} target samples; engine {engine}"
    )
    masked = {k for k, kept in zip(keys, on_array) if not kept}
    workdir = tempfile.TemporaryDirectory(prefix="genosynth-impute-augment.")
    work = Path(workdir.name)
    target_array = work / "target_array.vcf.gz"
    write_site_subset(target, {k for k, kept in zip(keys, on_array) if kept}, target_array)
    imputed: dict[str, Dosages] = {}
    for name, matrix in panels.items():
        reference = work / f"{name}_panel.vcf.gz"
        write_haplotypes(matrix, reference)
        say(f"imputing the target with {engine} from the {name} reference ({matrix.n_haplotypes} haplotypes)")
        output = impute(
            engine,
            reference=reference,
            target=target_array,
            prefix=work / f"imputed_{name}",
            seed=seed,
            threads=threads,
            memory=memory,
        )
        imputed[name] = read_dosages(output, field="DS", keys=masked)
    results, scored = _score(truth, imputed, panel, keys, masked, target)
    inputs = [m.describe() for m in ingredients.values()] + [describe_file(target)]
    record = make_record(
        "impute-augment",
        parameters={
            "ploidy": ploidy,
            "keep_every": keep_every,
            "array_sites": None if array_sites is None else "given",
            "engine": engine,
            "threads": threads,
            "memory": memory,
        },
        seed=seed,
        inputs=inputs,
        summary={"common_sites": len(keys), "array_sites": int(on_array.sum()), "scored_sites": scored},
    )
    summary = {
        "engine": engine,
        "common_sites": len(keys),
        "array_sites": int(on_array.sum()),
        "scored_sites": scored,
        "target_samples": len(truth.samples),
        "ploidy": ploidy,
        "maf_source": "reference panel",
        **results,
    }
    engine_files = {
        path.name: path
        for name in panels
        for suffix in (".vcf.gz", ".log")
        if (path := work / f"imputed_{name}{suffix}").is_file()
    }
    return ImputationReport(
        summary=summary,
        provenance=record,
        augmented_panel=panels["augmented"].with_provenance(record),
        engine_files=engine_files,
        workdir=workdir,
    )


def _copy_without_private_paths(source: Path, target: Path, work: Path) -> None:
    """Copy an engine's log or VCF with the temporary work folder (and the home folder) cut from every path in its
    text (a log) or header (a bgzipped VCF), so that the report's files name no private or temporary folder."""
    folders = sorted({str(work), os.path.realpath(work)}, key=len, reverse=True)
    home = os.path.expanduser("~")

    def shareable(text: str) -> str:
        for folder in folders:
            text = text.replace(folder + os.sep, "").replace(folder, ".")
        return text.replace(home + os.sep, "~" + os.sep) if len(home) > 1 else text

    if source.name.endswith(".vcf.gz"):
        if shutil.which("bgzip") is None:
            raise InputError(
                f"{target.name}: copying the engine's output needs 'bgzip' (Debian/Ubuntu package 'tabix')"
            )
        with gzip.open(source, "rt") as vcf, open(target, "wb") as out:
            bgzip = subprocess.Popen(["bgzip", "-c"], stdin=subprocess.PIPE, stdout=out, text=True)
            try:
                for line in vcf:
                    bgzip.stdin.write(shareable(line) if line.startswith("#") else line)
            finally:
                bgzip.stdin.close()
                if bgzip.wait() != 0:
                    raise InputError(f"{source.name}: bgzip failed while copying the engine's output")
    else:
        target.write_text(shareable(source.read_text(errors="replace")))


def read_array_sites(path: str | Path) -> list[tuple[str, int]]:
    """(CHROM, POS) of every line of an array-sites file (``#`` lines skipped)."""
    sites = []
    for number, fields in read_fields(path):
        try:
            sites.append((fields[0], int(fields[1])))
        except (IndexError, ValueError):
            raise InputError(f"{path}: line {number}: expected CHROM and POS") from None
    return sites


def _common_sites(truth: Dosages, matrices: dict[str, HaplotypeMatrix], target: Path) -> set[SiteKey]:
    """Sites in the target and every panel ingredient; an InputError when chromosomes or sites do not overlap."""
    common = set(truth.keys)
    named = {"the target": {k[0] for k in truth.keys}}
    for name, matrix in matrices.items():
        common &= set(matrix.sites.keys())
        named[f"the {name} set"] = set(matrix.sites.chrom.tolist())
    if not set.intersection(*named.values()):
        listing = "; ".join(f"{name} has {', '.join(sorted(c)[:5]) or 'none'}" for name, c in named.items())
        raise InputError(f"no chromosome is in every input ({listing})")
    if len(common) < 10:
        names = ", ".join([str(target)] + [m.name(role) for role, m in matrices.items()])
        raise InputError(
            f"only {len(common)} sites (CHROM, POS, REF, ALT) are in every input ({names}); at least 10 are needed"
        )
    return common


def _restrict(matrix: HaplotypeMatrix, keys: set[SiteKey]) -> HaplotypeMatrix:
    return matrix.select_sites(np.array([k in keys for k in matrix.sites.keys()], dtype=bool))


def _augmented_panel(panel: HaplotypeMatrix, synthetic: HaplotypeMatrix, *, ploidy: int, say: Any) -> HaplotypeMatrix:
    """The panel's samples followed by the artificial haplotypes as haploid samples or phased pairs (AG_0, AG_1...)."""
    haplotypes = synthetic.haplotypes
    populations = synthetic.haplotype_population
    if ploidy == 2:
        if len(haplotypes) % 2:
            say(
                f"{synthetic.name('the synthetic set')}: {len(haplotypes)} haplotypes; the last one is left out "
                "of the diploid pairs"
            )
        haplotypes = haplotypes[: len(haplotypes) // 2 * 2]
        populations = populations[: len(haplotypes)][::2]
    n = len(haplotypes) // ploidy
    names = np.array([f"AG_{i}" for i in range(n)])
    artificial = HaplotypeMatrix(haplotypes, panel.sites, names, np.full(n, ploidy, np.int8), populations, label="AG")
    return _stack_samples(panel, artificial, synthetic.name("the synthetic set"))


def _stack_samples(first: HaplotypeMatrix, second: HaplotypeMatrix, name: str) -> HaplotypeMatrix:
    """Samples of ``first`` then of ``second`` (on the same sites); an InputError when a name is in both."""
    duplicated = set(first.samples.tolist()) & set(second.samples.tolist())
    if duplicated:
        raise InputError(f"{name}: sample {sorted(duplicated)[0]} is in the panel too")
    return HaplotypeMatrix.stack([first, second])


def _array_mask(keys: list[SiteKey], *, keep_every: int, array_sites: Iterable[tuple[str, int]] | None) -> np.ndarray:
    if array_sites is None:
        return np.arange(len(keys)) % keep_every == 0
    wanted = {(str(chrom), int(pos)) for chrom, pos in array_sites}
    return np.array([(k[0], k[1]) in wanted for k in keys], dtype=bool)


def _score(
    truth: Dosages,
    imputed: dict[str, Dosages],
    panel: HaplotypeMatrix,
    keys: list[SiteKey],
    masked: set[SiteKey],
    target: Path,
) -> tuple[dict, int]:
    """r² of every panel's imputation on the masked sites that every imputed file holds."""
    returned = [set(d.keys) for d in imputed.values()]
    scored = [k for k in keys if k in masked and all(k in r for r in returned)]
    if not scored:
        raise InputError(f"{target}: no masked site came back imputed from every panel")
    truth_rows = {k: i for i, k in enumerate(truth.keys)}
    truth_values = truth.values[[truth_rows[k] for k in scored]]
    frequencies = panel.allele_frequencies()
    panel_index = {k: i for i, k in enumerate(keys)}
    maf = np.array([min(frequencies[panel_index[k]], 1 - frequencies[panel_index[k]]) for k in scored])
    results = {}
    for name, dosages in imputed.items():
        if dosages.samples != truth.samples:
            raise InputError(f"{target}: the imputed samples differ from the target's (engine output reordered them)")
        rows = {k: i for i, k in enumerate(dosages.keys)}
        order = [rows[k] for k in scored]
        values, quality = dosages.values[order], dosages.quality[order]
        per_site = site_r2(truth_values, values)
        pooled = site_r2(truth_values.reshape(1, -1), values.reshape(1, -1))[0]
        results[name] = {
            "mean_r2": float(np.nanmean(per_site)) if np.isfinite(per_site).any() else None,
            "sites_with_r2": int(np.isfinite(per_site).sum()),
            "pooled_r2": float(pooled) if np.isfinite(pooled) else None,
            "mean_engine_r2": float(np.nanmean(quality)) if np.isfinite(quality).any() else None,
            "bins": r2_by_bin(truth_values, values, maf, quality=quality),
        }
    return results, len(scored)
