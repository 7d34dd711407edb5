"""At most one active signing key of the authorization server.

Two workers starting at the same moment could each generate a first signing key; a partial
unique index now lets only one of them commit. Where that race already happened, the newest
active key stays active and the others remain published (their signatures keep verifying).

Revision ID: 0005
Revises: 0004

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        "UPDATE gw_server_key SET status = 'published' WHERE status = 'active' AND kid <> "
        "(SELECT kid FROM gw_server_key WHERE status = 'active' "
        "ORDER BY created_at DESC, kid LIMIT 1)"
    )
    op.create_index(
        "uq_gw_server_key_one_active",
        "gw_server_key",
        ["status"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("uq_gw_server_key_one_active", table_name="gw_server_key")
