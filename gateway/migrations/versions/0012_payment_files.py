"""Payment files: the file uploaded for a file payment consent, and what became of each of its
transactions.

Revision ID: 0012
Revises: 0010

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: Union[str, Sequence[str], None] = "0011"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "gw_payment_file",
        sa.Column("consent_id", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("transactions", sa.JSON(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["gw_consent.id"],
            name=op.f("fk_gw_payment_file_consent_id_gw_consent"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("consent_id", name=op.f("pk_gw_payment_file")),
    )
    op.create_table(
        "gw_file_transaction",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("instruction_id", sa.String(length=35), nullable=False),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("creditor_name", sa.String(length=350), nullable=False),
        sa.Column("creditor_scheme", sa.String(length=40), nullable=False),
        sa.Column("creditor_identification", sa.String(length=256), nullable=False),
        sa.Column("bank_payment_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=4), nullable=False),
        sa.Column("status_reason", sa.String(length=4), nullable=True),
        sa.Column("settles_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["gw_payment_order.id"],
            name=op.f("fk_gw_file_transaction_order_id_gw_payment_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gw_file_transaction")),
        sa.UniqueConstraint("order_id", "position", name=op.f("uq_gw_file_transaction_order_id")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("gw_file_transaction")
    op.drop_table("gw_payment_file")
