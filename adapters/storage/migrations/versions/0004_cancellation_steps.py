"""Approval steps say what they approve: the contract, or the cancellation of a deal that
has invoices (finance decides, Step 10).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "approval_steps",
        sa.Column("subject", sa.String(16), nullable=False, server_default="contract"),
    )


def downgrade() -> None:
    op.drop_column("approval_steps", "subject")
