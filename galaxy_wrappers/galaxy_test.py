"""Run every wrapper's <tests> and the example workflow's planemo tests on a real, local Galaxy server, then stop it.

Run with the Python of a virtual environment holding ``galaxy`` and ``planemo`` (``make galaxy-test`` builds
it in .galaxy/venv):

    .galaxy/venv/bin/python galaxy_wrappers/galaxy_test.py --genosynth-bin .venv/bin

The server uses sqlite, no conda, no celery, and the wrappers in this folder as its only tools; genosynth's
executables are put first on the PATH that tool commands see. Exit status 0 only when every test passes.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

WRAPPERS = Path(__file__).resolve().parent
WORKFLOW = WRAPPERS / "workflows" / "generate_and_check.gxwf.yml"  # its tests: generate_and_check.gxwf-tests.yml


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genosynth-bin", type=Path, required=True, help="folder holding the genosynth-* executables")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--work", type=Path, help="server folder (default: a temporary one, removed at the end)")
    parser.add_argument("--tool", action="append", help="test only this tool id (repeatable)")
    parser.add_argument("--skip-workflow", action="store_true")
    args = parser.parse_args()
    tests = _wrapper_tests()
    unknown = sorted(set(args.tool or []) - set(tests))
    if unknown:
        raise SystemExit(f"galaxy-test: no wrapper has the id {unknown[0]}")
    with tempfile.TemporaryDirectory(prefix="genosynth-galaxy.") as temporary:
        work = args.work or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        admin_key = secrets.token_hex(16)
        config = _write_config(work, admin_key, args.port)
        url = f"http://127.0.0.1:{args.port}"
        server = _start(config, work, args.genosynth_bin.resolve(), args.port)
        try:
            _wait_for(url, server, work / "galaxy.log")
            user_key = _create_user(url, admin_key)
            failures = _run_tool_tests(url, user_key, admin_key, work,
                                       {tool_id: tests[tool_id] for tool_id in args.tool or tests})
            if not args.skip_workflow:
                failures += _run_workflow_tests(url, user_key, admin_key, work)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    if failures:
        print(f"galaxy-test: {len(failures)} failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    print("galaxy-test: every wrapper test passed" + ("" if args.skip_workflow else ", and the workflow"))
    return 0


def _wrapper_tests() -> dict[str, int]:
    """Tool id -> number of <test> cases, for every wrapper in this folder."""
    import xml.etree.ElementTree as ET

    tests = {}
    for path in sorted(WRAPPERS.glob("*.xml")):
        if path.name != "macros.xml":
            root = ET.parse(path).getroot()
            tests[root.get("id")] = len(root.find("tests"))
    return tests


def _write_config(work: Path, admin_key: str, port: int) -> Path:
    tools = "\n".join(f'    <tool file="{path}"/>' for path in sorted(WRAPPERS.glob("*.xml")) if path.name != "macros.xml")
    (work / "tool_conf.xml").write_text(f'<toolbox>\n  <section id="genosynth" name="genosynth">\n{tools}\n  </section>\n</toolbox>\n')
    config = work / "galaxy.yml"
    config.write_text(f"""gravity:
  galaxy_root: {work}
galaxy:
  data_dir: {work}/data
  database_connection: sqlite:///{work}/galaxy.sqlite?isolation_level=IMMEDIATE
  tool_config_file: {work}/tool_conf.xml
  conda_auto_init: false
  conda_auto_install: false
  enable_mulled_containers: false
  enable_celery_tasks: false
  bootstrap_admin_api_key: {admin_key}
  admin_users: admin@genosynth.test
  allow_local_account_creation: true
  allow_path_paste: true
  check_migrate_databases: true
  watch_tools: false
  tool_data_table_config_path: ''
""")
    return config


def _start(config: Path, work: Path, genosynth_bin: Path, port: int) -> subprocess.Popen:
    venv = Path(sys.executable).parent.parent
    env = dict(os.environ, VIRTUAL_ENV=str(venv), PATH=f"{genosynth_bin}:{venv / 'bin'}:{os.environ['PATH']}",
               GALAXY_CONFIG_FILE=str(config))
    log = open(work / "galaxy.log", "w")
    return subprocess.Popen([str(venv / "bin" / "galaxy-web"), "--config", str(config), "--bind", f"127.0.0.1:{port}"],
                            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_for(url: str, server: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if server.poll() is not None:
            raise SystemExit(f"galaxy-test: Galaxy exited ({server.returncode}); its log:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/version", timeout=5) as response:
                print(f"galaxy-test: Galaxy {json.load(response)['version_major']} up after "
                      f"{time.monotonic() - start:.0f} s", flush=True)
                return
        except OSError:
            time.sleep(2)
    raise SystemExit(f"galaxy-test: Galaxy did not answer within {timeout:.0f} s; log:\n{log.read_text()[-4000:]}")


def _api(url: str, key: str, method: str, path: str, payload: dict | None = None) -> dict:
    request = urllib.request.Request(f"{url}/api/{path}", method=method, headers={"x-api-key": key,
                                     "content-type": "application/json"},
                                     data=None if payload is None else json.dumps(payload).encode())
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def _create_user(url: str, admin_key: str) -> str:
    user = _api(url, admin_key, "POST", "users", {"username": "tester", "email": "tester@genosynth.test",
                                                    "password": secrets.token_hex(12)})
    return _api(url, admin_key, "POST", f"users/{user['id']}/api_key")


def _run_tool_tests(url: str, user_key: str, admin_key: str, work: Path, tests: dict[str, int]) -> list[str]:
    """Run the ``tests`` (tool id -> test count) four at a time through galaxy-tool-test; return the failed ones."""
    tool_ids = list(tests)
    tester = Path(sys.executable).parent / "galaxy-tool-test"
    started = time.monotonic()
    report = work / "tool_tests.json"
    command = [str(tester), "-u", url, "-k", user_key, "-a", admin_key, "--test-data", str(WRAPPERS / "test-data"),
               "-j", str(report), "--parallel-tests", "4", "--download-attempts", "3"]
    if len(tool_ids) == 1:
        command += ["-t", tool_ids[0]]
    result = subprocess.run(command, capture_output=True, text=True)
    outcomes = {}
    if report.is_file():
        for test in json.loads(report.read_text())["tests"]:
            data = test.get("data", {})
            if data.get("tool_id") in tool_ids:
                outcomes[f"{data['tool_id']}#{data.get('test_index', 0)}"] = data.get("status")
    expected = {f"{tool_id}#{i}" for tool_id, count in tests.items() for i in range(count)}
    failures = sorted(name for name in expected if outcomes.get(name) != "success")
    for name in sorted(expected):
        print(f"galaxy-test: {name}: {'passed' if name not in failures else 'FAILED (' + str(outcomes.get(name)) + ')'}")
    print(f"galaxy-test: {len(expected)} tool tests in {time.monotonic() - started:.0f} s", flush=True)
    if failures:
        errors = [line for line in (result.stdout + result.stderr).splitlines() if "ERROR" in line or "rror" in line]
        print("\n".join(errors[-20:]), file=sys.stderr)
    return failures


def _run_workflow_tests(url: str, user_key: str, admin_key: str, work: Path) -> list[str]:
    """The example workflow's tests (its -tests.yml: inputs and per-output assertions) run by planemo on this Galaxy."""
    started = time.monotonic()
    report = work / "workflow_tests.json"
    command = [str(Path(sys.executable).parent / "planemo"), "test", "--engine", "external_galaxy", "--galaxy_url", url,
               "--galaxy_admin_key", admin_key, "--galaxy_user_key", user_key, "--no_shed_install",
               "--test_output_json", str(report), "--test_output", str(work / "workflow_tests.html"),
               "--test_timeout", "1200", str(WORKFLOW)]
    result = subprocess.run(command, capture_output=True, text=True)
    tests = json.loads(report.read_text())["tests"] if report.is_file() else []
    statuses = [test.get("data", {}).get("status") for test in tests]
    passed = result.returncode == 0 and statuses and all(status == "success" for status in statuses)
    print(f"galaxy-test: workflow {WORKFLOW.name}: {len(statuses)} planemo test(s) "
          f"{'passed' if passed else 'FAILED ' + str(statuses)} ({time.monotonic() - started:.0f} s)", flush=True)
    if not passed:
        print((result.stdout + result.stderr)[-4000:], file=sys.stderr)
    return [] if passed else ["workflow"]


if __name__ == "__main__":
    sys.exit(main())
