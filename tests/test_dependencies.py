"""The parts depend one way: contracts at the bottom, then the job and the UDFs it builds,
training above the job, the local runtime and the benchmarks on top; inside the local
runtime, its folders one way too (local/__init__.py). Read from the source
(every import, those inside functions and under TYPE_CHECKING included), so that a new
upward arrow or cycle fails here, naming the modules."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("contracts", "flink_job", "udfs", "model_export", "sample_data", "lambdas", "local")
PACKAGES += ("bench", "rules")
# package → the project packages it may never import
FORBIDDEN = {
    "contracts": set(PACKAGES) - {"contracts"},
    "udfs": {"flink_job", "model_export", "sample_data", "lambdas", "local", "bench"},
    "flink_job": {"udfs.model", "udfs.serving", "model_export", "lambdas", "local", "bench"},
    "model_export": {"local", "bench", "lambdas"},
    "sample_data": {"flink_job", "udfs", "model_export", "lambdas", "local", "bench"},
    "lambdas": {"flink_job", "udfs", "model_export", "sample_data", "local", "bench"},
    "bench": {"local.demo"},
    # the rule language, shared by the API, the scoring UDF and the backtests
    "rules": set(PACKAGES) - {"rules", "contracts"},
    # inside the local runtime, a folder per job: aws ← traffic ← flink, console ← demo
    "local.aws": {"local.traffic", "local.flink", "local.console", "local.insights", "local.demo"},
    "local.traffic": {"local.flink", "local.console", "local.insights", "local.demo"},
    "local.flink": {"local.console", "local.insights", "local.demo"},
    "local.console": {"local.flink", "local.insights", "local.demo"},
    "local.insights": {"local.traffic", "local.flink", "local.console", "local.demo"},
}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(name: str, path: Path) -> Iterator[str]:
    """Every module `path` imports (absolute, relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {target for target in imports(name, path) if target in known and target != name}
        for name, path in known.items()
    }


def under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_above_it(package: str) -> None:
    arrows = [
        f"{source} -> {target}"
        for source, targets in graph().items()
        if under(source, package)
        for target in targets
        if any(under(target, banned) for banned in FORBIDDEN[package])
    ]
    assert not arrows, f"{package} may not import these: {arrows}"


def test_contracts_import_only_the_standard_library() -> None:
    for name, path in modules().items():
        if under(name, "contracts"):
            roots = {target.split(".")[0] for target in imports(name, path)}
            outside = roots - set(sys.stdlib_module_names) - {"contracts", "__future__"}
            assert not outside, f"{name} imports {outside}"


def test_there_is_no_import_cycle() -> None:
    edges = graph()
    cycles = [component for component in _components(edges) if len(component) > 1]
    assert not cycles, f"import cycles: {cycles}"


def _components(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _raises_system_exit(node: ast.AST) -> bool:
    if not isinstance(node, ast.Raise) or node.exc is None:
        return False
    call = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return isinstance(call, ast.Name) and call.id == "SystemExit"


def test_only_entry_points_exit() -> None:
    """Library code raises exceptions; `main` (and the `__main__` block) turns them into an
    exit status."""
    offenders = []
    for name, path in modules().items():
        tree = ast.parse(path.read_text())
        allowed: set[int] = set()
        for node in ast.walk(tree):
            entry = isinstance(node, ast.FunctionDef) and node.name == "main"
            entry = entry or (isinstance(node, ast.If) and "__main__" in ast.unparse(node.test))
            if entry:
                allowed.update(id(inner) for inner in ast.walk(node))
        offenders += [
            f"{name}:{node.lineno}"
            for node in ast.walk(tree)
            if _raises_system_exit(node) and id(node) not in allowed
        ]
    assert not offenders, f"SystemExit outside an entry point: {offenders}"


def test_a_function_is_defined_once_across_the_parts() -> None:
    """Helpers that were copied between parts (read_frame) live in one module."""
    definitions: dict[str, list[str]] = {}
    for name, path in modules().items():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name in ("read_frame", "free_port"):
                definitions.setdefault(node.name, []).append(name)
    duplicated = {function: where for function, where in definitions.items() if len(where) > 1}
    assert not duplicated, f"defined more than once: {duplicated}"
