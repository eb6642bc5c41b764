"""Indexes that fit each list's order and filters, so any page of any list is an index walk
(issue 18 item 3, keyset pages: adapters/storage/views/paging.py):

- invoices, newest first by (issued_at, number): `ix_invoices_issued_number`; filtered by
  status or customer, `ix_invoices_status_issued` and `ix_invoices_customer_issued` walk
  those rows in the list's order (by deal the few rows are sorted after `ix_invoices_deal`).
- customers by (name, customer_id): `ix_customers_name`.
- deals, newest first, filtered by owner (a rep's list) or by stage:
  `ix_deals_owner_created` and `ix_deals_stage_created` on (owner|stage, created_at,
  deal_id); unfiltered the existing `ix_deals_created` serves.
- the approval inbox, pending steps by (requested_at, deal_id, contract_version, idx):
  `ix_approval_steps_inbox`, partial on status = 'pending' so it stays as small as the inbox.
- a deal's audit history by seq: the unique (deal_id, seq) already serves it.

Revision ID: 0026
Revises: 0025
"""

from alembic import op
from sqlalchemy import text

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

INDEXES: list[tuple[str, str, list[str]]] = [
    ("ix_invoices_issued_number", "invoices", ["issued_at", "number"]),
    ("ix_invoices_status_issued", "invoices", ["status", "issued_at", "number"]),
    ("ix_invoices_customer_issued", "invoices", ["customer_id", "issued_at", "number"]),
    ("ix_customers_name", "customers", ["name", "customer_id"]),
    ("ix_deals_owner_created", "deals", ["owner", "created_at", "deal_id"]),
    ("ix_deals_stage_created", "deals", ["stage", "created_at", "deal_id"]),
]
INBOX = ["requested_at", "deal_id", "contract_version", "idx"]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.create_index(
        "ix_approval_steps_inbox",
        "approval_steps",
        INBOX,
        postgresql_where=text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_approval_steps_inbox", table_name="approval_steps")
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
