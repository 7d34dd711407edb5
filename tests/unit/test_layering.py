"""The import rules of the architecture (docs/architecture.md), read from the code itself.

* No import cycle between packages or sub-packages (each folder of modules is one node).
* The request path is one-way: the edge knows no layer above it, the authorization server no
  resource API, the domain packages no web front end; the portal imports no API view.
* The bank-core contracts depend on neither Flask nor SQLAlchemy; the sandbox bank loads neither
  Flask nor any gateway module but the contracts and the Flask-free stores, and never its own
  synthetic-data generator (it is handed one).
* ``loadtests`` imports nothing of ours: it is a client like any partner.
* No module past 400 lines, no function past 60, outside migrations.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gateway", "partners", "sandbox")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# The published OAuth document's paths and components, each written as one data table.
DATA_TABLES = {"gateway/apidocs/oauth.py:_paths", "gateway/apidocs/oauth_schemas.py:components"}
# The example partner client is the one file partners download and run as it is.
ONE_FILE = {"partners/example_client.py"}


def _modules() -> dict[str, tuple[Path, bool]]:
    """Every module of our packages (migrations aside): dotted name -> (path, is a package)."""
    found: dict[str, tuple[Path, bool]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


MODULES = _modules()


def _imports(path: Path) -> Iterator[str]:
    """The dotted names a module imports (absolute imports; ``from a import b`` gives both)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _resolve(name: str) -> str | None:
    """The module of ours that ``name`` names (or the module it is an attribute of)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _package(module: str) -> str:
    return module if MODULES[module][1] else module.rpartition(".")[0] or module


def _dependencies() -> dict[str, set[tuple[str, str, str]]]:
    """Package -> {(imported package, importing module, imported module)}."""
    edges: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for module, (path, _is_package) in MODULES.items():
        for name in _imports(path):
            target = _resolve(name)
            if target is None or target == module:
                continue
            source, destination = _package(module), _package(target)
            if source != destination:
                edges[source].add((destination, module, target))
    return edges


DEPENDENCIES = _dependencies()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(set(graph) | {n for targets in graph.values() for n in targets}):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_packages_or_sub_packages() -> None:
    graph = {source: {dest for dest, _, _ in edges} for source, edges in DEPENDENCIES.items()}
    report = []
    for component in _cycles(graph):
        report.append(" <-> ".join(component))
        for source in component:
            report.extend(
                f"    {module} imports {target}"
                for dest, module, target in sorted(DEPENDENCIES[source])
                if dest in component
            )
    assert not report, "\n".join(report)


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _imported_packages(package: str) -> set[str]:
    """The packages that ``package`` or any of its sub-packages import."""
    return {
        dest
        for source, edges in DEPENDENCIES.items()
        if source == package or source.startswith(package + ".")
        for dest, _, _ in edges
        if not (dest == package or dest.startswith(package + "."))
    }


def _reaches(packages: set[str], forbidden: str) -> bool:
    return any(p == forbidden or p.startswith(forbidden + ".") for p in packages)


# A layer and what it never imports: the request path runs edge -> authentication (oauth) ->
# view (api) -> service (consents) -> bank core; the web front end sits beside the views.
NEVER = [
    ("gateway.core", ("gateway.store", "gateway.edge", "gateway.oauth", "gateway.api",
                      "gateway.consents", "gateway.portal", "partners", "sandbox")),
    ("gateway.store", ("gateway.edge", "gateway.oauth", "gateway.api", "gateway.consents",
                       "gateway.portal", "partners", "sandbox")),
    ("gateway.edge", ("gateway.oauth", "gateway.api", "gateway.consents", "gateway.portal",
                      "gateway.apidocs", "partners", "sandbox")),
    ("gateway.consents", ("gateway.oauth", "gateway.api", "gateway.portal", "sandbox")),
    ("gateway.payments", ("gateway.oauth", "gateway.api", "gateway.portal", "sandbox")),
    ("gateway.oauth", ("gateway.api", "gateway.portal", "gateway.apidocs", "sandbox")),
    ("gateway.api", ("gateway.portal", "gateway.apidocs", "sandbox")),
    ("gateway.portal", ("gateway.api", "gateway.apidocs", "sandbox")),
    ("partners", ("gateway.edge", "gateway.oauth", "gateway.api", "gateway.consents",
                  "gateway.portal", "sandbox")),
    ("sandbox", ("gateway.edge", "gateway.oauth", "gateway.api", "gateway.consents",
                 "gateway.portal", "partners")),
]  # fmt: skip


@pytest.mark.parametrize(("layer", "never"), NEVER, ids=[layer for layer, _ in NEVER])
def test_a_layer_never_imports_the_layers_above_it(layer: str, never: tuple[str, ...]) -> None:
    imported = _imported_packages(layer)
    assert not [name for name in never if _reaches(imported, name)], sorted(imported)


def test_the_sandbox_bank_never_imports_its_synthetic_data() -> None:
    bank = {m for m in MODULES if m.startswith("sandbox.") and not m.startswith("sandbox.synth")}
    reached = {
        (module, target)
        for module in bank
        for name in _imports(MODULES[module][0])
        if (target := _resolve(name)) and target.startswith("sandbox.synth")
    }
    assert not reached


def _imported_after(module: str) -> set[str]:
    """Every module a fresh interpreter loads to import ``module``."""
    code = (
        "import sys, importlib; before = set(sys.modules); "
        f"importlib.import_module({module!r}); "
        "print('\\n'.join(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(out.stdout.split())


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_the_sandbox_loads_neither_flask_nor_the_gateway_app() -> None:
    imported = _imported_after("sandbox.core")
    assert {"sandbox.ledger", "sandbox.execution", "sandbox.clock"} <= imported
    assert not {"flask", "werkzeug"} & _top(imported)
    # Of the gateway, only the contracts and the Flask-free stores.
    gateway = {m for m in imported if m.startswith("gateway.")}
    assert gateway and all(m.startswith(("gateway.core", "gateway.store")) for m in gateway)


@pytest.mark.parametrize("module", ["gateway.store.reads", "gateway.store.database"])
def test_the_stores_need_no_flask(module: str) -> None:
    assert not {"flask", "werkzeug", "sandbox"} & _top(_imported_after(module))


def test_the_bank_core_contracts_depend_on_neither_flask_nor_sqlalchemy() -> None:
    imported = _imported_after("gateway.core.memory") | _imported_after("gateway.core.bank")
    assert not {"flask", "sqlalchemy", "sandbox"} & _top(imported)


def test_gateway_package_is_empty_so_importing_it_builds_nothing() -> None:
    assert (ROOT / "gateway" / "__init__.py").read_text().strip() == ""
    assert "flask" not in _top(_imported_after("gateway"))


def test_loadtests_import_nothing_of_ours() -> None:
    ours = {*PACKAGES, "tests", "benchmarks"}
    found = {
        (path.name, name)
        for path in (ROOT / "loadtests").glob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in ours
    }
    assert not found


def _long_functions(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            where = f"{path.relative_to(ROOT)}:{node.name}"
            if length > MAX_FUNCTION_LINES and where not in DATA_TABLES:
                yield f"{where} (line {node.lineno}, {length} lines)"


def test_no_module_over_400_lines_and_no_function_over_60() -> None:
    big = [
        f"{path.relative_to(ROOT)} ({n} lines)"
        for path, _ in MODULES.values()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
        and str(path.relative_to(ROOT)) not in ONE_FILE
    ]
    long = [found for path, _ in MODULES.values() for found in _long_functions(path)]
    assert not big + long, "\n".join(big + long)
