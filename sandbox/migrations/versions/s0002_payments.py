"""Payments the sandbox's payment engine executed or refused.

Revision ID: s0002
Revises: 0001

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "s0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "sbx_payment",
        sa.Column("pk", BIG_ID, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("account_pk", BIG_ID, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("creditor_name", sa.String(length=350), nullable=False),
        sa.Column("creditor_scheme", sa.String(length=40), nullable=True),
        sa.Column("creditor_identification", sa.String(length=256), nullable=True),
        sa.Column("reference", sa.String(length=35), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=140), nullable=True),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("instruction_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("journal_pk", BIG_ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["sbx_tenant.id"],
            name=op.f("fk_sbx_payment_tenant_id_sbx_tenant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_pk"],
            ["sbx_account.pk"],
            name=op.f("fk_sbx_payment_account_pk_sbx_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["journal_pk"],
            ["sbx_journal.pk"],
            name=op.f("fk_sbx_payment_journal_pk_sbx_journal"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_sbx_payment")),
        sa.UniqueConstraint("public_id", name=op.f("uq_sbx_payment_public_id")),
    )
    with op.batch_alter_table("sbx_payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sbx_payment_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sbx_payment_account_pk"), ["account_pk"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("sbx_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sbx_payment_account_pk"))
        batch_op.drop_index(batch_op.f("ix_sbx_payment_tenant_id"))
    op.drop_table("sbx_payment")
