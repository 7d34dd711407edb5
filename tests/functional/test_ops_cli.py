"""Operator commands: ops accounts, organisation and app status, signing keys."""

from __future__ import annotations

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
