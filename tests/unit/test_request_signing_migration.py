"""Revision 0008 (``ptn_app.request_signing``): apps that existed before it must sign their
requests, as new ones do; a database migrated before the sandbox had its own history (see
:func:`gateway.migrate._adopt_sandbox_branch`) still upgrades in place through it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, inspect, text

from gateway import migrate

AT = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


def _an_app(engine: Engine, client_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ptn_organisation (id, legal_name, country, registration_number, "
                "roles, status, created_at, status_changed_at) VALUES (:org, 'Old Ltd', 'GB', "
                "'01234567', '[\"PISP\"]', 'approved', :at, :at)"
            ),
            {"org": f"org_{client_id}", "at": AT},
        )
        conn.execute(
            text(
                "INSERT INTO ptn_app (client_id, organisation_id, name, environment, status, "
                "redirect_uris, token_endpoint_auth_method, dpop_bound, scope, created_at, "
                "updated_at) VALUES (:id, :org, 'Old app', 'sandbox', 'active', '[]', "
                "'private_key_jwt', false, 'payments', :at, :at)"
            ),
            {"id": client_id, "org": f"org_{client_id}", "at": AT},
        )


def _request_signing(engine: Engine, client_id: str) -> object:
    with engine.connect() as conn:
        query = text("SELECT request_signing FROM ptn_app WHERE client_id = :id")
        return conn.execute(query, {"id": client_id}).scalar_one()


def _columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("ptn_app")}


def test_apps_made_before_0008_must_sign_and_0008_goes_back(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine, "0006")
    _an_app(fresh_engine, "cli_before")
    assert "request_signing" not in _columns(fresh_engine)

    migrate.upgrade(fresh_engine)
    assert bool(_request_signing(fresh_engine, "cli_before")) is True

    migrate.downgrade(fresh_engine, "0006")
    assert "request_signing" not in _columns(fresh_engine)
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM ptn_app")).scalar_one() == "Old app"


def test_a_database_from_before_the_sandbox_history_upgrades_through_0008(
    fresh_engine: Engine,
) -> None:
    # Such a database records only the gateway's revision (0005), not the sandbox's 0001.
    migrate.upgrade(fresh_engine, "0001")
    migrate.upgrade(fresh_engine, "0005")
    with fresh_engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version WHERE version_num = '0001'"))
    _an_app(fresh_engine, "cli_legacy")

    migrate.upgrade(fresh_engine)

    current, expected = migrate.schema_status(fresh_engine)
    assert current == expected and "0008" in expected.split(",")
    assert bool(_request_signing(fresh_engine, "cli_legacy")) is True
