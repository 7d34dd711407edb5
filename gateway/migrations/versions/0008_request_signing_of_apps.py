"""Whether an app must sign its payment, VRP and funds-confirmation requests (OBIE message
signing, x-jws-signature): every existing app must, as production apps always do.

Revision ID: 0008
Revises: 0007

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: Union[str, Sequence[str], None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("ptn_app", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("request_signing", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("ptn_app", schema=None) as batch_op:
        batch_op.drop_column("request_signing")
