"""Per-customer credit terms that finance sets: a limit in one currency, payment terms in
days (issue 14 item 6). NULL: none set, a deal's policy limit applies.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("credit_limit", sa.Numeric(asdecimal=True)))
    op.add_column("customers", sa.Column("credit_currency", sa.String(3)))
    op.add_column("customers", sa.Column("payment_terms_days", sa.Integer))
    op.create_check_constraint(
        "ck_customers_credit_terms",
        "customers",
        "(credit_limit IS NULL) = (credit_currency IS NULL)"
        " AND (credit_limit IS NULL) = (payment_terms_days IS NULL)"
        " AND (credit_limit IS NULL OR credit_limit >= 0)",
    )


def downgrade() -> None:
    op.drop_constraint("ck_customers_credit_terms", "customers")
    op.drop_column("customers", "payment_terms_days")
    op.drop_column("customers", "credit_currency")
    op.drop_column("customers", "credit_limit")
