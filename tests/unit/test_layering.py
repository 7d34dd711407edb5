"""The import rules of the architecture: the sandbox knows nothing of Flask or HTTP, the bank-core
interface depends on neither Flask nor SQLAlchemy, and importing a gateway module does not build
the application."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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


def _packages(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_sandbox_never_imports_flask_or_the_gateway_app() -> None:
    # sandbox.core imports every other sandbox module.
    imported = _imported_after("sandbox.core")
    assert {"sandbox.ledger", "sandbox.population", "sandbox.clock"} <= imported
    assert not {"flask", "werkzeug"} & _packages(imported)
    # Of the gateway, only the Flask-free modules written for bank cores: the interface, and the
    # reads outside a transaction with their driver settings.
    gateway = {m for m in imported if m.startswith("gateway")}
    assert gateway == {"gateway", "gateway.core", "gateway.reads", "gateway.pg_cursor"}


def test_reads_outside_a_transaction_need_no_flask() -> None:
    assert not {"flask", "werkzeug", "sandbox"} & _packages(_imported_after("gateway.reads"))


def test_bank_core_interface_depends_on_neither_flask_nor_sqlalchemy() -> None:
    assert not {"flask", "sqlalchemy", "sandbox"} & _packages(_imported_after("gateway.core"))


def test_gateway_package_is_empty_so_importing_it_builds_nothing() -> None:
    assert (ROOT / "gateway" / "__init__.py").read_text().strip() == ""
    assert "flask" not in _packages(_imported_after("gateway"))


def test_no_module_over_400_lines() -> None:
    big = {
        str(path.relative_to(ROOT)): n
        for package in ("gateway", "partners", "sandbox")
        for path in (ROOT / package).rglob("*.py")
        if "migrations/versions" not in str(path)
        and (n := len(path.read_text().splitlines())) > 400
    }
    assert not big
