"""Foreign-exchange quotes that international payments cite.

Revision ID: s0004
Revises: s0002

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "s0004"
down_revision: str | Sequence[str] | None = "s0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "sbx_fx_quote",
        sa.Column("pk", BIG_ID, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("corridor_id", sa.String(length=16), nullable=False),
        sa.Column("fixed_side", sa.String(length=4), nullable=False),
        sa.Column("mid_rate", sa.String(length=40), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=False),
        sa.Column("spread_bps", sa.Integer(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("sell_amount", sa.BigInteger(), nullable=False),
        sa.Column("buy_amount", sa.BigInteger(), nullable=False),
        sa.Column("lock", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settlement_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["sbx_tenant.id"],
            name=op.f("fk_sbx_fx_quote_tenant_id_sbx_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_sbx_fx_quote")),
        sa.UniqueConstraint("public_id", name=op.f("uq_sbx_fx_quote_public_id")),
    )
    with op.batch_alter_table("sbx_fx_quote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sbx_fx_quote_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("sbx_fx_quote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sbx_fx_quote_tenant_id"))
    op.drop_table("sbx_fx_quote")
