"""Alembic environment: migrates the engine handed over in ``config.attributes``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, MetaData

import gateway.api.idempotency.models
import gateway.consents.models
import gateway.oauth.models
import gateway.payments.models
import gateway.store.models
import partners.models
import sandbox.loan_models
import sandbox.models

# Importing the model modules registers their tables on these metadata objects.
assert gateway.consents.models and gateway.oauth.models  # noqa: S101 - import side effect
assert gateway.api.idempotency.models and gateway.payments.models  # noqa: S101 - import side effect
assert partners.models and sandbox.loan_models  # noqa: S101 - import side effect
target_metadata: list[MetaData] = [sandbox.models.Base.metadata, gateway.store.models.Base.metadata]


def run_migrations_online() -> None:
    """Run the migrations on the engine given by :func:`gateway.migrate.alembic_config`."""
    engine: Engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
