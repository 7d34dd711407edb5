"""Pending payment orders: a PDNG order's decision and when it takes effect, and the
multiple-authorisation flow of a business's payment.

Revision ID: 0013
Revises: 0011

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: Union[str, Sequence[str], None] = "0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("gw_payment_order") as batch:
        batch.add_column(sa.Column("decision", sa.String(length=4), nullable=True))
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("multi_authorisation", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("gw_payment_order") as batch:
        batch.drop_column("multi_authorisation")
        batch.drop_column("decided_at")
        batch.drop_column("decision")
