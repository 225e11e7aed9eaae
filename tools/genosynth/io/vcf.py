"""Phased VCF/BCF in (cyvcf2, streamed in chunks of biallelic SNPs) and VCF/VCF.gz out (streamed, with a tabix index).

Only biallelic SNPs become sites; every other record is dropped and counted by reason. Missing calls and
unphased diploid calls are errors naming the record; haploid calls are one haplotype each.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np

from genosynth._infra.errors import InputError
from genosynth._infra.version import __version__
from genosynth.io.matrix import SiteOrderCheck, Sites
from genosynth.io.regions import Region
from genosynth.io.vcf_text import (
    Block,
    DecompressionError,
    GenotypeTemplate,
    data_blocks,
    decode_block,
    is_vcf_text,
    last_complete_record,
    parse_genotypes,
    text_tools_available,
)

CHUNK_RECORDS = 2048
_BASES = frozenset("ACGTacgt")  # one-letter alleles that make a SNP
_BASE_BYTES = np.array(sorted(_BASES), dtype=bytes)


class VcfSource:
    """Reads a phased VCF, bgzipped VCF or BCF chunk by chunk as (Sites, uint8 rows (n_sites, n_haplotypes)).

    Parameters
    ----------
    path
        The input file.
    region
        ``CHR:START-END`` or a Region; needs a .tbi or .csi index beside the file. Only records whose POS lies in the
        region are read (an indel that starts before it and overlaps it is not).
    samples
        Names to keep (in file order); names absent from the file are an error listing them.
    allow_empty
        With no records (in the region), ``has_records`` is False instead of an error.
    threads
        Threads of ``bgzip`` decompressing VCF text.

    Attributes ``samples``, ``ploidy``, ``populations`` (from ``##SAMPLE=<ID=..,Population=..>`` header lines,
    "" where absent) describe the columns; ``dropped`` counts records dropped by reason; ``reads_text`` says
    whether records are decoded from VCF text in blocks (else by cyvcf2, record by record: BCF).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        region: str | Region | None = None,
        samples: list[str] | None = None,
        allow_empty: bool = False,
        threads: int = 2,
    ) -> None:
        import cyvcf2

        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such file")
        self.dropped: Counter[str] = Counter()
        with htslib_messages() as messages:
            try:
                self._vcf = cyvcf2.VCF(str(self.path), lazy=True, threads=2)
            except Exception:
                detail = messages.read()
                if "No sample line" in detail or "#CHROM" in detail:
                    raise InputError(f"{self.path}: missing the '#CHROM' header line") from None
                raise InputError(f"{self.path}: cannot parse VCF header{detail_of(detail)}") from None
        all_samples = list(self._vcf.samples)
        self._header_samples = all_samples
        if not all_samples:
            raise InputError(f"{self.path}: the VCF has no samples (no genotype columns)")
        if samples is not None:
            missing = sorted(set(samples) - set(all_samples))
            if missing:
                raise InputError(
                    f"{self.path}: {len(missing)} requested sample(s) not in the file: {_listing(missing)}"
                )
            wanted = set(samples)
            self._vcf.set_samples([s for s in all_samples if s in wanted])
            all_samples = [s for s in all_samples if s in wanted]
        self.samples = np.array(all_samples, dtype=str)
        header_populations = _header_populations(self._vcf.raw_header)
        self.populations = np.array([header_populations.get(s, "") for s in all_samples], dtype=str)
        self.provenance, self.label = _header_genosynth_fields(self._vcf.raw_header)
        region = None if region is None else Region.parse(region)
        if region and not any(Path(str(self.path) + ext).is_file() for ext in (".tbi", ".csi")):
            raise InputError(
                f"{self.path}: reading a region needs an index ({self.path}.tbi or .csi); "
                f"create it with 'bcftools index {self.path}' (the file must be bgzipped or BCF)"
            )
        self._region = region
        self._threads = threads
        self._keep = np.flatnonzero(np.isin(np.array(self._header_samples, dtype=str), self.samples))
        self.reads_text = is_vcf_text(self.path) and text_tools_available(region=region)
        first = self._first_text_record() if self.reads_text else self._first_cyvcf2_record()
        self.has_records = first is not None
        if first is None:
            if not allow_empty:
                where = f" in region {self._region}" if self._region else ""
                raise InputError(f"{self.path}: no variant records{where}{detail_of(self._first_messages)}")
            self.ploidy = np.full(len(self.samples), 2, dtype=np.int8)
            self._first = None
        else:
            self._first, gt = first
            self.ploidy = np.where(gt[:, 1] == -2, 1, 2).astype(np.int8)

    def _first_cyvcf2_record(self) -> tuple[tuple[str, int], np.ndarray] | None:
        region = self._region
        if region:
            with htslib_messages() as messages:
                try:
                    records = iter(self._vcf(str(region)))
                except Exception:
                    raise InputError(f"{self.path}: cannot read region {region}{detail_of(messages.read())}") from None
            self._records = (record for record in records if record.POS >= region.start)
        else:
            self._records = iter(self._vcf)
        with htslib_messages() as messages:
            self._first_record = next(self._records, None)
            self._first_messages = messages.read()
        if self._first_record is None:
            return None
        return (self._first_record.CHROM, self._first_record.POS), _genotype_array(self._first_record, self.path)

    def _first_text_record(self) -> tuple[tuple[str, int], np.ndarray] | None:
        """CHROM and POS of the first record (in the region) and its kept samples' genotypes; sets the template
        of the lines that decode as whole blocks, from the ploidy of every sample column of that record."""
        self._first_messages = ""
        try:
            with data_blocks(self.path, region=self._region, threads=1) as blocks:
                for raw in blocks:
                    start = 0
                    while start < len(raw):
                        end = raw.index(b"\n", start)
                        line, start = raw[start:end], end + 1
                        if not line:
                            continue
                        fields = self._split_line(line)
                        chrom, pos = self._position(fields)
                        if self._region and pos < self._region.start:
                            continue
                        calls = [field.split(b":", 1)[0] for field in fields[9:]]
                        every_ploidy = np.array([1 + min(1, c.count(b"|") + c.count(b"/")) for c in calls])
                        self._template = GenotypeTemplate.of(every_ploidy, self._keep)
                        return (chrom, pos), parse_genotypes(fields[9:], self._keep, self._where(chrom, pos))
        except DecompressionError as err:
            self._first_messages = str(err)
            if self._region:
                raise InputError(f"{self.path}: cannot read region {self._region} ({err})") from None
            raise InputError(
                f"{self.path}: reading failed before the first record ({err}); truncated or corrupt file?"
            ) from None
        return None

    def first_position(self) -> tuple[str, int]:
        """CHROM and POS of the first record."""
        return self._first

    def contig_lengths(self) -> dict[str, int | None]:
        """Contigs of the header in order, with their ``length`` where the header gives one (else None)."""
        try:  # cyvcf2 gives -1 for a contig line without a length
            return {
                name: (int(length) if length >= 0 else None)
                for name, length in zip(self._vcf.seqnames, self._vcf.seqlens)
            }
        except Exception:  # cyvcf2 raises when the header has no contig lengths
            return {}

    def chunks(self) -> Iterator[tuple[Sites, np.ndarray]]:
        """Yield (sites, rows) for consecutive chunks of biallelic SNP records."""
        if self._first is None:
            return
        yield from self._text_chunks() if self.reads_text else self._cyvcf2_chunks()

    def _text_chunks(self) -> Iterator[tuple[Sites, np.ndarray]]:
        """Chunks of VCF text, a block of lines each: lines matching the template decode as arrays, others one by
        one (and every problem is found there)."""
        order = SiteOrderCheck()
        last: list = []
        try:
            with data_blocks(self.path, region=self._region, threads=self._threads) as blocks:
                for raw in blocks:
                    chunk = self._decode(decode_block(raw, self._template), order)
                    if chunk is not None:
                        last = [(chunk[0].chrom[-1], chunk[0].pos[-1])]
                        yield chunk
        except DecompressionError as err:  # name the file's last whole record, not where the reading got to
            last_record = last_complete_record(self.path) if self._region is None else None
            raise self._read_error([last_record] if last_record else last, f" ({err})") from None

    def _decode(self, block: Block, order: SiteOrderCheck) -> tuple[Sites, np.ndarray] | None:
        """The block's biallelic SNPs (in the region): matched lines from the block's arrays, the others parsed here."""
        region = self._region
        matched = np.flatnonzero(block.matched)
        try:
            pos = block.pos.astype(np.int64)
        except ValueError:  # name the first such line
            for i in matched.tolist():
                self._position(self._split_line(block.raw[block.starts[i] : block.ends[i]]))
            raise
        listed = pos >= region.start if region else np.ones(len(matched), dtype=bool)
        snp = np.isin(block.ref, _BASE_BYTES) & np.isin(block.alt, _BASE_BYTES)
        for k in np.flatnonzero(listed & ~snp).tolist():
            alt = block.alt[k].decode(errors="replace").split(",")
            self.dropped[_drop_reason(block.ref[k].decode(errors="replace"), alt)] += 1
        fast = np.flatnonzero(listed & snp)
        columns = [
            block.chrom[fast].astype(str),
            pos[fast],
            block.id[fast].astype(str),
            block.ref[fast].astype(str),
            block.alt[fast].astype(str),
        ]
        line_of = [matched[fast]]
        rows = [block.alleles[fast]]
        others: list[tuple[str, int, str, str, str]] = []
        other_gt, other_lines = [], []
        for i in np.flatnonzero(~block.matched & (block.ends > block.starts)).tolist():  # blank lines are skipped
            fields = self._split_line(block.raw[block.starts[i] : block.ends[i]])
            chrom, position = self._position(fields)
            if region and position < region.start:
                continue
            ref, alt = fields[3].decode(errors="replace"), fields[4].decode(errors="replace").split(",")
            if not _is_snp(ref, alt):
                self.dropped[_drop_reason(ref, alt)] += 1
                continue
            others.append((chrom, position, fields[2].decode(errors="replace"), ref, alt[0]))
            other_gt.append(parse_genotypes(fields[9:], self._keep, self._where(chrom, position)))
            other_lines.append(i)
        if not len(fast) and not others:
            return None
        if others:  # in line order with the matched lines
            line_of.append(np.array(other_lines, dtype=np.int64))
            order_of_lines = np.argsort(np.concatenate(line_of), kind="stable")
            columns = [
                np.concatenate([column, np.array(extra, dtype=column.dtype if k == 1 else str)])[order_of_lines]
                for k, (column, extra) in enumerate(zip(columns, zip(*others)))
            ]
        sites = self._in_order(
            Sites(chrom=columns[0], pos=columns[1], id=columns[2], ref=columns[3], alt=columns[4]), order
        )
        if not others:
            return sites, rows[0]
        slow = np.flatnonzero(order_of_lines >= len(fast))  # where the other lines landed, in line order
        alleles = np.empty((len(sites), rows[0].shape[1]), dtype=np.uint8)
        alleles[order_of_lines < len(fast)] = rows[0]
        alleles[slow] = self._checked_alleles(np.stack(other_gt), sites.take(slow))
        return sites, alleles

    def _cyvcf2_chunks(self) -> Iterator[tuple[Sites, np.ndarray]]:
        """Chunks of BCF (or of VCF text without the programs text reading needs), record by record."""
        order = SiteOrderCheck()
        buffer = np.empty((CHUNK_RECORDS, len(self.samples), 3), dtype=np.int16)
        fields: list[tuple[str, int, str, str, str]] = []
        records = _chain_first(self._first_record, self._records)
        with htslib_messages() as messages:
            try:
                for record in records:
                    ref, alt = record.REF, record.ALT
                    if not _is_snp(ref, alt):
                        self.dropped[_drop_reason(ref, alt)] += 1
                        continue
                    gt = record.genotype.array()
                    if gt.shape[1] != 3:
                        gt = _genotype_array(record, self.path)
                    buffer[len(fields)] = gt
                    fields.append((record.CHROM, record.POS, record.ID or ".", ref, alt[0]))
                    if len(fields) == CHUNK_RECORDS:
                        yield self._finish_chunk(buffer, fields, order)
                        fields = []
            except InputError:
                raise
            except Exception as err:
                raise self._read_error(fields, detail_of(messages.read() or str(err))) from None
            detail = messages.read()
        if "[E::" in detail:
            raise self._read_error(fields, detail_of(detail))
        if fields:
            yield self._finish_chunk(buffer, fields, order)

    def _split_line(self, line: bytes) -> list[bytes]:
        """A data line's tab-separated fields; a line without one column per sample is an error naming it."""
        fields = line.rstrip(b"\r").split(b"\t")
        if len(fields) != 9 + len(self._header_samples):
            head = b"\t".join(fields[:2]).decode(errors="replace").replace("\t", ":")
            raise InputError(
                f"{self.path}: record {head}: {len(fields)} columns, but the header names "
                f"{len(self._header_samples)} samples (expected {9 + len(self._header_samples)})"
            )
        return fields

    def _position(self, fields: list[bytes]) -> tuple[str, int]:
        chrom = fields[0].decode(errors="replace")
        try:
            return chrom, int(fields[1])
        except ValueError:
            raise InputError(
                f"{self.path}: record {chrom}:{fields[1].decode(errors='replace')}: POS is not a number"
            ) from None

    def _where(self, chrom: str, pos: int) -> str:
        return f"{self.path}: record {chrom}:{pos}"

    def _read_error(self, fields: list, reason: str) -> InputError:
        """The error of a read that failed after the last of ``fields`` (CHROM and POS first), ``reason`` a
        parenthesised suffix."""
        after = f"{fields[-1][0]}:{fields[-1][1]}" if fields else "the last complete chunk"
        return InputError(f"{self.path}: reading failed after record {after}{reason}; truncated or corrupt file?")

    def _finish_chunk(self, buffer: np.ndarray, fields: list, order: SiteOrderCheck) -> tuple[Sites, np.ndarray]:
        chrom, pos, ids, ref, alt = (np.array(column) for column in zip(*fields))
        sites = self._in_order(
            Sites(
                chrom=chrom.astype(str),
                pos=pos.astype(np.int64),
                id=ids.astype(str),
                ref=ref.astype(str),
                alt=alt.astype(str),
            ),
            order,
        )
        return sites, self._checked_alleles(buffer[: len(fields)], sites)

    def _in_order(self, sites: Sites, order: SiteOrderCheck) -> Sites:
        """``sites``, checked to follow the sites before them in order."""
        try:
            order.check(sites)
        except InputError as err:
            raise InputError(f"{self.path}: {err}") from None
        return sites

    def _checked_alleles(self, gt: np.ndarray, sites: Sites) -> np.ndarray:
        """Rows (sites, haplotypes) uint8 of genotype arrays (sites, samples, 3) as cyvcf2 gives them; the first
        call that is missing, unphased, not 0/1 or of another ploidy than at the first record is an error."""
        n = len(sites)
        haploid = self.ploidy == 1
        diploid_index = np.flatnonzero(~haploid)
        keep = np.sort(np.concatenate([np.arange(len(self.samples)) * 3, diploid_index * 3 + 1]))  # allele slots
        alleles = gt.reshape(n, -1)[:, keep]
        problems = {
            "ploidy": (gt[:, :, 1] == -2) != haploid,
            "missing": alleles < 0,
            "allele": alleles > 1,
            "unphased": gt[:, diploid_index, 2] == 0,
        }
        first_bad = {kind: int(np.flatnonzero(flags.any(axis=1))[0]) for kind, flags in problems.items() if flags.any()}
        if first_bad:
            kind = min(first_bad, key=first_bad.get)
            row = first_bad[kind]
            col = int(np.flatnonzero(problems[kind][row])[0])
            where = f"{self.path}: record {sites.label(row)}"
            if kind == "ploidy":
                raise InputError(
                    f"{where}: sample {self.samples[col]} changes ploidy (was {self.ploidy[col]} at the first record)"
                )
            if kind == "missing":
                raise InputError(
                    f"{where}: missing genotype call for sample {self._haplotype_sample(col)}; "
                    "fill it with --phase (Beagle) or filter the record"
                )
            if kind == "allele":
                raise InputError(f"{where}: allele index {alleles[row, col]} on a biallelic record")
            raise InputError(
                f"{where}: unphased genotype for sample {self.samples[diploid_index[col]]}; "
                "phase the input first or pass --phase (Beagle)"
            )
        return alleles.astype(np.uint8)

    def _haplotype_sample(self, column: int) -> str:
        return str(np.repeat(self.samples, self.ploidy)[column])


class VcfWriter:
    """Streams sites into a phased VCF (through ``bgzip``, then indexed with ``tabix``, when ``bgzip``).

    Haplotypes of a diploid sample become ``a|b``, haploid samples a single allele. Sample populations are kept
    in ``##SAMPLE=<ID=...,Population=...>`` header lines; provenance in ``##genosynth_provenance``. ``append``
    takes haplotypes (n_haplotypes, n_sites_chunk); the file is complete when the writer closes without error.
    ``contig_lengths`` (optional) adds ``length=`` to the contig lines of those it names.

    Example
    -------
    >>> with VcfWriter("ag.vcf.gz", samples=names, ploidy=ploidy, populations=pops, label="AG",
    ...                provenance=records, contigs=["22"], bgzip=True) as w:  # doctest: +SKIP
    ...     w.append(sites, haplotypes)
    """

    def __init__(
        self,
        path: str | Path,
        *,
        samples: np.ndarray,
        ploidy: np.ndarray,
        populations: np.ndarray,
        label: str,
        provenance: list,
        contigs: list[str],
        bgzip: bool,
        contig_lengths: dict[str, int] | None = None,
    ) -> None:
        self.path = Path(path)
        self.bgzip = bgzip
        self._process: subprocess.Popen | None = None
        if bgzip:
            for program in ("bgzip", "tabix"):
                if shutil.which(program) is None:
                    raise InputError(f"{self.path}: writing .vcf.gz needs '{program}' (Debian/Ubuntu package 'tabix')")
        self._raw = open(self.path, "wb")
        if bgzip:
            self._process = subprocess.Popen(["bgzip", "-c", "-@", "2"], stdin=subprocess.PIPE, stdout=self._raw)
            assert self._process.stdin is not None
            self._out: IO[bytes] = self._process.stdin
        else:
            self._out = self._raw
        head = ["##fileformat=VCFv4.2", f"##source=genosynth-{__version__}"]
        lengths = contig_lengths or {}
        head += [f"##contig=<ID={c},length={lengths[c]}>" if c in lengths else f"##contig=<ID={c}>" for c in contigs]
        head.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Phased genotype">')
        head += [f"##SAMPLE=<ID={name},Population={_quoted(pop)}>" for name, pop in zip(samples, populations) if pop]
        head.append(f"##genosynth_label={label}")
        head.append("##genosynth_provenance=" + json.dumps(provenance, separators=(",", ":")))
        head.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]))
        self._out.write(("\n".join(head) + "\n").encode())
        # One row of genotype text is a byte template: the allele bytes are filled in per site.
        widths = np.where(np.asarray(ploidy) == 2, 4, 2)
        self._template = np.full(int(widths.sum()), ord("\t"), dtype=np.uint8)
        starts = np.concatenate([[0], np.cumsum(widths)[:-1]])
        second = starts[np.asarray(ploidy) == 2] + 2
        self._template[second - 1] = ord("|")
        self._template[-1] = ord("\n")
        self._allele_columns = np.sort(np.concatenate([starts, second]))

    def append(self, sites: Sites, haplotypes: np.ndarray) -> None:
        """Write ``len(sites)`` sites whose alleles are the columns of ``haplotypes`` (n_haplotypes, n_sites)."""
        step = max(1, (1 << 24) // max(1, len(self._template)))
        for lo in range(0, len(sites), step):
            hi = min(lo + step, len(sites))
            block = np.tile(self._template, (hi - lo, 1))
            block[:, self._allele_columns] = haplotypes[:, lo:hi].T + ord("0")
            for i in range(lo, hi):
                self._out.write(
                    f"{sites.chrom[i]}\t{sites.pos[i]}\t{sites.id[i]}\t{sites.ref[i]}\t{sites.alt[i]}"
                    "\t.\tPASS\t.\tGT\t".encode()
                )
                self._out.write(block[i - lo].tobytes())

    def __enter__(self) -> VcfWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._out.close()
            if self._process is not None:
                if exc[0] is not None:
                    self._process.kill()
                if self._process.wait() != 0 and exc[0] is None:
                    raise RuntimeError(f"bgzip failed with exit code {self._process.returncode}")
        finally:
            self._raw.close()
        if self.bgzip and exc[0] is None:
            subprocess.run(["tabix", "-f", "-p", "vcf", str(self.path)], check=True)


def _is_snp(ref: str, alt: list[str]) -> bool:
    """Whether a record with these alleles is a biallelic SNP."""
    return len(alt) == 1 and ref in _BASES and alt[0] in _BASES


def _drop_reason(ref: str, alt: list[str]) -> str:
    """Why a record with these alleles is not a biallelic SNP."""
    if not alt or alt[0] in (".", "*"):
        return "no_alt_allele"
    if any(a.startswith("<") or "[" in a or "]" in a or a == "*" for a in alt):
        return "symbolic_allele"
    if len(alt) > 1:
        return "multiallelic"
    if len(ref) != 1 or len(alt[0]) != 1:
        return "indel_or_mnp"
    return "not_acgt"


def _genotype_array(record: object, path: Path) -> np.ndarray:
    """(n_samples, 3) int16: allele 1, allele 2 (-2 for haploid), phased flag; whatever the record's ploidy."""
    gt = record.genotype.array()  # type: ignore[attr-defined]
    if gt.shape[1] == 3:
        return gt
    if gt.shape[1] == 2:  # every sample haploid at this record
        return np.column_stack([gt[:, 0], np.full(len(gt), -2, dtype=gt.dtype), np.ones(len(gt), dtype=gt.dtype)])
    raise InputError(f"{path}: record {record.CHROM}:{record.POS}: ploidy {gt.shape[1] - 1} is not supported (1 or 2)")  # type: ignore[attr-defined]


def _chain_first(first: object, rest: Iterator[object]) -> Iterator[object]:
    yield first
    yield from rest


def _header_populations(raw_header: str) -> dict[str, str]:
    populations = {}
    for match in re.finditer(r"^##SAMPLE=<(.*)>$", raw_header, flags=re.MULTILINE):
        keys = {
            key: value[1:-1].replace('\\"', '"') if value.startswith('"') else value
            for key, value in re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,]*)', match.group(1))
        }
        if "ID" in keys and "Population" in keys:
            populations[keys["ID"]] = keys["Population"]
    return populations


def _quoted(value: str) -> str:
    """A header value, double-quoted when it holds characters that would end it."""
    return '"' + value.replace('"', '\\"') + '"' if re.search(r'[,<>="\s]', value) else value


def _header_genosynth_fields(raw_header: str) -> tuple[list[dict], str]:
    """Provenance and .hapt label that genosynth's own VCF writer stored in the header."""
    provenance = re.search(r"^##genosynth_provenance=(.*)$", raw_header, flags=re.MULTILINE)
    label = re.search(r"^##genosynth_label=(.*)$", raw_header, flags=re.MULTILINE)
    try:
        records = json.loads(provenance.group(1)) if provenance else []
    except json.JSONDecodeError:
        records = []
    return records, label.group(1).strip() if label else "Real"


def _listing(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


def detail_of(messages: str) -> str:
    """htslib's first message as a parenthesised suffix for an error line ("" when it said nothing)."""
    lines = [line.strip() for line in messages.splitlines() if line.strip()]
    return f" (htslib: {lines[0]})" if lines else ""


@contextmanager
def htslib_messages() -> Iterator[IO[str]]:
    """Capture what htslib writes to file descriptor 2, so the CLI can fold it into one error line.

    Python's own ``sys.stderr`` keeps pointing at the real standard error meanwhile.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    capture = tempfile.TemporaryFile(mode="w+")
    os.dup2(capture.fileno(), 2)
    python_stderr = sys.stderr
    sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1)
    try:
        yield _Rewinding(capture)
    finally:
        sys.stderr.close()
        sys.stderr = python_stderr
        os.dup2(saved, 2)
        os.close(saved)
        capture.close()


class _Rewinding:
    """Read access to a capture file from its start."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle

    def read(self) -> str:
        self._handle.flush()
        self._handle.seek(0)
        return self._handle.read()
