"""Variable recurring payments: many payments under one domestic VRP consent.

Revision ID: 0011
Revises: 0010

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: Union[str, Sequence[str], None] = "0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "gw_vrp_payment",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("consent_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("debtor_account_id", sa.String(length=40), nullable=False),
        sa.Column("bank_payment_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=4), nullable=False),
        sa.Column("status_reason", sa.String(length=4), nullable=True),
        sa.Column("status_reason_description", sa.String(length=500), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settles_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["gw_consent.id"],
            name=op.f("fk_gw_vrp_payment_consent_id_gw_consent"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gw_vrp_payment")),
    )
    op.create_index(
        op.f("ix_gw_vrp_payment_client_id"), "gw_vrp_payment", ["client_id"], unique=False
    )
    op.create_index(
        op.f("ix_gw_vrp_payment_consent_id"), "gw_vrp_payment", ["consent_id"], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_gw_vrp_payment_consent_id"), table_name="gw_vrp_payment")
    op.drop_index(op.f("ix_gw_vrp_payment_client_id"), table_name="gw_vrp_payment")
    op.drop_table("gw_vrp_payment")
