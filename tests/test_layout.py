"""The package's layout holds: read from the source with ``ast`` (nothing imported), every module imports only its
own layer or lower ones, no two modules import each other (directly or round a longer loop, imports inside
functions included), and every import is absolute (``from genosynth.io.matrix import HaplotypeMatrix``).

Layers, low to high: ``_infra`` < ``io`` < ``reports`` < ``assess`` < ``generate`` < ``downstream`` < the command
line and the public face (``steps``, ``cli``, ``demo``, ``versions``, ``datasets``, ``__init__``, ``__main__``)."""

from __future__ import annotations

import ast
from pathlib import Path

import genosynth
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tools" / "genosynth"
LAYERS = ("_infra", "io", "reports", "assess", "generate", "downstream")
TOP = len(LAYERS)  # steps, cli, demo, versions, datasets and the package itself


def module_name(path: Path) -> str:
    parts = ("genosynth", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else TOP


def imports(module: str) -> list[tuple[str, int]]:
    """The genosynth modules ``module`` imports (``from X import name`` counts as importing X.name when that is a
    module, else X), with the line of each import; relative imports come back as ``"."`` for the caller to name."""
    found = []
    for node in ast.walk(ast.parse(MODULES[module].read_text(), str(MODULES[module]))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names if alias.name.split(".")[0] == "genosynth"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append((".", node.lineno))
            elif node.module and node.module.split(".")[0] == "genosynth":
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.append((sub if sub in MODULES else node.module, node.lineno))
    return found


def where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(PACKAGE.parents[1])}:{line}"


def test_the_package_has_the_layers_it_is_described_with():
    subpackages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert set(LAYERS) <= subpackages, f"a layer without its folder: {sorted(set(LAYERS) - subpackages)}"
    assert len(MODULES) > 50, "the modules were not found"


def test_every_import_is_absolute():
    relative = [where(module, line) for module in MODULES for name, line in imports(module) if name == "."]
    assert not relative, f"relative imports (write `from genosynth.<module> import ...`): {relative}"


def test_no_module_imports_from_a_higher_layer():
    upward = [
        f"{where(module, line)}: {module} (layer {layer(module)}) imports {name} (layer {layer(name)})"
        for module in MODULES
        for name, line in imports(module)
        if name != "." and layer(name) > layer(module)
    ]
    assert not upward, "imports that climb the layers " + " < ".join(LAYERS) + " < the rest:\n" + "\n".join(upward)


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (or a module importing itself), by Tarjan."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return cycles


def import_graph() -> dict[str, dict[str, int]]:
    return {module: {name: line for name, line in reversed(imports(module)) if name in MODULES} for module in MODULES}


def describe(cycle: list[str], graph: dict[str, dict[str, int]]) -> str:
    """One loop through the component, as the imports that make it (shortest from its first module back to it)."""
    start, members = cycle[0], set(cycle)
    came_from: dict[str, str] = {}
    queue = [start]
    while queue:
        module = queue.pop(0)
        for target in graph[module]:
            if target in members and target not in came_from:
                came_from[target] = module
                queue.append(target)
    loop, module = [], start
    while True:
        loop.append(f"{where(came_from[module], graph[came_from[module]][module])}: imports {module}")
        module = came_from[module]
        if module == start:
            break
    return " -> ".join(reversed(loop))


def test_no_import_cycle():
    graph = import_graph()
    cycles = find_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(describe(cycle, graph) for cycle in cycles)


def test_the_cycle_finder_finds_a_loop_and_names_its_lines():
    graph = {"a": {"b": 3}, "b": {"c": 5}, "c": {"a": 7}, "d": {"a": 1}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"a": 2}}) == [["a"]] and find_cycles({"a": {"b": 1}, "b": {}}) == []


@pytest.mark.parametrize("name", genosynth.__all__)
def test_public_names_belong_to_the_package(name):
    """Tracebacks, reprs and the API docs name ``genosynth.InputError``, never the private module it lives in."""
    value = getattr(genosynth, name)
    if isinstance(value, type):
        assert value.__module__ == "genosynth", f"genosynth.{name}.__module__ is {value.__module__!r}"
