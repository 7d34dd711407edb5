"""Schema migrations (Alembic), run by ``gateway db upgrade``; never ``create_all`` in production.

Two histories, each kept by the package that owns its tables: the gateway's and partners' tables
(``gw_``, ``ptn_``) in ``gateway/migrations/versions`` (branch ``gateway``), the sandbox bank's
(``sbx_``) in ``sandbox/migrations/versions`` (branch ``sandbox``). Neither refers to the other's
tables, so a bank core other than the sandbox would leave the second out. One environment
(``gateway/migrations/env.py``) runs both, configured here in code, so the same migrations run from
the CLI, from tests and against any database URL; ``upgrade`` brings both to their heads.
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

MIGRATIONS = Path(__file__).with_name("migrations")
_SANDBOX = find_spec("sandbox")
assert _SANDBOX is not None and _SANDBOX.submodule_search_locations  # noqa: S101 - installed with us
VERSIONS = (
    MIGRATIONS / "versions",
    Path(next(iter(_SANDBOX.submodule_search_locations))) / "migrations" / "versions",
)
# The sandbox's first revision. Before the sandbox had a history of its own, the gateway's began
# on it: a database migrated then records only the gateway's revision (see _adopt_sandbox_branch).
SANDBOX_ROOT = "0001"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(v) for v in VERSIONS))
    return config


def alembic_config(engine: Engine) -> Config:
    """Return an Alembic configuration that migrates ``engine``."""
    config = _config()
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to ``revision`` (default: both histories to their newest)."""
    _adopt_sandbox_branch(engine)
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (``base`` empties it)."""
    _adopt_sandbox_branch(engine)
    command.downgrade(alembic_config(engine), revision)


def head_revision() -> str:
    """Return the newest revisions the code knows, as :func:`schema_status` writes them."""
    return _written(ScriptDirectory.from_config(_config()).get_heads())


def schema_status(engine: Engine) -> tuple[str | None, str]:
    """Return (revisions the database is at, revisions the code expects), each as one string
    (``None``: an empty database)."""
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    return (_written(current) if current else None), head_revision()


def _written(revisions: tuple[str, ...] | list[str]) -> str:
    return ",".join(sorted(revisions))


def _adopt_sandbox_branch(engine: Engine) -> None:
    """Record the sandbox's first revision in a database migrated before the sandbox had a
    history of its own: its tables are there (the gateway's history used to create them), but
    ``alembic_version`` names only the gateway's revision, so Alembic would create them again."""
    with engine.begin() as conn:
        tables = set(inspect(conn).get_table_names())
        if "alembic_version" not in tables or "sbx_tenant" not in tables:
            return
        recorded = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
        script = ScriptDirectory.from_config(_config())
        on_sandbox = {
            rev.revision
            for rev in script.iterate_revisions("sandbox@head", "base")
            if rev is not None
        }
        if recorded and not recorded & on_sandbox:
            conn.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:rev)"),
                {"rev": SANDBOX_ROOT},
            )
