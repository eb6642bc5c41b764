"""Issue 16 (the UI frame): each user's locale and time zone for the pages they read, each
contact's language, and the admins' per-language overrides of the e-mails customers receive.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: the company's defaults (L2C_UI_LOCALE, L2C_UI_TIME_ZONE, L2C_DEFAULT_LANGUAGE).
    op.add_column("users", sa.Column("locale", sa.String(16)))
    op.add_column("users", sa.Column("time_zone", sa.String(64)))
    op.add_column("contacts", sa.Column("language", sa.String(2)))
    op.create_table(
        "email_templates",
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("template", "language"),
    )


def downgrade() -> None:
    op.drop_table("email_templates")
    op.drop_column("contacts", "language")
    op.drop_column("users", "time_zone")
    op.drop_column("users", "locale")
