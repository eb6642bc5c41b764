"""Change orders of signed deals (issue 14 item 2): one row per change, its document as it
stands (requested, awaiting approval or signature, signed, rejected).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_orders",
        sa.Column("deal_id", sa.String(40), sa.ForeignKey("deals.deal_id"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("document", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("deal_id", "number"),
        sa.CheckConstraint("number >= 1", name="ck_change_orders_number"),
    )


def downgrade() -> None:
    op.drop_table("change_orders")
