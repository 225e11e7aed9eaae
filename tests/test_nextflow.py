"""The Nextflow pipeline without Nextflow: lint with Nextflow's own language server (type checking on); the
structure main.nf relies on; the parameter and samplesheet schemas; nextflow.config's ext.args as a run resolves
them, parsed by each step's own parser; the pipeline's Groovy functions (regions BED, parameter combinations, gate
lines, versions) run by Groovy; and every module's task rendered by Groovy as Nextflow renders it, staged, started
as `/bin/bash -ue .command.sh` and checked, with hostile file names and ids."""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from genosynth import __version__
from genosynth.cli import STEPS, step_parser

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "nextflow" / "checks"))
import tasks  # noqa: E402  (nextflow/checks/tasks.py: render, stage and run module tasks)

MODULES = REPO / "nextflow" / "modules"
JAR = tasks.JAR
PIPELINE_STEPS = [s for s in STEPS if s != "export"]
GPU_PROCESSES = {"GENOSYNTH_TRAIN_GAN", "GENOSYNTH_TRAIN_RBM", "GENOSYNTH_TRAIN_DIFFUSION", "GENOSYNTH_SAMPLE"}
NF_FILES = [
    "main.nf",
    "nextflow/functions.nf",
    *sorted(str(p.relative_to(REPO)) for p in MODULES.glob("*/main.nf")),
    "nextflow.config",
    *sorted(str(p.relative_to(REPO)) for p in (REPO / "conf").glob("*.config")),
]


def _require_groovy():
    if shutil.which("java") is None or not JAR.is_file():
        pytest.fail(f"needs java and {JAR}: run 'make test', which fetches the pinned language server")


def _lint(root: Path, files: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            "java",
            "-cp",
            str(JAR),
            "groovy.ui.GroovyMain",
            str(REPO / "nextflow/checks/check.groovy"),
            str(root),
            *files,
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )


def test_lint_with_the_nextflow_language_server():
    _require_groovy()
    result = _lint(REPO, NF_FILES)
    assert result.returncode == 0 and f"checked {len(NF_FILES)} files: 0 errors" in result.stdout, (
        result.stdout + result.stderr
    )
    assert "Exception" not in result.stderr  # no plugin-spec fetch reaches out and fails


def test_lint_catches_an_undefined_process_and_a_wrong_type(tmp_path):
    _require_groovy()
    (tmp_path / "undefined.nf").write_text("workflow {\n    GENOSYNTH_MISSING(channel.of(1))\n}\n")
    (tmp_path / "mistyped.nf").write_text(
        "workflow {\n    def lines = file('x').readLines()\n    lines.notAMethod()\n}\n"
    )
    result = _lint(tmp_path, ["undefined.nf"])
    assert result.returncode == 1 and "`GENOSYNTH_MISSING` is not defined" in result.stdout
    result = _lint(tmp_path, ["mistyped.nf"])
    assert result.returncode == 1 and "Unrecognized method `notAMethod` for type List<String>" in result.stdout


def _module(name: str) -> dict:
    text = (MODULES / name / "main.nf").read_text()
    return {
        "text": text,
        "name": re.findall(r"^process (\w+)", text, re.M),
        "labels": re.findall(r"^\s+label '(\w+)'", text, re.M),
        "container": re.findall(r'^\s+container "([^"]+)"', text, re.M),
        "emits": {
            re.search(r"emit: (\w+)", line).group(1): re.sub(r",\s*emit: \w+", "", line.strip())
            for line in text.splitlines()
            if "emit:" in line
        },
        "inputs": re.search(r"\n    input:\n(.*?)\n\n", text, re.S).group(1).strip().splitlines(),
        "script": re.search(r"\n    script:\n(.*?)\n    stub:", text, re.S),
    }


def test_one_module_per_step_with_image_labels_topic_versions_quoting_and_stub():
    for step in PIPELINE_STEPS:
        module = _module(step.replace("-", "_"))
        process = f"GENOSYNTH_{step.replace('-', '_').upper()}"
        assert module["name"] == [process]
        flavour = "${params.use_gpu ? '' : '-cpu'}" if process in GPU_PROCESSES else "-cpu"
        # the images containers/ builds, tagged with the manifest's version (test_manifest_version_is_the_package_s)
        assert module["container"] == [f"genosynth/{step}:${{workflow.manifest.version}}{flavour}"]
        assert ("process_gpu" in module["labels"]) == (process in GPU_PROCESSES)
        assert module["emits"]["versions_genosynth"].endswith("topic: versions")
        script = module["script"].group(1)
        assert "task.ext.args" in script and "task.ext.prefix" in script
        assert "include { shellQuote } from '../../functions'" in module["text"]
        # every interpolation into the command is quoted, except numbers and the ext.args string itself
        command = script.split('"""')[1]
        bare = [v for v in re.findall(r"\$\{([^}]+)\}", command) if not v.startswith("shellQuote(")]
        assert set(bare) <= {
            "args",
            "seed",
            "task.cpus",
            "haplotypes",
            "region_args",
            "population_args",
            "holdout_args",
            "synthetic_args",
            "outgroup_args",
            "memory_args",
            "window_args",
            "legend_args",
            "windows_args",
            "models_args",
            "versus_args",
            "method_args",
            "cnn_args",
            "scenario_args",
        }, (step, bare)
        assert (REPO / "containers" / step / "Dockerfile").is_file()


def _elements(declaration: str) -> list[str]:
    """The element names of an input or output declaration, as nf-core's meta.yml names them: `val(meta)` meta,
    `path(vcf, stageAs: ...)` vcf, `path("${prefix}.h5")` ${prefix}.h5, `eval('cmd')` cmd; `val seed` seed."""
    single = re.match(r"(?:val|path) (\w+|\"[^\"]*\")", declaration)
    if single and not declaration.startswith("tuple"):
        return [single.group(1).strip('"')]
    names = []
    for inner in re.findall(r"\b(?:val|path|eval)\(((?:[^()'\"]|'[^']*'|\"[^\"]*\")*)\)", declaration):
        first = re.split(r",\s*(?=\w+:)", inner)[0].strip()
        names.append(first[1:-1] if first[0] in "'\"" else first)
    return names


def test_meta_yml_validates_against_the_nf_core_meta_schema_and_matches_the_module():
    """Each module's meta.yml: valid by nf-core/modules' meta-schema (vendored: nextflow/checks/nf-core/), every
    input and output element described with its type (files with a pattern and EDAM formats), the outputs sent to
    the versions topic listed under topics, in the order main.nf declares them."""
    import jsonschema

    schema = json.loads((REPO / "nextflow" / "checks" / "nf-core" / "meta-schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted(MODULES.glob("*/main.nf")):
        module = _module(path.parent.name)
        meta = yaml.safe_load((path.parent / "meta.yml").read_text())
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(meta)]
        assert not errors, (path.parent.name, errors)
        assert meta["name"] == module["name"][0].lower()
        inputs = [
            [name for element in (entry if isinstance(entry, list) else [entry]) for name in element]
            for entry in meta["input"]
        ]
        assert inputs == [_elements(line.strip()) for line in module["inputs"]], path.parent.name
        outputs = {
            emit: [name for element in (entries[0] if isinstance(entries[0], list) else entries) for name in element]
            for emit, entries in meta["output"].items()
        }
        assert outputs == {emit: _elements(line) for emit, line in module["emits"].items()}, path.parent.name
        topic = [line for line in module["emits"].values() if line.endswith("topic: versions")]
        assert [
            [name for element in entry for name in element] for entry in meta.get("topics", {}).get("versions", [])
        ] == [_elements(line) for line in topic], path.parent.name
        for entry in [*meta["input"], *(e for entries in meta["output"].values() for e in entries)]:
            for element in entry if isinstance(entry, list) else [entry]:
                ((name, spec),) = element.items()
                if spec["type"] in ("file", "directory"):
                    assert spec.get("pattern") and spec.get("ontologies"), (path.parent.name, name)
                    assert all(o["edam"].startswith("http://edamontology.org/format_") for o in spec["ontologies"])


def test_main_uses_every_module_and_only_existing_emits():
    main = (REPO / "main.nf").read_text()
    emits = {}
    for path in MODULES.glob("*/main.nf"):
        module = _module(path.parent.name)
        emits[module["name"][0]] = module["emits"]
        assert f"include {{ {module['name'][0]}" in re.sub(r"\s+", " ", main)
    for process, emit in re.findall(r"(\w+)\.out\.(\w+)", main):
        assert emit in emits[process], f"main.nf uses {process}.out.{emit}, which the module does not emit"
    assert set(re.findall(r"^\s+(GENOSYNTH_\w+|PRIVACY_GATE|MULTIQC)\(", main, re.M)) == set(emits)
    assert "validateParameters()" in main and "channel.topic('versions')" in main


def _schema() -> dict:
    return json.loads((REPO / "nextflow_schema.json").read_text())


def _config_params_block() -> set[str]:
    block = re.search(r"^params \{\n(.*?)\n\}", (REPO / "nextflow.config").read_text(), re.S | re.M).group(1)
    return set(re.findall(r"^\s+(\w+)\s*=", block, re.M))


def test_parameters_are_declared_once_and_the_manifest_is_complete():
    """Every parameter in nextflow.config's params block and in the schema, none in main.nf or the modules; the
    manifest names what nf-core's lint reads, and its version is read from the package's (tools/genosynth/VERSION)."""
    schema = _schema()
    in_schema = {name for group in schema["$defs"].values() for name in group["properties"]}
    assert in_schema == _config_params_block()
    for path in [REPO / "main.nf", *MODULES.glob("*/main.nf")]:
        assert not re.search(r"^\s*params\.\w+\s*=", path.read_text(), re.M), path
    config = (REPO / "nextflow.config").read_text()
    manifest = dict(
        re.findall(
            r"^    (\w+)\s+= '([^']*)'", re.search(r"^manifest \{\n(.*?)\n\}", config, re.S | re.M).group(1), re.M
        )
    )
    assert 'version         = new File("${projectDir}/tools/genosynth/VERSION").text.trim() as String' in config
    assert {"name", "description", "homePage", "mainScript", "nextflowVersion", "license", "defaultBranch"} <= set(
        manifest
    )
    for included in ("conf/base.config", "conf/modules.config", "conf/test.config", "conf/test_full.config"):
        assert f"includeConfig '{included}'" in config and (REPO / included).is_file()
    assert not re.search(r"executor\s*=", config + "".join(p.read_text() for p in (REPO / "conf").glob("*.config")))


def test_schema_is_valid_and_refuses_hostile_values():
    import jsonschema

    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    defaults = {
        name: prop["default"]
        for g in schema["$defs"].values()
        for name, prop in g["properties"].items()
        if "default" in prop
    }
    good = {**defaults, "vcf": "x.vcf.gz", "selection_target": "CEU", "selection_versus": "YRI"}
    assert not list(validator.iter_errors(good))
    assert not list(
        validator.iter_errors(
            {**good, "vcf": None, "input": "chromosomes.csv", "container_registry": "registry.example.org:5000/lab"}
        )
    )
    for hostile in (
        {"models": "vae"},
        {"selection_target": "CEU; touch INJECTED"},
        {"selection_versus": "$(id)"},
        {"input": "x.vcf.gz"},
        {"vcf": "x.txt"},
        {"vcf": "my file.vcf.gz"},
        {"container_registry": "r.org/lab; rm"},
        {"seed": "one"},
        {"selection_methods": "cnn,$(id)"},
        {"selection_methods": "lasso"},
        {"max_privacy_loss": 1.5},
        {"max_exact_copies": -1},
        {"max_mia_auc": 2},
        {"max_privacy_loss": None},
        {"publish_dir_mode": "hardlink"},
        {"multiqc_title": "a\nb"},
    ):
        assert list(validator.iter_errors({**good, **hostile})), hostile


def _parse_ext_args(process: str, args: str) -> argparse.Namespace:
    """``args`` parsed by the parser of the step ``process`` runs, its required arguments given placeholders."""
    parser = step_parser(process.removeprefix("GENOSYNTH_").lower().replace("_", "-"))
    required = [
        token
        for action in parser._actions
        if action.required
        for token in ([action.option_strings[-1], "1"] if action.option_strings else ["1"])
    ]
    try:
        return parser.parse_args(required + shlex.split(args))
    except SystemExit:
        pytest.fail(f"nextflow.config: {process} ext.args {args!r} are not options of its step")


def test_config_ext_args_are_their_steps_options_and_carry_one_privacy_limit(tmp_path):
    """nextflow.config read by Nextflow's config parser, each ext.args evaluated by Groovy for a run (profiles and
    command-line params), then parsed by the step's own parser: the run's --max_privacy_loss is training's early
    stopping limit and privacy-check's gate, the other limits gate only when given."""
    _require_groovy()
    training = ("GENOSYNTH_TRAIN_GAN", "GENOSYNTH_TRAIN_RBM", "GENOSYNTH_TRAIN_DIFFUSION")
    default = _schema()["$defs"]["privacy_options"]["properties"]["max_privacy_loss"]["default"]
    for profiles in ((), ("test",), ("docker", "gpu")):
        for params in (
            {},
            {"selection_target": "CEU", "max_privacy_loss": 0.1, "max_exact_copies": 0, "max_mia_auc": 0.6},
        ):
            ext_args = tasks.config_ext_args(tmp_path, profiles=profiles, params=params)
            parsed = {process: _parse_ext_args(process, args) for process, args in ext_args.items()}
            gate = parsed["GENOSYNTH_PRIVACY_CHECK"]
            limit = params.get("max_privacy_loss", default)
            assert (gate.max_privacy_loss, gate.max_exact_copies, gate.max_mia_auc) == (
                limit,
                params.get("max_exact_copies"),
                params.get("max_mia_auc"),
            ), (profiles, params)
            if "test" not in profiles:  # the test profile trains 2 epochs with no early stopping
                assert all(
                    parsed[p].max_privacy_loss == limit and parsed[p].early_stop == "fidelity" for p in training
                ), (profiles, params)
                assert all(
                    (parsed[p].condition_on == "population") == ("selection_target" in params)
                    for p in training
                    if p != "GENOSYNTH_TRAIN_RBM"
                )
    assert _parse_ext_args("GENOSYNTH_TRAIN_RBM", "").max_privacy_loss == default  # the steps' own default


def test_samplesheet_schema_accepts_chromosome_files_and_names_bad_rows():
    import jsonschema

    schema = json.loads((REPO / "assets" / "schema_input.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)  # as nf-schema reads samplesheets: tests/test_nf_schema.py
    assert _schema()["$defs"]["input_output_options"]["properties"]["input"]["schema"] == "assets/schema_input.json"
    validator = jsonschema.Draft202012Validator(schema)
    rows = [
        {"chrom": "22", "vcf": "ALL.chr22.phase3.vcf.gz", "index": "ALL.chr22.phase3.vcf.gz.tbi"},
        {"chrom": "X", "vcf": "chrX.bcf"},
    ]
    assert not list(validator.iter_errors(rows))
    assert not list(validator.iter_errors([{"chrom": 22, "vcf": "chr22.vcf.gz"}]))  # nf-schema reads 22 as a number
    for bad in (
        {"chrom": "22 1", "vcf": "a.vcf.gz"},
        {"chrom": "22"},
        {"chrom": "2", "vcf": "a.vcf"},
        {"chrom": -1, "vcf": "a.vcf.gz"},
        {"chrom": 2.5, "vcf": "a.vcf.gz"},
        {"chrom": "2", "vcf": "my file.vcf.gz"},
        {"chrom": "2", "vcf": "a.vcf.gz", "index": "a.idx"},
    ):
        errors = list(validator.iter_errors([bad]))
        assert errors, bad
    assert schema["uniqueEntries"] == ["chrom"] and schema["items"]["properties"]["chrom"]["meta"] == ["chrom"]


def _call(expression: str) -> object:
    """Run ``expression`` with nextflow/functions.nf defined (Groovy, Nextflow's file() and error() stood in)."""
    result = subprocess.run(
        [
            "java",
            "-cp",
            str(JAR),
            "groovy.ui.GroovyMain",
            str(REPO / "nextflow/checks/call.groovy"),
            str(REPO / "nextflow/functions.nf"),
            expression,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.strip()
    return out if out.startswith("error: ") else json.loads(out)


def test_regions_bed_lines_are_checked_with_their_line_numbers(tmp_path):
    _require_groovy()
    bed = tmp_path / "regions.bed"
    bed.write_text("track name=blocks\n# LD blocks\n22\t15000000\t15030000\tblock1\n\n22\t15030000\t15060000\n")
    assert _call(f'readRegions("{bed}")') == [
        {"id": "22_15000001_15030000", "region": "22:15000001-15030000", "chrom": "22", "start": 15000001},
        {"id": "22_15030001_15060000", "region": "22:15030001-15060000", "chrom": "22", "start": 15030001},
    ]
    cases = {
        "22 15000000 15030000\n": "line 1: expected at least 3 tab-separated fields",
        "#c\n22\t15000000\n": "line 2: expected at least 3",
        "2$(touch INJECTED)\t1\t5\n": "line 1: chromosome name '2$(touch INJECTED)' may hold only",
        "22\t-5\t10\n": "line 1: start and end must be non-negative integers",
        "22\t9\t9\n": "line 1: start 9 must be less than end 9",
        "# nothing\n": "lists no region",
    }
    for text, message in cases.items():
        bed.write_text(text)
        answer = _call(f'readRegions("{bed}")')
        assert isinstance(answer, str) and answer.startswith(f"error: genosynth: --regions {bed}") and message in answer
    assert not list(tmp_path.rglob("INJECTED"))


def test_parameter_combinations_stop_the_run_with_one_line():
    _require_groovy()
    base = (
        "[models: 'gan', selection_target: 'CEU', selection_versus: 'YRI', populations: 'p.tsv', "
        "impute_panel: null, impute_target: null, input: null, vcf: 'x.vcf.gz', legend: null]"
    )
    assert _call(f"checkParameterCombinations({base})") == ["gan"]
    assert _call(f"checkParameterCombinations({base} + [models: 'gan,diffusion'])") == ["gan", "diffusion"]
    assert _call(f"checkParameterCombinations({base} + [selection_versus: null, selection_methods: 'cnn'])") == ["gan"]
    assert _call(f"checkParameterCombinations({base} + [vcf: 'x.hapt.gz', legend: 'x.legend'])") == ["gan"]
    assert _call(f"checkParameterCombinations({base} + [vcf: null, input: 's.csv'])") == ["gan"]
    for change, message in (
        ("models: 'gan,rbm'", "use --models gan"),
        ("populations: null", "give --populations"),
        ("selection_versus: null", "needs --selection_versus"),
        ("selection_methods: 'pbs'", "needs --selection_outgroup"),
        ("impute_panel: 'panel.vcf.gz'", "--impute_panel and --impute_target go together"),
        ("input: 's.csv'", "give --input (a samplesheet"),
        ("vcf: null", "give --input (a samplesheet"),
        ("vcf: 'x.hapt.gz'", "give its --legend"),
        ("legend: 'x.legend'", "--legend goes with a .hapt"),
    ):
        answer = _call(f"checkParameterCombinations({base} + [{change}])")
        assert isinstance(answer, str) and message in answer, (change, answer)


def test_gate_lines_and_versions_yaml(tmp_path):
    _require_groovy()
    passed, failed = tmp_path / "passed.txt", tmp_path / "failed.txt"
    passed.write_text("passed\n")
    failed.write_text("failed: privacy loss 0.123 > 0.05\n")
    assert _call(f"gateFailure([id: '22', model: 'gan'], new File('{passed}'))") is None
    assert (
        _call(f"gateFailure([id: '22', model: 'rbm'], new File('{failed}'))")
        == "22, model rbm: failed: privacy loss 0.123 > 0.05"
    )
    yaml_text = _call(
        "versionsYaml([['PIPE:GENOSYNTH_SAMPLE', 'torch', '2.13.0'], "
        "['PIPE:GENOSYNTH_SAMPLE', 'genosynth', '0.2.0'], ['GENOSYNTH_IMPUTE_AUGMENT', 'beagle', '5.4']])"
    )
    assert yaml.safe_load(yaml_text) == {
        "GENOSYNTH_IMPUTE_AUGMENT": {"beagle": "5.4"},
        "GENOSYNTH_SAMPLE": {"genosynth": "0.2.0", "torch": "2.13.0"},
    }


def test_module_tasks_run_as_nextflow_renders_them_even_with_hostile_names(tmp_path):
    """Every module's script block rendered by Groovy, inputs staged under the names Nextflow gives them, the
    script started as `/bin/bash -ue .command.sh`, the versions `eval`s run: input files and the ids hold spaces,
    quotes and command substitutions, and no injected command runs. The chromosome is cut into windows, each
    window trained, and one sampling task chains them into one VCF that evaluate judges across the boundaries."""
    _require_groovy()
    results = tasks.run_chain(tmp_path, tasks.local_runner, hostile=True)
    assert not list(tmp_path.rglob("INJECTED"))
    assert "$(touch INJECTED)" in results["vcf_to_matrix"].script  # the hostile names did reach the scripts, quoted
    metrics = json.loads(results["evaluate"].outputs["json"][0].read_text())
    assert list(metrics["sets"]) == ["holdout", "gan", "rbm", "diffusion"]  # names as the module's Groovy builds them
    assert "--monitor-steps 5" in results["train_diffusion_window2"].script
    windows = results["vcf_to_matrix"].outputs["windows"][0].read_text().splitlines()
    assert len(windows) >= 2 and "--context-sites 10" in results["train_gan_window2"].script
    assert len(metrics["ld"]["window_boundaries"]) == len(windows) - 1  # read from the chained set's provenance
    assert metrics["sets"]["rbm"]["boundary_ld_r"] is not None or metrics["ld"]["pairs_by_class"]["boundary"] > 0
    assert results["privacy_check"].outputs["gate"][0].read_text().startswith("failed: privacy loss")
    assert json.loads(results["privacy_check"].outputs["json"][0].read_text())["gate"]["passed"] is False
    assert results["train_gan_window1"].evals == {
        "versions_genosynth": __version__,
        "versions_torch": results["train_gan_window1"].evals["versions_torch"],
        "versions_cuda": "none",
    }
    assert results["impute_augment"].evals["versions_beagle"].startswith("5.")
    for key in (
        "train_gan_window1",
        "train_rbm_window2",
        "train_diffusion_window1",
        "sample_rbm",
        "evaluate",
        "privacy_check",
    ):  # torch's threads are the task's cpus (the tasks here run with 1)
        assert re.search(r"--threads 1(\s|$)", results[key].script), key
    summary = json.loads(results["selection_scan"].outputs["json"][0].read_text())
    assert summary["populations"]["target"]["name"] == "CEU"
    assert summary["cnn"]["training"]["simulations"] == 20 and "--threads 2" in results["selection_scan"].script
    assert results["selection_scan"].outputs["cnn_model"][0].stat().st_size > 0


def test_vcf_to_matrix_task_reads_one_region(tmp_path):
    _require_groovy()
    vcf = tmp_path / "in" / "sim.vcf.gz"
    vcf.parent.mkdir()
    shutil.copyfile(tasks.TEST_DATA / "sim.vcf.gz", vcf)
    subprocess.run(["tabix", "-p", "vcf", str(vcf)], check=True)
    meta = {"id": "22_15000001_15030000", "region": "22:15000001-15030000", "chrom": "22", "start": 15000001}
    result = tasks.run_task(
        tasks.Task(
            "vcf_to_matrix",
            files={"vcf": vcf, "index": [Path(f"{vcf}.tbi")], "legend": [], "populations": [], "window_starts": []},
            values={"meta": meta, "holdout": None, "seed": 1, "window_sites": None},
        ),
        tmp_path / "task",
        tasks.local_runner,
    )
    assert "--region '22:15000001-15030000'" in result.script and "--holdout" not in result.script
    from genosynth.io.hdf5 import read_matrix

    matrix = read_matrix(result.outputs["matrix"][0])
    assert matrix.n_sites > 0 and matrix.sites.pos.min() >= 15000001 and matrix.sites.pos.max() <= 15030000
    assert result.outputs["holdout"] == [] and result.outputs["windows"] == [] and "--window" not in result.script


def test_every_module_stub_creates_every_declared_output(tmp_path):
    """`nextflow run -stub-run`: each module's stub: block, rendered and run as a task, creates every output it
    declares (the optional ones too, where the script would: vcf_to_matrix's windows.bed with window_sites), with
    contents the workflow's Groovy reads (a window in the BED, a gate in privacy.json)."""
    _require_groovy()
    placeholder = tmp_path / "in"
    placeholder.mkdir()

    def file(name: str) -> Path:
        (placeholder / name).touch()
        return placeholder / name

    meta = {"id": "22", "region": "22", "model": "gan", "window": None}
    cases = {
        "vcf_to_matrix": (
            {"vcf": file("a.vcf.gz"), "index": [], "legend": [], "populations": [], "window_starts": []},
            {"holdout": 0.2, "seed": 1, "window_sites": 60},
        ),
        "train_gan": ({"matrix": file("m.h5"), "holdout": file("h.h5")}, {"seed": 1, "context_sites": 10}),
        "train_rbm": ({"matrix": file("m.h5"), "holdout": file("h.h5")}, {"seed": 1, "context_sites": 10}),
        "train_diffusion": ({"matrix": file("m.h5"), "holdout": file("h.h5")}, {"seed": 1, "context_sites": 10}),
        "sample": ({"models": [file("a.safetensors")]}, {"haplotypes": 4, "seed": 1}),
        "evaluate": (
            {"real": file("m.h5"), "holdout": file("h.h5"), "synthetic": [file("s.vcf.gz")]},
            {"names": ["gan"], "seed": 1},
        ),
        "privacy_check": ({"train": file("m.h5"), "holdout": file("h.h5"), "synthetic": file("s.vcf.gz")}, {"seed": 1}),
        "selection_scan": (
            {"matrix": file("m.h5"), "synthetic": file("s.vcf.gz")},
            {"target": "CEU", "versus": "YRI", "outgroup": "", "methods": "xpehh,cnn"},
        ),
        "impute_augment": (
            {"panel": file("p.vcf.gz"), "synthetic": file("s.vcf.gz"), "target": file("t.vcf.gz")},
            {"seed": 1},
        ),
        "infer_demography": (
            {"matrix": file("m.h5"), "synthetic": file("s.vcf.gz")},
            {"scenarios": "HomSap/OutOfAfrica_3G09 HomSap/OutOfAfrica_2T12:AFR=YRI,EUR=CEU"},
        ),
        "multiqc": ({"multiqc_files": [file("x_mqc.tsv")], "multiqc_config": file("c.yml")}, {"title": ""}),
    }
    assert set(cases) == {p.parent.name for p in MODULES.glob("*/main.nf")} - {"privacy_gate"}  # exec: no stub

    def stub_runner(module: str, taskdir: Path, argv: list[str]) -> subprocess.CompletedProcess:
        if argv[:2] == ["/bin/bash", "-c"]:  # the versions evals: run for real by the chain test above
            return subprocess.CompletedProcess(argv, 0, "stub\n", "")
        return tasks.local_runner(module, taskdir, argv)

    for module, (files, values) in cases.items():
        result = tasks.run_task(
            tasks.Task(module, files=files, values={"meta": meta, **values}, stub=True), tmp_path / module, stub_runner
        )
        declared = {emit for emit, line in _module(module)["emits"].items() if "path(" in line or "path " in line}
        assert {emit for emit, paths in result.outputs.items() if paths} == declared, module
    assert _call(f'readRegions("{tmp_path}/vcf_to_matrix/22.windows.bed")')[0]["chrom"] == "22"
    privacy = json.loads((tmp_path / "privacy_check" / "22.gan.privacy" / "privacy.json").read_text())
    assert privacy["gate"]["passed"] is True
