"""Conversions the bank made and the terms of converted instructions; a quote's user.

Revision ID: s0006
Revises: s0004

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "s0006"
down_revision: str | Sequence[str] | None = "s0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _tenant(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["sbx_tenant.id"], name=op.f(f"fk_{table}_tenant_id_sbx_tenant"),
        ondelete="CASCADE",
    )  # fmt: skip


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("sbx_fx_quote", schema=None) as batch_op:
        batch_op.add_column(sa.Column("used_by", sa.String(length=40), nullable=True))
    op.create_table(
        "sbx_fx_instruction",
        sa.Column("pk", BIG_ID, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("instruction_id", sa.String(length=40), nullable=False),
        sa.Column("buy_currency", sa.String(length=3), nullable=False),
        sa.Column("fixed_side", sa.String(length=4), nullable=False),
        sa.Column("fixed_amount", sa.BigInteger(), nullable=False),
        sa.Column("rate_type", sa.String(length=10), nullable=False),
        sa.Column("contract_id", sa.String(length=40), nullable=True),
        sa.Column("destination_country", sa.String(length=2), nullable=True),
        _tenant("sbx_fx_instruction"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_sbx_fx_instruction")),
        sa.UniqueConstraint("instruction_id", name=op.f("uq_sbx_fx_instruction_instruction_id")),
    )
    with op.batch_alter_table("sbx_fx_instruction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sbx_fx_instruction_tenant_id"), ["tenant_id"], unique=False
        )
    op.create_table(
        "sbx_fx_execution",
        sa.Column("pk", BIG_ID, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("journal_pk", BIG_ID, nullable=False),
        sa.Column("account_pk", BIG_ID, nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("instruction_id", sa.String(length=40), nullable=True),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("contract_id", sa.String(length=40), nullable=False),
        sa.Column("rate_type", sa.String(length=10), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=False),
        sa.Column("sell_currency", sa.String(length=3), nullable=False),
        sa.Column("sell_amount", sa.BigInteger(), nullable=False),
        sa.Column("buy_currency", sa.String(length=3), nullable=False),
        sa.Column("buy_amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("quoted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=False),
        _tenant("sbx_fx_execution"),
        sa.ForeignKeyConstraint(
            ["journal_pk"],
            ["sbx_journal.pk"],
            name=op.f("fk_sbx_fx_execution_journal_pk_sbx_journal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_pk"],
            ["sbx_account.pk"],
            name=op.f("fk_sbx_fx_execution_account_pk_sbx_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_sbx_fx_execution")),
        sa.UniqueConstraint("journal_pk", name=op.f("uq_sbx_fx_execution_journal_pk")),
    )
    with op.batch_alter_table("sbx_fx_execution", schema=None) as batch_op:
        for column in ("tenant_id", "account_pk", "payment_id", "instruction_id", "contract_id"):
            batch_op.create_index(
                batch_op.f(f"ix_sbx_fx_execution_{column}"), [column], unique=False
            )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("sbx_fx_execution")
    op.drop_table("sbx_fx_instruction")
    with op.batch_alter_table("sbx_fx_quote", schema=None) as batch_op:
        batch_op.drop_column("used_by")
