"""The schema, as SQLAlchemy Core tables. Alembic migrations (in migrations/) create it."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
TS = DateTime(timezone=True)
# Unconstrained numeric keeps the scale each amount is written with (always the currency's).
AMOUNT = Numeric(asdecimal=True)

users = Table(
    "users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("role", String(32), nullable=False),
    Column("email", String(320), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("created_at", TS, nullable=False),
    # Bumped on a password or role change, disabling and logout: older tokens stop working.
    Column("token_version", Integer, nullable=False, server_default="0"),
    # How the UI shows numbers and times to this user; NULL: the company's default.
    Column("locale", String(16)),
    Column("time_zone", String(64)),
    Column("team", String(64)),  # for the forecast's team roll-up (0028); NULL: no team
)

# Login tries counted as failures until they succeed, per client address and name
# (shared by every API process): adapters/storage/login_attempts.py.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("client", String(64), nullable=False, server_default=""),
    Column("username", String(64), nullable=False),
    Column("at", TS, nullable=False),
    Index("ix_login_failures_user", "username", "at"),
    Index("ix_login_failures_client", "client", "username", "at"),
)

# A country's leads go to its rep; leads from elsewhere go round-robin.
territories = Table(
    "territories",
    metadata,
    Column("country", String(2), primary_key=True),
    Column("username", String(64), ForeignKey("users.username"), nullable=False),
)

# The round-robin turn (one row).
assignment_turns = Table(
    "assignment_turns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("turn", BigInteger, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_key", String(200), nullable=False, unique=True),
    Column("email_domain", String(255)),
    Column("country", String(2)),
    Column("created_at", TS, nullable=False),
    # Credit terms finance set (domain/credit.py); all NULL: none, a deal's policy limit holds.
    Column("credit_limit", AMOUNT),
    Column("credit_currency", String(3)),
    Column("payment_terms_days", Integer),
    # What invoices and the tax rules need (domain/customers.py CustomerDetails; 0017).
    Column("address", Text),
    Column("vat_id", String(40)),
    Column("kind", String(16), nullable=False, server_default="business"),
    Index("ix_customers_email_domain", "email_domain"),
    Index("ix_customers_name", "name", "customer_id"),
)

contacts = Table(
    "contacts",
    metadata,
    Column("contact_id", String(40), primary_key=True),
    Column("customer_id", String(40), ForeignKey("customers.customer_id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("phone", String(40)),
    Column("created_at", TS, nullable=False),
    # ISO 639-1: picks the e-mail templates they receive; NULL: the company's default.
    Column("language", String(2)),
    UniqueConstraint("customer_id", "email", name="uq_contacts_customer_email"),
)

deals = Table(
    "deals",
    metadata,
    Column("deal_id", String(40), primary_key=True),
    Column("workflow_id", String(80), nullable=False, unique=True),
    Column("customer_id", String(40), ForeignKey("customers.customer_id"), nullable=False),
    Column("contact_id", String(40), ForeignKey("contacts.contact_id"), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("source", String(32), nullable=False),
    Column("email_key", String(320), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("score", Integer, nullable=False),
    Column("score_reasons", JSONB, nullable=False),
    Column("lead", JSONB, nullable=False),
    Column("policy", JSONB, nullable=False),
    Column("amount", AMOUNT),
    Column("currency", String(3)),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("signed_at", TS),
    Column("closed_at", TS),
    Column("close_reason", Text),
    Column("blocked", Text),
    # KPI facts (0025): durations are counted in the deal's policy days.
    Column("day_seconds", Numeric, nullable=False, server_default="86400"),
    Column(
        "cycle_days",
        Numeric,
        Computed("extract(epoch FROM signed_at - created_at) / day_seconds", persisted=True),
    ),
    Column("furthest_step", SmallInteger),  # set by a trigger on stage_changes
    Index("ix_deals_owner", "owner"),
    Index("ix_deals_stage", "stage"),
    Index("ix_deals_customer", "customer_id"),
    Index("ix_deals_created", "created_at", "deal_id"),
    Index("ix_deals_owner_created", "owner", "created_at", "deal_id"),
    Index("ix_deals_stage_created", "stage", "created_at", "deal_id"),
    Index("ix_deals_signed", "signed_at"),
    Index("ix_deals_closed", "closed_at"),
    # One open deal per contact e-mail: a second lead of an open deal is a duplicate.
    Index(
        "uq_deals_open_email", "email_key", unique=True, postgresql_where=text("closed_at IS NULL")
    ),
)

stage_changes = Table(
    "stage_changes",
    metadata,
    Column("deal_id", String(40), ForeignKey("deals.deal_id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("stage", String(32), nullable=False),
    Column("at", TS, nullable=False),
    Column("note", Text),
    PrimaryKeyConstraint("deal_id", "seq"),
    Index("ix_stage_changes_stage", "stage", "deal_id"),
)

quotes = Table(
    "quotes",
    metadata,
    Column("deal_id", String(40), ForeignKey("deals.deal_id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", AMOUNT, nullable=False),
    Column("status", String(16), nullable=False),
    Column("document", JSONB, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("number", String(40)),  # "Q-2026-000042-v2": the deal's number, then the version
    PrimaryKeyConstraint("deal_id", "version"),
)

contracts = Table(
    "contracts",
    metadata,
    Column("deal_id", String(40), ForeignKey("deals.deal_id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("quote_version", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("drafted_at", TS, nullable=False),
    Column("signed_name", String(200)),
    Column("signed_at", TS),
    Column("signed_ip", String(64)),
    Column("signed_sha256", String(64)),
    PrimaryKeyConstraint("deal_id", "version"),
)

approval_steps = Table(
    "approval_steps",
    metadata,
    Column("deal_id", String(40), ForeignKey("deals.deal_id"), nullable=False),
    Column("contract_version", Integer, nullable=False),
    Column("idx", Integer, nullable=False),
    Column("grp", Integer, nullable=False),
    Column("role", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("escalated_to", String(32)),
    Column("carried_over", Boolean, nullable=False),
    Column("reason", Text),
    Column("requested_at", TS),
    Column("decided_at", TS),
    Column("decided_by", String(64)),
    Column("comment", Text),
    Column("subject", String(16), nullable=False, server_default="contract"),
    PrimaryKeyConstraint("deal_id", "contract_version", "idx"),
    Index("ix_approval_steps_pending", "role", "status"),
    Index("ix_approval_steps_decided", "decided_at"),
    Index(
        "ix_approval_steps_inbox",
        "requested_at",
        "deal_id",
        "contract_version",
        "idx",
        postgresql_where=text("status = 'pending'"),
    ),
)

change_orders = Table(
    "change_orders",
    metadata,
    Column("deal_id", String(40), ForeignKey("deals.deal_id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("status", String(24), nullable=False),
    Column("document", JSONB, nullable=False),
    Column("updated_at", TS, nullable=False),
    PrimaryKeyConstraint("deal_id", "number"),
)

subscription_states = Table(
    "subscription_states",
    metadata,
    Column("subscription_id", String(120), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("deal_id", String(40), ForeignKey("deals.deal_id"), nullable=False),
    Column("customer_id", String(40), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("effective_from", TS, nullable=False),
    Column("term_end", TS, nullable=False),
    Column("state", JSONB, nullable=False),
    Column("recorded_at", TS, nullable=False),
    PrimaryKeyConstraint("subscription_id", "seq"),
    Index("ix_subscription_states_deal", "deal_id"),
    Index("ix_subscription_states_customer", "customer_id"),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(60), primary_key=True),
    Column("deal_id", String(40), ForeignKey("deals.deal_id"), nullable=False, unique=True),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("due_date", TS, nullable=False),
    Column("fulfilled_at", TS),
    Index("ix_orders_fulfilled", "fulfilled_at"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("deal_id", String(40), ForeignKey("deals.deal_id"), nullable=False),
    Column("reference", String(100), nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("delivered_at", TS, nullable=False),
    Column("recorded_by", String(64), nullable=False),
    PrimaryKeyConstraint("deal_id", "reference"),
)

# Gapless numbers per series (INV, CN) and year.
invoice_sequences = Table(
    "invoice_sequences",
    metadata,
    Column("series", String(8), nullable=False),
    Column("year", Integer, nullable=False),
    Column("last", Integer, nullable=False),
    PrimaryKeyConstraint("series", "year"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("number", String(40), primary_key=True),
    Column("deal_id", String(40), ForeignKey("deals.deal_id"), nullable=False),
    Column("customer_id", String(40), ForeignKey("customers.customer_id"), nullable=False),
    Column("billing_key", String(100), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("net_total", AMOUNT, nullable=False),
    Column("tax_total", AMOUNT, nullable=False),
    Column("total", AMOUNT, nullable=False),
    Column("paid", AMOUNT, nullable=False),
    Column("credited", AMOUNT, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("issued_at", TS, nullable=False),
    Column("due_date", TS, nullable=False),
    # As issued (0017; NULL on invoices issued before): the parties as they stood, the tax
    # point, the terms and account to pay to, and the accepted quote's number.
    Column("seller", JSONB),
    Column("buyer", JSONB),
    Column("tax_point_date", Date),
    Column("payment_terms_days", Integer),
    Column("iban", String(34)),
    Column("bic", String(11)),
    Column("quote_number", String(40)),
    UniqueConstraint("deal_id", "billing_key", name="uq_invoices_deal_billing_key"),
    Index("ix_invoices_deal", "deal_id"),
    Index("ix_invoices_customer", "customer_id"),
    Index("ix_invoices_status", "status"),
    Index("ix_invoices_issued", "issued_at"),
    Index("ix_invoices_issued_number", "issued_at", "number"),
    Index("ix_invoices_status_issued", "status", "issued_at", "number"),
    Index("ix_invoices_customer_issued", "customer_id", "issued_at", "number"),
)

payments = Table(
    "payments",
    metadata,
    Column("reference", String(100), primary_key=True),
    Column("invoice_number", String(40), ForeignKey("invoices.number"), nullable=False),
    Column("deal_id", String(40), ForeignKey("deals.deal_id"), nullable=False),
    Column("amount", AMOUNT, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("received_at", TS, nullable=False),
    Column("recorded_at", TS, nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Index("ix_payments_invoice", "invoice_number"),
    Index("ix_payments_received", "received_at"),
)

credit_notes = Table(
    "credit_notes",
    metadata,
    Column("number", String(40), primary_key=True),
    Column("invoice_number", String(40), ForeignKey("invoices.number"), nullable=False),
    Column("deal_id", String(40), ForeignKey("deals.deal_id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", AMOUNT, nullable=False),
    Column("net", AMOUNT, nullable=False),
    Column("tax", AMOUNT, nullable=False),
    Column("reason", Text, nullable=False),
    Column("request_key", String(200), nullable=False, unique=True),
    Column("tax_breakdown", JSONB, nullable=False, server_default="[]"),  # per category
    Column("issued_at", TS, nullable=False),
    Column("issued_by", String(64), nullable=False),
    Index("ix_credit_notes_invoice", "invoice_number"),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("entry_id", BigInteger, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("deal_id", String(40)),
    Column("memo", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("posted_at", TS, nullable=False),
    Index("ix_journal_entries_deal", "deal_id"),
    Index("ix_journal_entries_posted", "posted_at"),
)

journal_lines = Table(
    "journal_lines",
    metadata,
    Column("line_id", BigInteger, primary_key=True, autoincrement=True),
    Column("entry_id", BigInteger, ForeignKey("journal_entries.entry_id"), nullable=False),
    Column("account", String(40), nullable=False),
    Column("debit", AMOUNT, nullable=False),
    Column("credit", AMOUNT, nullable=False),
    Index("ix_journal_lines_entry", "entry_id"),
    Index("ix_journal_lines_account", "account"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("event_id", BigInteger, primary_key=True, autoincrement=True),
    Column("deal_id", String(40), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("event_key", String(200), nullable=False),
    Column("at", TS, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(64), nullable=False),
    Column("data", JSONB, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("deal_id", "seq", name="uq_audit_deal_seq"),
    UniqueConstraint("deal_id", "event_key", name="uq_audit_deal_key"),
)

# Each deal's signed checkpoint (domain/audit.py): deleting the last events shows.
audit_heads = Table(
    "audit_heads",
    metadata,
    Column("deal_id", String(40), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("legacy_upto", Integer, nullable=False, server_default="0"),
    Column("mac", String(64)),
)

emails = Table(
    "emails",
    metadata,
    Column("email_id", BigInteger, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("deal_id", String(40)),
    Column("kind", String(40), nullable=False),
    Column("recipients", JSONB, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("attachments", JSONB, nullable=False, server_default="[]"),
    Column("message_id", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", TS, nullable=False),
    Column("sent_at", TS),
    Column("next_attempt_at", TS),  # after a failed SMTP attempt: not before
    Column("last_error", Text),
    Index("emails_pending", "email_id", postgresql_where=text("status = 'pending'")),
    Index("ix_emails_deal", "deal_id", "created_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("username", String(64), nullable=False),
    Column("key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    # Both NULL while the first request is still being worked on (a claim).
    Column("status_code", Integer),
    Column("response", JSONB),
    Column("created_at", TS, nullable=False),
    PrimaryKeyConstraint("username", "key"),
)

# The company policy, one row per version (1, 2, ... without gaps): each new deal copies the
# newest (domain/policy.py). Version 1 is the code defaults, seeded by migration 0014.
policy_versions = Table(
    "policy_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("body", JSONB, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("note", Text),
    CheckConstraint("version >= 1", name="ck_policy_versions_positive"),
)

products = Table(
    "products",
    metadata,
    Column("sku", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("tax_rate", AMOUNT, nullable=False),
    Column("term_months", Integer),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("created_at", TS, nullable=False),
)

product_prices = Table(
    "product_prices",
    metadata,
    Column("sku", String(40), ForeignKey("products.sku"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("unit_price", AMOUNT, nullable=False),
    PrimaryKeyConstraint("sku", "currency"),
)

# Bank statements (docs/cash.md): one row per statement file, keyed by its identity, so the
# same statement imported twice is one.
bank_statements = Table(
    "bank_statements",
    metadata,
    Column("statement_id", String(40), primary_key=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("format", String(16), nullable=False),
    Column("account", String(64)),
    Column("imported_at", TS, nullable=False),
    Column("imported_by", String(64), nullable=False),
)

# Each line as booked by the bank, and what cash application decided for it. A bank
# reference is booked once: a repeat is `ignored` with `repeats` naming the first.
bank_statement_lines = Table(
    "bank_statement_lines",
    metadata,
    Column("statement_id", String(40), ForeignKey("bank_statements.statement_id"), nullable=False),
    Column("n", Integer, nullable=False),
    Column("line", JSONB, nullable=False),  # domain.cash_application.StatementLine
    Column("bank_ref", String(100), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", AMOUNT, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("repeats", Boolean, nullable=False, server_default="false"),
    Column("customer_id", String(40), ForeignKey("customers.customer_id")),
    Column("invoice_number", String(40), ForeignKey("invoices.number")),
    Column("allocations", JSONB, nullable=False, server_default="[]"),
    Column("credit", AMOUNT, nullable=False, server_default="0"),
    Column("decided_at", TS, nullable=False),
    Column("decided_by", String(64), nullable=False),
    Column("settled_at", TS),  # a matched line: its payments, credit and fee all booked
    PrimaryKeyConstraint("statement_id", "n"),
    Index("uq_bank_lines_ref", "bank_ref", unique=True, postgresql_where=text("NOT repeats")),
    Index("ix_bank_lines_unmatched", "status", postgresql_where=text("status = 'unmatched'")),
)

# Money held for a customer (domain/customer_credit.py), one row per move: received (+),
# applied to an invoice (-), refunded (-). Its balance per currency is the sum.
customer_credit_moves = Table(
    "customer_credit_moves",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("customer_id", String(40), ForeignKey("customers.customer_id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", AMOUNT, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("source", String(100), nullable=False),  # bank ref, invoice number, refund reference
    Column("at", TS, nullable=False),
    Column("actor", String(64), nullable=False),
    Index("ix_customer_credit_moves_customer", "customer_id", "currency"),
)

# Admins' overrides of the e-mails customers receive, per template and language
# (domain/email_templates.py); without one the built-in file is sent.
email_templates = Table(
    "email_templates",
    metadata,
    Column("template", String(64), primary_key=True),
    Column("language", String(2), primary_key=True),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", TS, nullable=False),
)

# What people write down about a deal or a customer (0022); each note is also an audit event.
notes = Table(
    "notes",
    metadata,
    Column("note_id", String(40), primary_key=True),
    Column("deal_id", String(40), ForeignKey("deals.deal_id")),
    Column("customer_id", String(40), ForeignKey("customers.customer_id")),
    Column("author", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    CheckConstraint("(deal_id IS NULL) <> (customer_id IS NULL)", name="ck_notes_one_subject"),
    Index("ix_notes_deal", "deal_id", "created_at"),
    Index("ix_notes_customer", "customer_id", "created_at"),
)

# A CSV import (issue 18): its report, and each valid, new row with the deal it starts.
lead_imports = Table(
    "lead_imports",
    metadata,
    Column("import_id", String(40), primary_key=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("to_create", Integer, nullable=False),
    Column("report", JSONB, nullable=False),
    Column("policy", JSONB, nullable=False),
    Column("finished_at", TS),
)

lead_import_deals = Table(
    "lead_import_deals",
    metadata,
    Column("import_id", String(40), ForeignKey("lead_imports.import_id")),
    Column("row", Integer, nullable=False),
    Column("deal_id", String(40), nullable=False),
    Column("deal", JSONB, nullable=False),
    Column("started", Boolean, nullable=False, server_default=text("false")),
    PrimaryKeyConstraint("import_id", "row"),
    Index("ix_lead_import_deals_pending", "import_id", "row", postgresql_where=text("NOT started")),
)

# Outbound webhooks (0023, docs/webhooks.md): the endpoints admins register, one delivery per
# endpoint and event (written with the audit event), and each attempt to deliver it.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("endpoint_id", String(40), primary_key=True),
    Column("url", Text, nullable=False),
    Column("events", JSONB, nullable=False),
    Column("description", Text),
    Column("secret_sealed", Text, nullable=False),  # AES-GCM under a key from L2C_SECRET_KEY
    Column("enabled", Boolean, nullable=False, server_default="true"),
    Column("disabled_reason", Text),
    Column("created_by", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(40), primary_key=True),
    Column("endpoint_id", String(40), ForeignKey("webhook_endpoints.endpoint_id"), nullable=False),
    Column("event_id", String(40), nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("deal_id", String(40), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    # A redelivery is a new generation; the relay starts each generation's workflow once.
    Column("generation", Integer, nullable=False, server_default="0"),
    Column("dispatched", Integer, nullable=False, server_default="-1"),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", TS, nullable=False),
    Column("last_attempt_at", TS),
    Column("delivered_at", TS),
    Column("failed_at", TS),
    UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_event"),
    Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at"),
    Index(
        "ix_webhook_deliveries_undispatched",
        "created_at",
        postgresql_where=text("dispatched < generation"),
    ),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("delivery_id", String(40), ForeignKey("webhook_deliveries.delivery_id")),
    Column("generation", Integer),
    Column("attempt", Integer),
    Column("at", TS, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
    PrimaryKeyConstraint("delivery_id", "generation", "attempt"),
)

# Win-probability models (0026, issue 19): the pickled domain.win_model.WinModel and its
# holdout metrics (WinModelMetrics as JSON); the latest trained_at answers.
win_models = Table(
    "win_models",
    metadata,
    Column("version", String(80), primary_key=True),
    Column("trained_at", TS, nullable=False),
    Column("training_deals", Integer, nullable=False),
    Column("metrics", JSONB, nullable=False),
    Column("model", LargeBinary, nullable=False),
    Index("ix_win_models_trained_at", "trained_at"),
)

# The sales forecast (0028, issue 19; domain/forecast.py): the category and close date a rep
# or manager set on an open deal, quotas per owner and period, and the forecast's snapshots.
deal_forecasts = Table(
    "deal_forecasts",
    metadata,
    Column("deal_id", String(40), ForeignKey("deals.deal_id"), primary_key=True),
    Column("category", String(16), nullable=False),
    Column("close_date", Date, nullable=False),
    Column("set_by", String(64), nullable=False),
    Column("set_at", TS, nullable=False),
)

quotas = Table(
    "quotas",
    metadata,
    Column("owner", String(64), nullable=False),
    Column("period", String(8), nullable=False),
    Column("amount", AMOUNT, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("set_by", String(64), nullable=False),
    Column("set_at", TS, nullable=False),
    PrimaryKeyConstraint("owner", "period"),
)

forecast_snapshots = Table(
    "forecast_snapshots",
    metadata,
    Column("period", String(8), nullable=False),
    Column("taken_at", TS, nullable=False),
    Column("owner", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("closed", AMOUNT, nullable=False),
    Column("commit", AMOUNT, nullable=False),
    Column("best_case", AMOUNT, nullable=False),
    Column("pipeline", AMOUNT, nullable=False),
    Column("expected", AMOUNT, nullable=False),
    Column("expected_low", AMOUNT, nullable=False),
    Column("expected_high", AMOUNT, nullable=False),
    PrimaryKeyConstraint("period", "taken_at", "owner", "currency"),
)
