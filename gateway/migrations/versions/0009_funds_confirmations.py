"""The answers given to CBPIIs' funds-confirmation requests (OBIE Confirmation of Funds v4.0).

Revision ID: 0009
Revises: 0008

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: Union[str, Sequence[str], None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "gw_funds_confirmation",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("consent_id", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=35), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("funds_available", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["gw_consent.id"],
            name=op.f("fk_gw_funds_confirmation_consent_id_gw_consent"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gw_funds_confirmation")),
        # One reference per consent; its leading column serves lookups by consent too.
        sa.UniqueConstraint(
            "consent_id", "reference", name=op.f("uq_gw_funds_confirmation_consent_id")
        ),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("gw_funds_confirmation")
