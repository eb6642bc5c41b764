"""Bank statements and their lines, and money held for customers (issue 15 item 1,
docs/cash.md).

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
AMOUNT = sa.Numeric(asdecimal=True)


def upgrade() -> None:
    op.create_table(
        "bank_statements",
        sa.Column("statement_id", sa.String(40), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("account", sa.String(64)),
        sa.Column("imported_at", TS, nullable=False),
        sa.Column("imported_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "bank_statement_lines",
        sa.Column(
            "statement_id",
            sa.String(40),
            sa.ForeignKey("bank_statements.statement_id"),
            nullable=False,
        ),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("line", JSONB, nullable=False),
        sa.Column("bank_ref", sa.String(100), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", AMOUNT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("repeats", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("customer_id", sa.String(40), sa.ForeignKey("customers.customer_id")),
        sa.Column("invoice_number", sa.String(40), sa.ForeignKey("invoices.number")),
        sa.Column("allocations", JSONB, nullable=False, server_default="[]"),
        sa.Column("credit", AMOUNT, nullable=False, server_default="0"),
        sa.Column("decided_at", TS, nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("settled_at", TS),
        sa.PrimaryKeyConstraint("statement_id", "n"),
        sa.CheckConstraint("n >= 1", name="ck_bank_lines_n"),
        sa.CheckConstraint(
            "status IN ('matched', 'unmatched', 'ignored')", name="ck_bank_lines_status"
        ),
    )
    op.create_index(
        "uq_bank_lines_ref",
        "bank_statement_lines",
        ["bank_ref"],
        unique=True,
        postgresql_where=sa.text("NOT repeats"),
    )
    op.create_index(
        "ix_bank_lines_unmatched",
        "bank_statement_lines",
        ["status"],
        postgresql_where=sa.text("status = 'unmatched'"),
    )
    op.create_table(
        "customer_credit_moves",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column(
            "customer_id", sa.String(40), sa.ForeignKey("customers.customer_id"), nullable=False
        ),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", AMOUNT, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.CheckConstraint("amount <> 0", name="ck_customer_credit_moves_amount"),
    )
    op.create_index(
        "ix_customer_credit_moves_customer",
        "customer_credit_moves",
        ["customer_id", "currency"],
    )


def downgrade() -> None:
    op.drop_table("customer_credit_moves")
    op.drop_index("ix_bank_lines_unmatched", "bank_statement_lines")
    op.drop_index("uq_bank_lines_ref", "bank_statement_lines")
    op.drop_table("bank_statement_lines")
    op.drop_table("bank_statements")
