"""Financed loans: the loan each accepted loan application drew down, and its partner.

Revision ID: 0014
Revises: 0013

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: Union[str, Sequence[str], None] = "0013"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "gw_financed_loan",
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("consent_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("offer_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["ptn_app.client_id"],
            name=op.f("fk_gw_financed_loan_client_id_ptn_app"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["gw_consent.id"],
            name=op.f("fk_gw_financed_loan_consent_id_gw_consent"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("loan_id", name=op.f("pk_gw_financed_loan")),
        sa.UniqueConstraint("consent_id", name=op.f("uq_gw_financed_loan_consent_id")),
    )
    with op.batch_alter_table("gw_financed_loan", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gw_financed_loan_client_id"), ["client_id"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("gw_financed_loan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gw_financed_loan_client_id"))
    op.drop_table("gw_financed_loan")
