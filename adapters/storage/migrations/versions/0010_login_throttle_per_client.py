"""Login failures are counted per client address and user name (issue 13).

Revision ID: 0010
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "login_failures",
        sa.Column("client", sa.String(64), nullable=False, server_default=""),
    )
    op.create_index(
        "ix_login_failures_client", "login_failures", ["client", "username", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_login_failures_client", "login_failures")
    op.drop_column("login_failures", "client")
