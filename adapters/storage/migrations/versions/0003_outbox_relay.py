"""The outbox is sent by a relay: when to try a row again, why the last try failed, and an
index that finds the pending rows without reading the sent ones.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("emails", sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
    op.add_column("emails", sa.Column("last_error", sa.Text()))
    op.create_index(
        "emails_pending",
        "emails",
        ["email_id"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("emails_pending", table_name="emails")
    op.drop_column("emails", "last_error")
    op.drop_column("emails", "next_attempt_at")
