"""Tax by the rules and legally complete invoices (issue 15 items 2 and 3): customers get an
address, a VAT id and business/consumer; invoices keep what they were issued with (seller
and buyer as they stood, tax point date, payment terms, bank details, the quote's number);
quotes get the number people read; credit notes keep their tax per category.

Existing quotes are numbered per year in the order their deals were first quoted; invoices
issued before keep NULL parties (their PDF shows the customer's name as before).

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("address", sa.Text))
    op.add_column("customers", sa.Column("vat_id", sa.String(40)))
    op.add_column(
        "customers", sa.Column("kind", sa.String(16), nullable=False, server_default="business")
    )
    op.create_check_constraint(
        "ck_customers_kind", "customers", "kind IN ('business', 'consumer')"
    )
    for column in (
        sa.Column("seller", JSONB),
        sa.Column("buyer", JSONB),
        sa.Column("tax_point_date", sa.Date),
        sa.Column("payment_terms_days", sa.Integer),
        sa.Column("iban", sa.String(34)),
        sa.Column("bic", sa.String(11)),
        sa.Column("quote_number", sa.String(40)),
    ):
        op.add_column("invoices", column)
    op.add_column(
        "credit_notes",
        sa.Column("tax_breakdown", JSONB, nullable=False, server_default="[]"),
    )
    op.add_column("quotes", sa.Column("number", sa.String(40)))
    op.execute(
        """
        WITH firsts AS (
            SELECT deal_id, min(created_at) AS first_at FROM quotes GROUP BY deal_id
        ), numbered AS (
            SELECT deal_id, extract(year FROM first_at AT TIME ZONE 'UTC')::int AS year,
                   row_number() OVER (PARTITION BY extract(year FROM first_at AT TIME ZONE 'UTC')
                                      ORDER BY first_at, deal_id) AS n
            FROM firsts
        )
        UPDATE quotes q
           SET number = 'Q-' || n.year || '-' || lpad(n.n::text, 6, '0') || '-v' || q.version
          FROM numbered n
         WHERE q.deal_id = n.deal_id
        """
    )
    op.execute(
        """
        UPDATE quotes SET document = jsonb_set(document, '{number}', to_jsonb(number))
        WHERE number IS NOT NULL
        """
    )
    op.execute(
        """
        INSERT INTO invoice_sequences (series, year, last)
        SELECT 'Q', extract(year FROM first_at AT TIME ZONE 'UTC')::int, count(*)
          FROM (SELECT deal_id, min(created_at) AS first_at FROM quotes GROUP BY deal_id) f
         GROUP BY 2
        ON CONFLICT (series, year) DO UPDATE SET last = EXCLUDED.last
        """
    )


def downgrade() -> None:
    op.execute("DELETE FROM invoice_sequences WHERE series = 'Q'")
    op.execute("UPDATE quotes SET document = document - 'number'")
    op.drop_column("quotes", "number")
    op.drop_column("credit_notes", "tax_breakdown")
    for name in (
        "quote_number",
        "bic",
        "iban",
        "payment_terms_days",
        "tax_point_date",
        "buyer",
        "seller",
    ):
        op.drop_column("invoices", name)
    op.drop_constraint("ck_customers_kind", "customers")
    op.drop_column("customers", "kind")
    op.drop_column("customers", "vat_id")
    op.drop_column("customers", "address")
