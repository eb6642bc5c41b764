"""A token version per user: tokens name it, and a bump revokes the older ones (issue 13).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("token_version", sa.Integer, nullable=False, server_default="0")
    )


def downgrade() -> None:
    op.drop_column("users", "token_version")
