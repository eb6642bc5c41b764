"""Notes on deals and customers (issue 16): what people write down beside the process, each
one also an event in its deal's or customer's audit chain.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("note_id", sa.String(40), primary_key=True),
        sa.Column("deal_id", sa.String(40), sa.ForeignKey("deals.deal_id")),
        sa.Column("customer_id", sa.String(40), sa.ForeignKey("customers.customer_id")),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint(
            "(deal_id IS NULL) <> (customer_id IS NULL)", name="ck_notes_one_subject"
        ),
    )
    op.create_index("ix_notes_deal", "notes", ["deal_id", "created_at"])
    op.create_index("ix_notes_customer", "notes", ["customer_id", "created_at"])
    # The activity timeline reads a deal's e-mails by deal.
    op.create_index("ix_emails_deal", "emails", ["deal_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_emails_deal", table_name="emails")
    op.drop_table("notes")
