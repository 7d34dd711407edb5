"""Payment orders: the payment resources partners create under a payment consent.

Revision ID: 0010
Revises: 0009

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: Union[str, Sequence[str], None] = "0009"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "gw_payment_order",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("consent_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("family", sa.String(length=40), nullable=False),
        sa.Column("debtor_account_id", sa.String(length=40), nullable=False),
        sa.Column("bank_payment_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=4), nullable=False),
        sa.Column("status_reason", sa.String(length=4), nullable=True),
        sa.Column("status_reason_description", sa.String(length=500), nullable=True),
        sa.Column("initiation", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settles_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["gw_consent.id"],
            name=op.f("fk_gw_payment_order_consent_id_gw_consent"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gw_payment_order")),
        sa.UniqueConstraint("consent_id", name=op.f("uq_gw_payment_order_consent_id")),
    )
    op.create_index(
        op.f("ix_gw_payment_order_client_id"), "gw_payment_order", ["client_id"], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_gw_payment_order_client_id"), table_name="gw_payment_order")
    op.drop_table("gw_payment_order")
