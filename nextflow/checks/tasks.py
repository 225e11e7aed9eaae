"""Run the pipeline's module tasks the way Nextflow renders and starts them, without Nextflow: each module's
``script:`` block is rendered by Groovy (render.groovy) with the task's meta, inputs and ext settings, inputs are
staged into a task folder as symlinks under the names Nextflow gives them (``stageAs`` included), the script is
written to ``.command.sh`` and started as ``/bin/bash -ue .command.sh`` by a runner (here, or inside a container
image), then the ``eval`` outputs run in the same place, and every declared output is checked.

Used by tests/test_nextflow.py (runner: this machine) and containers/build.sh (runner: each step's image):

    python3 nextflow/checks/tasks.py WORKDIR [--runner-prefix 'buildah run ... CONTAINER --'] [--hostile]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

REPO = Path(__file__).resolve().parents[2]
MODULES = REPO / "nextflow" / "modules"
RENDER = REPO / "nextflow" / "checks" / "render.groovy"
EXT_ARGS = REPO / "nextflow" / "checks" / "ext_args.groovy"
JAR = Path(os.environ.get("GENOSYNTH_NF_LANGUAGE_SERVER", REPO / ".nextflow-tools" / "language-server-all.jar"))
TEST_DATA = REPO / "galaxy_wrappers" / "test-data"
COMMAND = ["/bin/bash", "-ue", ".command.sh"]  # what Nextflow's docker, podman and k8s executors start
HOSTILE = "x y;$(touch INJECTED)`touch INJECTED`'q\"&"  # a name no task may act on

Runner = Callable[[str, Path, Sequence[str]], subprocess.CompletedProcess]


@dataclass
class Task:
    """One module invocation: its files (input name -> path or list of paths), values, and task settings."""

    module: str
    files: dict[str, Path | list[Path]] = field(default_factory=dict)
    values: dict[str, object] = field(default_factory=dict)
    ext: dict[str, str] = field(default_factory=dict)
    cpus: int = 1
    memory_mb: int = 2048
    stub: bool = False  # run the module's stub: block instead of its script: (Nextflow's -stub-run)


@dataclass
class Result:
    taskdir: Path
    script: str
    outputs: dict[str, list[Path]]
    evals: dict[str, str]


def render(task: Task, staged: dict[str, object], taskdir: Path, params: dict) -> dict:
    """The module's rendered script, output patterns, stageAs names and eval commands (render.groovy's JSON)."""
    bindings = {"task": {"ext": task.ext, "process": f"GENOSYNTH_{task.module.upper()}", "cpus": task.cpus,
                         "memory": {"memory_mb": task.memory_mb}, "attempt": 1},
                "params": params, "inputs": {**task.values, **staged}, "stub": task.stub}
    path = taskdir / ".bindings.json"
    path.write_text(json.dumps(bindings))
    result = subprocess.run(["java", "-cp", str(JAR), "groovy.ui.GroovyMain", str(RENDER),
                             str(MODULES / task.module / "main.nf"), str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{task.module}: rendering failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def config_ext_args(workdir: Path, *, profiles: Sequence[str] = (), params: dict | None = None) -> dict[str, str]:
    """The ext.args nextflow.config gives each process (name -> args) in a run with ``profiles`` and the command
    line's ``params`` (ext_args.groovy: Nextflow's config parser, each value evaluated by Groovy)."""
    path = workdir / "run_params.json"
    path.write_text(json.dumps(params or {}))
    result = subprocess.run(["java", "-cp", str(JAR), "groovy.ui.GroovyMain", str(EXT_ARGS), str(REPO / "nextflow.config"),
                             ",".join(profiles), str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"nextflow.config: evaluating ext.args failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def config_params(workdir: Path, *, profiles: Sequence[str] = (), params: dict | None = None) -> dict:
    """The params of a run with ``profiles`` and the command line's ``params``, as nextflow.config (its included
    files and profiles) gives them to the workflow (ext_args.groovy --params)."""
    path = workdir / "run_params.json"
    path.write_text(json.dumps(params or {}))
    result = subprocess.run(["java", "-cp", str(JAR), "groovy.ui.GroovyMain", str(EXT_ARGS), str(REPO / "nextflow.config"),
                             ",".join(profiles), str(path), "--params"], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"nextflow.config: evaluating params failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def stage_as(task: Task) -> dict[str, str]:
    """The stageAs patterns the module declares (rendered without staging, its inputs named as they are)."""
    text = (MODULES / task.module / "main.nf").read_text()
    return dict(re.findall(r"path\((\w+),\s*stageAs:\s*'([^']+)'\)", text)) | \
        dict(re.findall(r"^\s+path (\w+), stageAs: '([^']+)'", text, re.M))


def run_task(task: Task, taskdir: Path, runner: Runner, *, params: dict | None = None) -> Result:
    """Stage, render, start and check one task; an AssertionError names what went wrong."""
    taskdir.mkdir(parents=True, exist_ok=True)
    patterns = stage_as(task)
    staged: dict[str, object] = {}
    for name, sources in task.files.items():
        paths = sources if isinstance(sources, list) else [sources]
        names = []
        for source in paths:
            pattern = patterns.get(name, "*")
            relative = pattern.replace("*", source.name) if "*" in pattern else pattern
            (taskdir / relative).parent.mkdir(parents=True, exist_ok=True)
            (taskdir / relative).symlink_to(source.resolve())
            names.append(relative)
        staged[name] = {"files": names} if isinstance(sources, list) else {"file": names[0]}
    rendered = render(task, staged, taskdir, params or {"use_gpu": False})
    (taskdir / ".command.sh").write_text("#!/bin/bash -ue\n" + rendered["script"])
    result = runner(task.module, taskdir, COMMAND)
    assert result.returncode == 0, (f"{task.module}: .command.sh exited {result.returncode}\n{rendered['script']}\n"
                                    f"{result.stderr[-3000:]}")
    evals = {}
    for emit, command in rendered["evals"].items():
        answer = runner(task.module, taskdir, ["/bin/bash", "-c", command])
        assert answer.returncode == 0 and answer.stdout.strip(), f"{task.module}: eval {command!r} failed: {answer.stderr}"
        evals[emit] = answer.stdout.strip()
    outputs = {}
    for emit, (globs, optional) in rendered["outputs"].items():
        if not globs:  # values only (the versions topic's eval outputs)
            continue
        found = [path for pattern in globs for each in _expand(pattern) for path in sorted(taskdir.glob(each))]
        assert found or optional, f"{task.module}: declared output {emit} ({globs}) is missing"
        outputs[emit] = found
    return Result(taskdir, rendered["script"], outputs, evals)


def _expand(pattern: str) -> list[str]:
    """A Nextflow output glob with {a,b} alternatives as the plain globs it stands for.

    >>> _expand("x.{training,hidden}.{png,pdf}")
    ['x.training.png', 'x.training.pdf', 'x.hidden.png', 'x.hidden.pdf']
    """
    start = pattern.find("{")
    if start < 0:
        return [pattern]
    end = pattern.index("}", start)
    return [expanded for choice in pattern[start + 1:end].split(",")
            for expanded in _expand(pattern[:start] + choice + pattern[end + 1:])]


def run_chain(workdir: Path, runner: Runner, *, hostile: bool = False) -> dict[str, Result]:
    """Every module in workflow order on the Galaxy test data: the chromosome cut into windows, each window trained
    per model (all but the first conditioned on the sites before it), and the windows chained by one sampling task.
    With ``hostile`` the input files and the ids carry spaces, quotes and command substitutions (model and
    population names are checked against the schema's patterns before any task runs)."""
    inputs = workdir / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    name = (lambda base: f"{HOSTILE}.{base}") if hostile else (lambda base: base)
    files = {}
    for base in ("sim.vcf.gz", "sim.populations.tsv", "panel.vcf.gz", "target.vcf.gz"):
        files[base] = inputs / name(base)
        shutil.copyfile(TEST_DATA / base, files[base])
    meta = {"id": name("genome"), "region": None}
    results: dict[str, Result] = {}

    def run(key: str, task: Task) -> Result:
        results[key] = run_task(task, workdir / key, runner)
        return results[key]

    converted = run("vcf_to_matrix", Task("vcf_to_matrix", files={"vcf": files["sim.vcf.gz"], "index": [], "legend": [],
                                                                   "populations": files["sim.populations.tsv"],
                                                                   "window_starts": []},
                                          values={"meta": meta, "holdout": 0.3, "seed": 1, "window_sites": 60},
                                          cpus=2))
    matrix, holdout = converted.outputs["matrix"][0], converted.outputs["holdout"][0]
    windows = [line.split("\t")[:3] for line in converted.outputs["windows"][0].read_text().splitlines()]
    artificial = {}
    for model, args in (("gan", "--preset wgan-gp --condition-on population --epochs 2 --monitor-every 1 --device cpu"),
                        ("rbm", "--epochs 2 --monitor-every 1 --monitor-gibbs-steps 5 --device cpu"),
                        ("diffusion", "--condition-on population --epochs 2 --monitor-every 1 --monitor-steps 5 "
                                      "--channels 16 --max-channels 32 --device cpu")):
        window_models = []
        for index, (chrom, start, end) in enumerate(windows):
            window = {**meta, "id": name(f"{chrom}_{int(start) + 1}_{end}"), "chromosome": meta["id"],
                      "window": f"{chrom}:{int(start) + 1}-{end}", "window_index": index, "n_windows": len(windows)}
            trained = run(f"train_{model}_window{index + 1}",
                          Task(f"train_{model}", files={"matrix": matrix, "holdout": holdout},
                               values={"meta": window, "seed": 1, "context_sites": 10},
                               ext={"args": args + " --early-stop fidelity --max-privacy-loss 1"}))
            window_models.append(trained.outputs["model"][0])
        sampled = run(f"sample_{model}", Task("sample", files={"models": window_models},
                                              values={"meta": {**meta, "model": model}, "haplotypes": 40, "seed": 1},
                                              ext={"args": "--device cpu"}))
        artificial[model] = sampled.outputs["vcf"]
    models = list(artificial)
    run("evaluate", Task("evaluate", files={"real": matrix, "holdout": holdout,
                                            "synthetic": [artificial[m][0] for m in models]},
                         values={"meta": meta, "names": models, "seed": 1},
                         ext={"args": "--triplets 200 --device cpu --boundary-span 5 --ld-max-distance 100000"}))
    gan = {**meta, "model": "gan"}
    # the run's privacy limit as the config passes it on, at -1, the least a privacy loss can be: the gate fails
    gate = config_ext_args(workdir, params={"max_privacy_loss": -1})["GENOSYNTH_PRIVACY_CHECK"]
    run("privacy_check", Task("privacy_check", files={"train": matrix, "holdout": holdout,
                                                      "synthetic": artificial["gan"][0]},
                              values={"meta": gan, "seed": 1}, ext={"args": gate}))
    run("selection_scan", Task("selection_scan", files={"matrix": matrix, "synthetic": artificial["gan"][0]},
                               values={"meta": gan, "target": "CEU", "versus": "YRI", "outgroup": "CHB",
                                       "methods": "xpehh,pbs,cnn"},
                               ext={"args": "--include-edges --s-grid 0,400 --simulations 10 --image-size 64 "
                                            "--cnn-window-sites 40 --cnn-epochs 2 --device cpu"}, cpus=2))
    run("impute_augment", Task("impute_augment", files={"panel": files["panel.vcf.gz"],
                                                        "synthetic": artificial["gan"][0],
                                                        "target": files["target.vcf.gz"]},
                               values={"meta": gan, "seed": 1}, memory_mb=1250))
    return results


def local_runner(module: str, taskdir: Path, argv: Sequence[str]) -> subprocess.CompletedProcess:
    """Start ``argv`` in ``taskdir`` on this machine, genosynth's executables first on the PATH."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(list(argv), cwd=taskdir, env=env, capture_output=True, text=True)


def prefix_runner(prefix: str) -> Runner:
    """Start ``argv`` through a command prefix in which ``{module}`` and ``{taskdir}`` are filled in (a container
    runtime's run command, its entrypoint already composed in)."""
    def run(module: str, taskdir: Path, argv: Sequence[str]) -> subprocess.CompletedProcess:
        command = shlex.split(prefix.format(module=module, taskdir=taskdir)) + list(argv)
        return subprocess.run(command, capture_output=True, text=True)

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--runner-prefix", help="command prefix that starts a task's argv, with {module} and {taskdir}")
    parser.add_argument("--hostile", action="store_true", help="names with spaces, quotes and command substitutions")
    args = parser.parse_args()
    runner = prefix_runner(args.runner_prefix) if args.runner_prefix else local_runner
    results = run_chain(args.workdir.resolve(), runner, hostile=args.hostile)
    injected = sorted(str(p) for p in args.workdir.rglob("INJECTED"))
    for key, result in results.items():
        shown = ", ".join(f"{emit} {len(paths)}" for emit, paths in result.outputs.items())
        print(f"tasks: {key}: ok ({shown}; versions {result.evals})")
    if injected:
        print(f"tasks: a command was injected: {injected}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
