"""Loans: drawn-down loans, their instalments and their events.

Revision ID: s0008
Revises: s0007

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "s0008"
down_revision: str | Sequence[str] | None = "s0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "sbx_loan",
        sa.Column("pk", BIG_ID, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("account_pk", BIG_ID, nullable=False),
        sa.Column("repayment_account_pk", BIG_ID, nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("credit", sa.BigInteger(), nullable=False),
        sa.Column("arrangement_fee", sa.BigInteger(), nullable=False),
        sa.Column("late_fee", sa.BigInteger(), nullable=False),
        sa.Column("rate", sa.String(length=16), nullable=False),
        sa.Column("day_count", sa.String(length=16), nullable=False),
        sa.Column("term", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fees_due", sa.BigInteger(), nullable=False),
        sa.Column("arrears_bucket", sa.String(length=8), nullable=True),
        sa.Column("collected_on", sa.Date(), nullable=True),
        sa.Column("opened_at", WHEN, nullable=False),
        sa.Column("settled_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["sbx_tenant.id"],
                                name=op.f("fk_sbx_loan_tenant_id_sbx_tenant"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["account_pk"], ["sbx_account.pk"],
                                name=op.f("fk_sbx_loan_account_pk_sbx_account"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["repayment_account_pk"], ["sbx_account.pk"],
                                name=op.f("fk_sbx_loan_repayment_account_pk_sbx_account"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_sbx_loan")),
        sa.UniqueConstraint("public_id", name=op.f("uq_sbx_loan_public_id")),
    )  # fmt: skip
    with op.batch_alter_table("sbx_loan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sbx_loan_tenant_id"), ["tenant_id"], unique=False)
    op.create_table(
        "sbx_loan_instalment",
        sa.Column("pk", BIG_ID, nullable=False),
        sa.Column("loan_pk", BIG_ID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("late_fee", sa.BigInteger(), nullable=False),
        sa.Column("due", sa.Boolean(), nullable=False),
        sa.Column("settled_early", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["loan_pk"], ["sbx_loan.pk"],
                                name=op.f("fk_sbx_loan_instalment_loan_pk_sbx_loan"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_sbx_loan_instalment")),
        sa.UniqueConstraint("loan_pk", "number", name=op.f("uq_sbx_loan_instalment_loan_pk")),
    )  # fmt: skip
    op.create_table(
        "sbx_loan_event",
        sa.Column("pk", BIG_ID, nullable=False),
        sa.Column("loan_pk", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", WHEN, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("information", sa.String(length=140), nullable=False),
        sa.ForeignKeyConstraint(["loan_pk"], ["sbx_loan.pk"],
                                name=op.f("fk_sbx_loan_event_loan_pk_sbx_loan"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_sbx_loan_event")),
    )  # fmt: skip
    with op.batch_alter_table("sbx_loan_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sbx_loan_event_loan_pk"), ["loan_pk"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("sbx_loan_event")
    op.drop_table("sbx_loan_instalment")
    op.drop_table("sbx_loan")
