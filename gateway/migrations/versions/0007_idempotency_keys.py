"""Idempotency keys of the payment initiation, VRP and confirmation of funds APIs, with the
response each first request was answered (replayed to a retry within 24 hours).

Revision ID: 0007
Revises: 0006

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "gw_idempotency_key",
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint(
            "client_id", "operation", "key", name=op.f("pk_gw_idempotency_key")
        ),
    )
    with op.batch_alter_table("gw_idempotency_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gw_idempotency_key_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("gw_idempotency_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gw_idempotency_key_expires_at"))
    op.drop_table("gw_idempotency_key")
