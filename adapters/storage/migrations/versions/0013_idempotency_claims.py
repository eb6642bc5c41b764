"""An Idempotency-Key is claimed before the work: its answer is NULL while pending (issue 13).

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("idempotency_keys", "status_code", nullable=True)
    op.alter_column("idempotency_keys", "response", nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM idempotency_keys WHERE status_code IS NULL")
    op.alter_column("idempotency_keys", "status_code", nullable=False)
    op.alter_column("idempotency_keys", "response", nullable=False)
