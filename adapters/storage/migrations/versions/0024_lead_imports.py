"""Lead imports as durable background work (issue 18): the file's valid, new rows are stored
with the deal each will start, and a workflow starts them batch by batch, marking each row
started; the report (errors, duplicates) is kept for GET /imports/{id}.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lead_imports",
        sa.Column("import_id", sa.String(40), primary_key=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),  # data rows in the file
        sa.Column("to_create", sa.Integer, nullable=False),
        sa.Column("report", JSONB, nullable=False),  # errors and duplicate rows
        sa.Column("policy", JSONB, nullable=False),  # every deal's policy (kept once)
        sa.Column("finished_at", TS),
    )
    op.create_table(
        "lead_import_deals",
        sa.Column("import_id", sa.String(40), sa.ForeignKey("lead_imports.import_id")),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("deal_id", sa.String(40), nullable=False),
        sa.Column("deal", JSONB, nullable=False),  # the DealInput it starts, but its policy
        sa.Column("started", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("import_id", "row"),
    )
    op.create_index(
        "ix_lead_import_deals_pending",
        "lead_import_deals",
        ["import_id", "row"],
        postgresql_where=sa.text("NOT started"),
    )


def downgrade() -> None:
    op.drop_table("lead_import_deals")
    op.drop_table("lead_imports")
