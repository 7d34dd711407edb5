"""The migrations build exactly the schema the models describe (a model changed without its
migration, or a migration that drifted from the models, fails here), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

import gateway.api.idempotency.models
import gateway.consents.models
import gateway.oauth.models
import gateway.store.models
import partners.models
import sandbox.credit_months
import sandbox.loan_models
import sandbox.models
from gateway import migrate
from gateway.store.database import make_engine

# Importing the model modules registers their tables on these metadata objects.
MODELS = (
    gateway.api.idempotency.models,
    gateway.consents.models,
    gateway.oauth.models,
    partners.models,
    sandbox.loan_models,
)
METADATA = [sandbox.models.Base.metadata, gateway.store.models.Base.metadata]


def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, METADATA)
    finally:
        engine.dispose()
    assert all(MODELS)
    assert differences == [], "\n".join(str(d)[:300] for d in differences)


def _versions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}


def test_both_histories_migrate_to_their_heads_and_back(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine)
    current, expected = migrate.schema_status(fresh_engine)
    assert current == expected and set(expected.split(",")) == _versions(fresh_engine)
    assert {"sbx_payment", "gw_token", "ptn_app"} <= set(inspect(fresh_engine).get_table_names())
    migrate.downgrade(fresh_engine, "base")
    assert migrate.schema_status(fresh_engine)[0] is None
    assert not {"sbx_tenant", "gw_token"} & set(inspect(fresh_engine).get_table_names())


def test_a_database_migrated_before_the_sandbox_had_its_own_history_upgrades_in_place(
    fresh_engine: Engine,
) -> None:
    # Then one history created the sandbox's tables (0001) and the gateway's (0002-0005), and
    # alembic_version held only 0005.
    migrate.upgrade(fresh_engine, "0001")
    migrate.upgrade(fresh_engine, "0005")
    with fresh_engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version WHERE version_num = '0001'"))
        conn.execute(
            text(
                "INSERT INTO sbx_tenant (id, seed, profile, anchor, clock_offset_seconds, "
                "due_checked_at, created_at) VALUES ('kept', 7, 'standard', :at, 0, :at, :at)"
            ),
            {"at": dt.datetime(2026, 1, 5, tzinfo=dt.UTC)},
        )
    assert _versions(fresh_engine) == {"0005"}

    migrate.upgrade(fresh_engine)

    current, expected = migrate.schema_status(fresh_engine)
    assert current == expected
    assert "sbx_payment" in inspect(fresh_engine).get_table_names()
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT seed FROM sbx_tenant WHERE id = 'kept'")).scalar() == 7


def test_an_empty_database_is_not_adopted(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine, "gateway@head")
    assert "sbx_tenant" not in inspect(fresh_engine).get_table_names()
    gateway_head = ScriptDirectory.from_config(migrate.alembic_config(fresh_engine))
    assert _versions(fresh_engine) == {gateway_head.revision_map.get_current_head("gateway")}
