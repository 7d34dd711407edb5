"""The migrations build exactly the schema the models describe (a model changed without its
migration, or a migration that drifted from the models, fails here), on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import gateway.consents.models
import gateway.models
import gateway.oauth.models
import partners.models
import sandbox.models
from gateway.db import make_engine

# Importing the model modules registers their tables on these metadata objects.
MODELS = (gateway.consents.models, gateway.oauth.models, partners.models)
METADATA = [sandbox.models.Base.metadata, gateway.models.Base.metadata]


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
