"""The sales forecast (issue 19): the category and close date a rep or manager set per deal,
quotas per owner and period, snapshots of the forecast as it stood, and a team per user.

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("users", sa.Column("team", sa.String(64)))
    op.create_table(
        "deal_forecasts",
        sa.Column("deal_id", sa.String(40), sa.ForeignKey("deals.deal_id"), primary_key=True),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("close_date", sa.Date, nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", TS, nullable=False),
    )
    op.create_table(
        "quotas",
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("amount", sa.Numeric(asdecimal=True), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("owner", "period"),
    )
    op.create_table(
        "forecast_snapshots",
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("taken_at", TS, nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("closed", sa.Numeric(asdecimal=True), nullable=False),
        sa.Column("commit", sa.Numeric(asdecimal=True), nullable=False),
        sa.Column("best_case", sa.Numeric(asdecimal=True), nullable=False),
        sa.Column("pipeline", sa.Numeric(asdecimal=True), nullable=False),
        sa.Column("expected", sa.Numeric(asdecimal=True), nullable=False),
        sa.Column("expected_low", sa.Numeric(asdecimal=True), nullable=False),
        sa.Column("expected_high", sa.Numeric(asdecimal=True), nullable=False),
        sa.PrimaryKeyConstraint("period", "taken_at", "owner", "currency"),
    )


def downgrade() -> None:
    op.drop_table("forecast_snapshots")
    op.drop_table("quotas")
    op.drop_table("deal_forecasts")
    op.drop_column("users", "team")
