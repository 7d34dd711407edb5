"""The closed months the credit decision has summarised, and their grouped sums.

Revision ID: s0007
Revises: s0006

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "s0007"
down_revision: str | Sequence[str] | None = "s0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "sbx_summarised_month",
        sa.Column("account_pk", BIG_ID, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_pk"],
            ["sbx_account.pk"],
            name=op.f("fk_sbx_summarised_month_account_pk_sbx_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_pk", "month", name=op.f("pk_sbx_summarised_month")),
    )
    op.create_table(
        "sbx_month_sum",
        sa.Column("pk", BIG_ID, nullable=False),
        sa.Column("account_pk", BIG_ID, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("credit", sa.Boolean(), nullable=False),
        sa.Column("information", sa.String(length=140), nullable=False),
        sa.Column("reference", sa.String(length=35), nullable=True),
        sa.Column("btc_code", sa.String(length=35), nullable=True),
        sa.Column("btc_subcode", sa.String(length=35), nullable=True),
        sa.Column("proprietary_code", sa.String(length=35), nullable=True),
        sa.Column("merchant_name", sa.String(length=350), nullable=True),
        sa.Column("merchant_mcc", sa.String(length=4), nullable=True),
        sa.Column("counterparty_name", sa.String(length=350), nullable=True),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_pk"],
            ["sbx_account.pk"],
            name=op.f("fk_sbx_month_sum_account_pk_sbx_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_sbx_month_sum")),
    )
    with op.batch_alter_table("sbx_month_sum", schema=None) as batch_op:
        batch_op.create_index("ix_sbx_month_sum_account_month", ["account_pk", "month"])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("sbx_month_sum", schema=None) as batch_op:
        batch_op.drop_index("ix_sbx_month_sum_account_month")
    op.drop_table("sbx_month_sum")
    op.drop_table("sbx_summarised_month")
