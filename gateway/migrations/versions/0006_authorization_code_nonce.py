"""The nonce of an OpenID Connect authorization request, kept with its code for the ID token.

Revision ID: 0006
Revises: 0005

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("gw_authorization_code", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nonce", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("gw_authorization_code", schema=None) as batch_op:
        batch_op.drop_column("nonce")
