"""Operator commands: ops accounts, organisation and app status, signing keys, load partners."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from gateway.oauth.models import ServerKey
from gateway.store.database import Database
from partners.models import App, Developer, Organisation
from tests.common.oauth import register_partner


def _db(app: Flask) -> Database:
    database: Database = app.extensions["database"]
    return database


def test_create_ops_account(app: Flask, runner: FlaskCliRunner, tenant: str) -> None:
    email = f"ops-{tenant}@bank.example"
    result = runner.invoke(
        args=["ops", "create-account", "--email", email.upper(), "--name", "Ops"],
        input="a long enough ops password\na long enough ops password\n",
    )
    assert result.exit_code == 0, result.output
    with _db(app).sessions() as session:
        ops = session.scalars(select(Developer).where(Developer.email == email)).one()
        assert ops.is_ops and ops.organisation_id is None
    again = runner.invoke(
        args=["ops", "create-account", "--email", email, "--name", "Ops"],
        input="a long enough ops password\na long enough ops password\n",
    )
    assert again.exit_code != 0 and "Error" in again.output


def test_weak_password_is_refused(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["ops", "create-account", "--email", "weak@bank.example", "--name", "Ops"],
        input="short\nshort\n",
    )
    assert result.exit_code != 0


def test_approve_and_suspend_an_organisation_and_its_apps(
    app: Flask, runner: FlaskCliRunner
) -> None:
    partner = register_partner(app, app.test_client())
    approved = runner.invoke(args=["ops", "organisation", "approve", partner.organisation_id])
    assert approved.exit_code == 0 and "approved" in approved.output
    suspended = runner.invoke(args=["ops", "organisation", "suspend", partner.organisation_id])
    assert suspended.exit_code == 0 and "suspended" in suspended.output
    with _db(app).sessions() as session:
        assert session.get_one(Organisation, partner.organisation_id).status == "suspended"
        assert session.get_one(App, partner.client_id).status == "suspended"
    unknown = runner.invoke(args=["ops", "organisation", "approve", "org_nope"])
    assert unknown.exit_code != 0


def test_suspend_and_reactivate_an_app(app: Flask, runner: FlaskCliRunner) -> None:
    partner = register_partner(app, app.test_client())
    assert runner.invoke(args=["ops", "app", "suspend", partner.client_id]).exit_code == 0
    with _db(app).sessions() as session:
        assert session.get_one(App, partner.client_id).status == "suspended"
    assert runner.invoke(args=["ops", "app", "reactivate", partner.client_id]).exit_code == 0
    with _db(app).sessions() as session:
        assert session.get_one(App, partner.client_id).status == "active"
    assert runner.invoke(args=["ops", "app", "suspend", "cli_nope"]).exit_code != 0


def test_rotate_keys_keeps_the_previous_key_published(app: Flask, runner: FlaskCliRunner) -> None:
    client = app.test_client()
    before = {k["kid"] for k in client.get("/jwks").json["keys"]}  # type: ignore[index]
    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0
    new_kid = rotated.output.split()[-1]
    after = {k["kid"] for k in client.get("/jwks").json["keys"]}  # type: ignore[index]
    assert new_kid in after and before <= after | before
    assert before & after, "the previous active key stays published"
    listing = runner.invoke(args=["keys", "list"])
    assert new_kid in listing.output and "active" in listing.output
    with _db(app).sessions() as session:
        active = session.scalars(select(ServerKey).where(ServerKey.status == "active")).all()
        assert [k.kid for k in active] == [new_kid]


def test_move_an_app_to_another_tier(app: Flask, runner: FlaskCliRunner) -> None:
    partner = register_partner(app, app.test_client())
    moved = runner.invoke(args=["ops", "tier", partner.client_id, "premium"])
    assert moved.exit_code == 0 and "premium" in moved.output
    with _db(app).sessions() as session:
        assert session.get_one(App, partner.client_id).tier == "premium"
    assert runner.invoke(args=["ops", "tier", partner.client_id, "gold"]).exit_code != 0


# Files holding a private key ---------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def guide_key_snippet() -> str:
    """The getting-started guide's key snippet, as printed."""
    guide = (ROOT / "docs" / "getting-started.md").read_text()
    found = re.search(r"^\.venv/bin/python - <<'EOF'\n(.*?)^EOF$", guide, re.DOTALL | re.M)
    assert found, "the guide lost its key snippet"
    return found.group(1)


def load_partner(runner: FlaskCliRunner, folder: Path) -> tuple[Path, dict[str, Any]]:
    path = folder / "partner.json"
    result = runner.invoke(
        args=["ops", "load-partner", "--issuer", "http://127.0.0.1:5000", "--output", str(path)]
    )
    assert result.exit_code == 0, result.output
    config = json.loads(path.read_text())
    assert config["customers"] and all(c["password"] for c in config["customers"])
    with _db(runner.app).sessions() as session:  # the AISP, PISP and lending load scenarios
        scope = session.get_one(App, config["client_id"]).scope.split()
        assert scope == ["accounts", "payments", "financing"]
    return path, config["private_jwk"]


def guide(_runner: FlaskCliRunner, folder: Path) -> tuple[Path, dict[str, Any]]:
    ran = subprocess.run(
        [sys.executable, "-"], input=guide_key_snippet(), cwd=folder, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    path = folder / "private_jwk.json"
    key: dict[str, Any] = json.loads(path.read_text())
    [public] = json.loads(ran.stdout)["keys"]
    assert public["kid"] == key["kid"] and "d" not in public
    return path, key


@pytest.fixture
def common_umask() -> Iterator[None]:
    """Umask 022, under which a file made by a plain ``open`` is readable by every local user."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
@pytest.mark.parametrize("existing", [False, True], ids=["new file", "existing 0644 file"])
@pytest.mark.parametrize("write", [load_partner, guide], ids=["load-partner", "guide's snippet"])
@pytest.mark.usefixtures("common_umask")
def test_a_private_key_is_written_readable_by_its_owner_only(
    runner: FlaskCliRunner,
    tmp_path: Path,
    write: Callable[[FlaskCliRunner, Path], tuple[Path, dict[str, Any]]],
    existing: bool,
) -> None:
    if existing:
        for name in ("partner.json", "private_jwk.json"):
            (tmp_path / name).write_text("an older, longer file " * 100)
            (tmp_path / name).chmod(0o644)

    path, key = write(runner, tmp_path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key["kty"] == "EC" and key["d"], "the private key, whole"


@pytest.mark.parametrize("name", ["client.json", "private_jwk.json", "partner.json"])
def test_git_ignores_the_files_that_hold_a_partner_s_key(name: str) -> None:
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert name in ignored
