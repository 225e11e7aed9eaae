"""Genotype imputation from a reference panel (Beagle 5 or minimac4) and its accuracy: dosage r² by MAF bin.

Sites are matched by (CHROM, POS, REF, ALT); only biallelic SNP records take part.

Example
-------
>>> r2_by_bin(np.array([[0, 1, 2.0]]), np.array([[0.1, 0.9, 1.8]]), np.array([0.2]),
...           edges=np.array([0.0, 0.5]))[0]["r2"]  # doctest: +ELLIPSIS
0.99...
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .beagle import run_beagle
from .errors import InputError
from .formats.vcf import detail_of, htslib_messages

# MAF bin edges: finer where augmentation is meant to help (rare alleles), 10 bins in all
MAF_EDGES = np.array([0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5])
SiteKey = tuple[str, int, str, str]


@dataclass
class Dosages:
    """Alternate-allele dosages of a VCF's biallelic SNPs: ``values`` (n_sites, n_samples) float64."""

    keys: list[SiteKey]
    samples: list[str]
    values: np.ndarray
    quality: np.ndarray  # the engine's estimated r² per site (Beagle DR2, minimac4 R2); NaN when absent
    unphased: str | None  # "record N, sample S" of the first unphased diploid call, None when all are phased


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


def impute(engine: str, *, reference: Path, target: Path, prefix: Path, seed: int, threads: int,
           memory: str) -> Path:
    """Impute ``target`` from ``reference`` with ``engine`` ("beagle" or "minimac4"); return the imputed .vcf.gz.

    The engine's log is written to ``prefix``.log.
    """
    if engine == "beagle":
        return run_beagle({"ref": reference, "gt": target, "out": prefix, "seed": seed, "nthreads": threads,
                           "impute": "true", "gp": "false"}, memory=memory, task="imputation", source=target)
    if shutil.which("minimac4") is None:
        raise InputError("--engine minimac4 needs the minimac4 program (Debian/Ubuntu package 'minimac4')")
    compressed = Path(f"{prefix}.msav")
    output = Path(f"{prefix}.vcf.gz")
    log = Path(f"{prefix}.log")
    with open(log, "w") as log_file:
        for command in (["minimac4", "--compress-reference", str(reference), "-o", str(compressed)],
                        ["minimac4", "--threads", str(threads), "--format", "GT,DS", str(compressed), str(target),
                         "-o", str(output)]):
            log_file.write("$ " + " ".join(command) + "\n")
            log_file.flush()
            result = subprocess.run(command, stdout=log_file, stderr=subprocess.STDOUT)
            if result.returncode != 0:
                lines = [line for line in log.read_text().splitlines() if line.strip()]
                reason = next((line for line in reversed(lines) if "rror" in line), lines[-1] if lines else "no output")
                raise InputError(f"{target}: minimac4 imputation failed: {reason.strip()}")
    return output


def site_r2(truth: np.ndarray, imputed: np.ndarray) -> np.ndarray:
    """Squared Pearson correlation of true and imputed dosages per site (rows); NaN where either is constant."""
    t = truth - truth.mean(axis=1, keepdims=True)
    d = imputed - imputed.mean(axis=1, keepdims=True)
    denominator = np.sqrt((t * t).sum(axis=1) * (d * d).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (t * d).sum(axis=1) / denominator
    return np.where(denominator > 0, r * r, np.nan)


def r2_by_bin(truth: np.ndarray, imputed: np.ndarray, maf: np.ndarray, *, edges: np.ndarray = MAF_EDGES,
              quality: np.ndarray | None = None) -> list[dict]:
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
        bins.append({"maf_low": float(edges[b]), "maf_high": float(edges[b + 1]), "n_sites": int(rows.sum()),
                     "r2": None if not np.isfinite(pooled) else float(pooled),
                     "mean_site_r2": float(defined.mean()) if len(defined) else None,
                     "mean_engine_r2": float(scores.mean()) if len(scores) else None})
    return bins
