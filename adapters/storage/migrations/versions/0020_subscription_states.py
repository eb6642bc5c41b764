"""Subscription histories (issue 14 item 4): each state of a subscription (activation,
upgrade or downgrade, cancellation at term end, renewal) from the instant it takes effect;
the SaaS KPIs (MRR, ARR, NRR, gross churn) are read from them.

Revision ID: 0020
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscription_states",
        sa.Column("subscription_id", sa.String(120), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("deal_id", sa.String(40), sa.ForeignKey("deals.deal_id"), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("term_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", JSONB, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subscription_id", "seq"),
        sa.CheckConstraint("seq >= 1", name="ck_subscription_states_seq"),
    )
    op.create_index("ix_subscription_states_deal", "subscription_states", ["deal_id"])
    op.create_index("ix_subscription_states_customer", "subscription_states", ["customer_id"])


def downgrade() -> None:
    op.drop_table("subscription_states")
