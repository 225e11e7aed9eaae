"""The pipeline's parameters and samplesheets validated as nf-schema validates them, `-profile test` and
`-profile test_full` included: a Python re-implementation of only what was read in nf-schema's source, version
2.5.1 (the version nextflow.config pins; tag 2.5.1, commit a547e5cdc33af13df054d8d8f54844e5de9323f3 of
github.com/nextflow-io/nf-schema), with these files (under src/main/groovy/nextflow/validation/):

- parameters/ParameterValidator.groovy: validateParametersMap: the help parameters added as false, cleanParameters
  drops every value that Groovy reads as false except 0 (null, false, '', empty lists), the schema file found by
  getBasePath, unexpected parameters only warned about.
- utils/Common.groovy getBasePath: a schema path is taken as given when it exists from the launch directory, else
  under the pipeline's directory (session.baseDir, CustomEvaluatorFactory.groovy).
- validators/evaluators/CustomEvaluatorFactory.groovy: the keywords nf-schema adds to JSON schema draft 2020-12:
  format file-path, directory-path, path, file-path-pattern; exists; schema; uniqueEntries; (lenient type and
  deprecated, not used here). Other keywords (mimetype, errorMessage, meta, help_text, fa_icon) are not evaluated.
- validators/evaluators/FormatFilePathEvaluator.groovy, FormatDirectoryPathEvaluator.groovy, ExistsEvaluator.groovy:
  each applies to strings only; the value is `Nextflow.file(value)`.
- validators/evaluators/SchemaEvaluator.groovy: a string that names an existing file (not a folder) is read with
  Files.fileToJson and validated against the named schema (getBasePath); a missing file passes this keyword.
- utils/Files.groovy: getFileType (the extension when it is csv, tsv, yml, yaml or json; otherwise the first line's
  commas against tabs: more commas is CSV, else TSV), fileToObject (an object schema refuses CSV/TSV, and so does a
  property typed "array" or "object"; CSV/TSV split with header when the schema has items.properties, values
  stripped, quote '"', a header ending in the delimiter sanitized; every cell through Types.inferType), fileToJson
  (null values dropped).
- utils/Types.groovy inferType: '' -> null, any other cell -> org.json's JSONObject.stringToValue, which is
  org.json 20240303 (nf-schema 2.5.1's build.gradle; github.com/stleary/JSON-java tag 20240303, commit
  f9b5587c87aaf02e4a5ed1991d48d6c05993624a, src/main/java/org/json/JSONObject.java): true/false/null in any case,
  a number when it starts with a digit or '-' (decimal notation with '.', 'e', 'E' or '-0' as BigDecimal, '-0'
  as -0.0; a leading zero before a digit, "01", stays a string; integers as Integer, Long or BigInteger).
- validators/evaluators/UniqueEntriesEvaluator.groovy: the first duplicate of the named fields fails.
- samplesheet/SamplesheetConverter.groovy (samplesheetToList): each row becomes [meta, then the other properties in
  the schema's order]; `meta` fields go into the map; a missing cell with no default becomes []; a string with
  format file-path becomes a file.

`Nextflow.file(value)` is nextflow-io/nextflow's Nextflow.groovy and FileHelper.asPath (commit
2aad02f65758dd5d0fb0b1c74786ad52f9d06f1a, v26.08.0-edge): a path without a scheme is `Paths.get(value)`, so a relative
path resolves against the directory Nextflow was launched from, not the samplesheet's. Not re-implemented (not used by
the pipeline's schemas): glob patterns, URLs, `~`, lenient mode, the JSON schema library's error texts
(dev.harrel json-schema; Python's jsonschema evaluates the standard keywords of draft 2020-12 here).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import sys
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "nextflow" / "checks"))
import tasks  # noqa: E402  (nextflow/checks/tasks.py: the run's params from nextflow.config)

HELP_PARAMETERS = ("help", "helpFull", "showHidden")  # HelpConfig.groovy's defaults


def string_to_value(text: str) -> object:
    """org.json JSONObject.stringToValue (20240303), as Types.inferType calls it on every CSV/TSV cell.

    >>> [string_to_value(s) for s in ("22", "X", "01", "TRUE", "-0", "chr1")]
    [22, 'X', '01', True, -0.0, 'chr1']
    """
    if text == "":
        return text
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text.lower() == "null":
        return None  # JSONObject.NULL, dropped with the nulls (fileToJson)
    if (text[0].isdigit() or text[0] == "-") and not any(c.isspace() or c == "_" for c in text):  # Java's parsers
        try:
            if any(c in text for c in ".eE") or text == "-0":
                value = Decimal(text)
                return -0.0 if text[0] == "-" and value == 0 else value
            if (text[0] == "0" and len(text) > 1 and text[1].isdigit()) or (
                text[0] == "-" and len(text) > 2 and text[1] == "0" and text[2].isdigit()
            ):
                return text
            return int(text)
        except (ValueError, ArithmeticError):
            return text
    return text


def infer_type(value: object) -> object:
    """Types.inferType: maps and lists element by element, '' -> None, other strings by string_to_value."""
    if isinstance(value, dict):
        return {key: infer_type(v) for key, v in value.items()}
    if isinstance(value, list):
        return [infer_type(v) for v in value]
    if isinstance(value, str):
        return None if value == "" else string_to_value(value)
    return value


def file_type(path: Path) -> str:
    """Files.getFileType: the extension, else the first line's commas against tabs."""
    extension = path.name.rsplit(".", 1)[-1] if "." in path.name else ""
    if extension in ("csv", "tsv", "yml", "yaml", "json"):
        return "yaml" if extension == "yml" else extension
    with path.open("rb") as handle:
        header = handle.readline().decode("utf-8", errors="replace")
    return "csv" if header.count(",") > header.count("\t") else "tsv"


def drop_nulls(value: object) -> object:
    """fileToJson's JsonGenerator with excludeNulls: map entries whose value is null are left out."""
    if isinstance(value, dict):
        return {key: drop_nulls(v) for key, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


class NotASamplesheet(Exception):
    """Files.fileToObject's SchemaValidationException (CSV/TSV against an object schema or array/object columns)."""


def file_to_object(path: Path, schema_path: Path) -> object:
    """Files.fileToObject."""
    kind = file_type(path)
    schema = json.loads(schema_path.read_text())
    properties = (schema.get("items") or {}).get("properties") or schema.get("properties") or {}
    if schema.get("type") == "object" and kind in ("csv", "tsv"):
        raise NotASamplesheet(f"CSV or TSV files are not supported: {path}")
    if any(p.get("type") in ("array", "object") for p in properties.values()) and kind in ("csv", "tsv"):
        raise NotASamplesheet(f'Using "type": "array" or "type": "object" with a .{kind} samplesheet')
    text = path.read_bytes().decode("utf-8", errors="replace")
    if kind == "yaml":
        return yaml.safe_load(text)
    if kind == "json":
        return json.loads(text)
    delimiter = "," if kind == "csv" else "\t"
    lines = text.splitlines()
    header = bool((schema.get("items") or {}).get("properties"))
    if header and lines and lines[0].endswith((",", "\t")):  # sanitize
        lines = [line.rstrip(",\t") for line in lines]
    rows = [
        [cell.strip() for cell in row]
        for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter, quotechar='"')
    ]
    if header:
        names, rows = (rows[0], rows[1:]) if rows else ([], [])
        content = [dict(zip(names, row)) for row in rows]
    else:
        content = [row[0] if len(row) == 1 else row for row in rows]
    return infer_type(content)


class Run:
    """One `nextflow run`: the directory it was launched from and the pipeline's directory (session.baseDir)."""

    def __init__(self, launch_dir: Path, base_dir: Path = REPO):
        self.launch_dir = launch_dir
        self.base_dir = base_dir

    def file(self, value: str) -> Path:
        """Nextflow.file(value) for a plain path: Paths.get, relative to the launch directory."""
        return (self.launch_dir / value) if not os.path.isabs(value) else Path(value)

    def base_path(self, schema: str) -> Path:
        """Common.getBasePath."""
        return self.file(schema) if self.file(schema).exists() else self.base_dir / schema

    def validator(self, schema: dict) -> jsonschema.Validator:
        """Draft 2020-12 with the keywords of CustomEvaluatorFactory.groovy."""
        run = self

        def format_(validator, fmt, instance, schema):
            if not isinstance(instance, str):
                return
            path = run.file(instance)
            if fmt == "file-path" and path.is_dir():
                yield jsonschema.ValidationError(f"'{instance}' is not a file, but a directory")
            if fmt == "directory-path" and path.exists() and not path.is_dir():
                yield jsonschema.ValidationError(f"'{instance}' is not a directory, but a file")

        def exists(validator, should_exist, instance, schema):
            if isinstance(instance, str) and isinstance(should_exist, bool):
                found = run.file(instance).exists()
                if should_exist and not found:
                    yield jsonschema.ValidationError(f"the file or directory '{instance}' does not exist")
                if not should_exist and found:
                    yield jsonschema.ValidationError(f"the file or directory '{instance}' should not exist")

        def schema_(validator, name, instance, schema):
            if not isinstance(instance, str) or not isinstance(name, str):
                return
            path = run.file(instance)
            if not path.exists() or path.is_dir():
                return
            schema_path = run.base_path(name)
            try:
                data = drop_nulls(file_to_object(path, schema_path))
            except NotASamplesheet as err:
                yield jsonschema.ValidationError(f"Validation of file failed: {err}")
                return
            if not isinstance(data, (list, dict)):
                yield jsonschema.ValidationError("Could not determine if the file is a list or map of values")
                return
            for error in run.validator(json.loads(schema_path.read_text())).iter_errors(data):
                yield jsonschema.ValidationError(f"Validation of file failed: {error.message}")

        def unique_entries(validator, fields, instance, schema):
            if not isinstance(instance, list):
                return
            seen = set()
            for count, entry in enumerate(instance, 1):
                if not isinstance(entry, dict):
                    return
                key = tuple(f"{k}:{entry[k]}" for k in fields if k in entry)
                if key and key in seen:
                    yield jsonschema.ValidationError(f"Entry {count}: Detected duplicate entries: {key}")
                seen.add(key)

        cls = jsonschema.validators.extend(
            jsonschema.Draft202012Validator,
            {"format": format_, "exists": exists, "schema": schema_, "uniqueEntries": unique_entries},
        )
        return cls(schema)

    def validate_parameters(self, params: dict) -> list[jsonschema.ValidationError]:
        """ParameterValidator.validateParametersMap with nextflow_schema.json: the errors that stop the run."""
        params = {**params, **{name: False for name in HELP_PARAMETERS}}
        cleaned = {
            k: v
            for k, v in params.items()
            if not (v is None or v is False or (isinstance(v, (str, list, dict)) and not v))
        }
        schema_path = self.base_path("nextflow_schema.json")
        return list(self.validator(json.loads(schema_path.read_text())).iter_errors(cleaned))

    def samplesheet_to_list(self, samplesheet: str, schema: str) -> list[list]:
        """SamplesheetConverter.validateAndConvertToList for a flat samplesheet: validated, then [meta, fields...]."""
        schema_path = self.base_path(schema)
        data = file_to_object(self.file(samplesheet), schema_path)
        errors = list(self.validator(json.loads(schema_path.read_text())).iter_errors(drop_nulls(data)))
        assert not errors, [e.message for e in errors]
        properties = json.loads(schema_path.read_text())["items"]["properties"]
        rows = []
        for entry in data:
            meta, row = {}, []
            for name, spec in properties.items():
                value = entry.get(name)
                value = [] if value is None else value
                if isinstance(value, str) and spec.get("format") == "file-path" and spec.get("type") == "string":
                    value = self.file(value)
                if spec.get("meta"):
                    meta.update({key: value for key in spec["meta"]})
                else:
                    row.append(value)
            rows.append([meta, *row] if meta else row)
        return rows


def _unexpected(params: dict) -> set[str]:
    schema = json.loads((REPO / "nextflow_schema.json").read_text())
    declared = {name for group in schema["$defs"].values() for name in group["properties"]}
    return set(params) - declared


@pytest.mark.parametrize("profile", ["test", "test_full"])
def test_the_test_profiles_pass_validate_parameters(tmp_path, profile):
    """`nextflow run genosynth -profile test` launched from an empty folder: every parameter is declared, and
    validateParameters() finds no error."""
    params = tasks.config_params(tmp_path, profiles=[profile])
    launch = tmp_path / "launch"
    launch.mkdir()
    assert not _unexpected(params)
    errors = Run(launch).validate_parameters(params)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    # and the checks across parameters (checkParameterCombinations) find one input: --vcf, no samplesheet
    assert params["vcf"] and params["input"] is None


def test_a_vcf_given_as_input_is_refused_by_the_samplesheet_schema(tmp_path):
    """The defect this layout fixes: `--input x.vcf.gz` is parsed as a samplesheet by the `schema` keyword (its
    gzip bytes split as CSV/TSV) and refused, so a VCF has its own parameter, --vcf."""
    vcf = tasks.TEST_DATA / "sim.vcf.gz"
    errors = Run(tmp_path).validate_parameters({"input": str(vcf), "outdir": "results"})
    assert any(e.validator == "schema" for e in errors), [e.message for e in errors]
    assert not Run(tmp_path).validate_parameters({"vcf": str(vcf), "outdir": "results"})


def _samplesheet(folder: Path, text: str, name: str = "samplesheet.csv") -> Path:
    for vcf in ("chr22.vcf.gz", "chrX.bcf"):
        (folder / vcf).write_bytes(gzip.compress(b"##fileformat=VCFv4.2\n"))
    (folder / "chr22.vcf.gz.tbi").write_bytes(b"TBI\x01")
    path = folder / name
    path.write_text(text)
    return path


def test_samplesheet_rows_as_validate_parameters_and_samplesheet_to_list_read_them(tmp_path):
    """Chromosome 22 arrives as the integer 22 (the schema takes both and main.nf makes it a name again); paths
    resolve against the launch directory; a missing index becomes []."""
    _samplesheet(tmp_path, "chrom,vcf,index\n22,chr22.vcf.gz,chr22.vcf.gz.tbi\nX , chrX.bcf,\n")
    run = Run(tmp_path)
    assert not run.validate_parameters({"input": "samplesheet.csv", "outdir": "results"})
    rows = run.samplesheet_to_list("samplesheet.csv", "assets/schema_input.json")
    assert rows == [
        [{"chrom": 22}, tmp_path / "chr22.vcf.gz", tmp_path / "chr22.vcf.gz.tbi"],
        [{"chrom": "X"}, tmp_path / "chrX.bcf", []],
    ]
    main = (REPO / "main.nf").read_text()
    assert ".collect { row -> [row[0].chrom.toString(), row[1], row[2], []] }" in main  # the shape read above
    # the same samplesheet launched from elsewhere: its relative paths name nothing there
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    errors = Run(elsewhere).validate_parameters({"input": str(tmp_path / "samplesheet.csv"), "outdir": "results"})
    assert any("does not exist" in e.message for e in errors)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("chrom,vcf\n22,chr22.vcf.gz\n22,chrX.bcf\n", "duplicate entries"),
        ("chrom,vcf\n22,missing.vcf.gz\n", "does not exist"),
        ("chrom,vcf\n22,chr22.vcf\n", "does not match"),
        ("chrom,vcf\n2 2,chr22.vcf.gz\n", "does not match"),
        ("chrom,index\n22,chr22.vcf.gz.tbi\n", "'vcf' is a required property"),
        ("chrom\tvcf\n22\tchr22.vcf.gz\n", "'vcf' is a required property"),  # a .csv split at commas: one column
    ],
)
def test_bad_samplesheets_stop_validate_parameters(tmp_path, text, problem):
    _samplesheet(tmp_path, text)
    errors = Run(tmp_path).validate_parameters({"input": "samplesheet.csv", "outdir": "results"})
    assert any(problem in e.message for e in errors), [e.message for e in errors]


def test_tsv_yaml_and_sniffed_samplesheets(tmp_path):
    """A .tsv is split at tabs, YAML keeps its own types, and a file with another extension is sniffed."""
    run = Run(tmp_path)
    _samplesheet(tmp_path, "chrom\tvcf\n22\tchr22.vcf.gz\n", "sheet.tsv")
    _samplesheet(tmp_path, "- chrom: X\n  vcf: chrX.bcf\n", "sheet.yaml")
    _samplesheet(tmp_path, "chrom\tvcf\n22\tchr22.vcf.gz\n", "sheet.txt")
    for name in ("sheet.tsv", "sheet.yaml"):
        assert not run.validate_parameters({"input": name, "outdir": "results"}), name
    assert file_to_object(tmp_path / "sheet.txt", REPO / "assets" / "schema_input.json") == [
        {"chrom": 22, "vcf": "chr22.vcf.gz"}
    ]
    errors = run.validate_parameters({"input": "sheet.txt", "outdir": "results"})
    assert [e.validator for e in errors] == ["pattern"]  # only its extension is refused


def test_cleaned_parameters_and_unexpected_ones(tmp_path):
    """cleanParameters drops null, false and '' (so a typed null default never fails), keeps 0; a parameter the
    schema does not declare is only warned about, so the test here requires none."""
    run = Run(tmp_path)
    base = {"vcf": str(tasks.TEST_DATA / "sim.vcf.gz"), "outdir": "results"}
    assert not run.validate_parameters({**base, "container_registry": "", "use_gpu": False, "regions": None})
    assert any(e.validator == "minimum" for e in run.validate_parameters({**base, "window_sites": 0}))
    assert _unexpected({"vcf": 1, "input_file": 1}) == {"input_file"}
