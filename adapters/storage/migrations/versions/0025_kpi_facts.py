"""KPIs from facts that stay small (issue 18): per UTC day (and owner or source, funnel step,
currency) counts and sums, kept current by triggers in the transaction of the change they
count, so a period of any length reads hundreds of rows, not millions. Each trigger takes
the changed row's old contribution away and adds its new one, so the facts equal the
straightforward queries over the base tables at every commit; `kpi_rebuild()` recomputes
them from those tables (the backfill here, and after a bulk load with triggers off).

Deals gain the length of their policy day (durations in KPIs are business days: a demo's
shortened day counts as a day), their sales cycle in those days, and the furthest funnel
step they reached (domain.kpis.FUNNEL_STEP, checked against this function by a test).

Revision ID: 0025
Revises: 0024
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

# domain.kpis.FUNNEL_STEP as it stood at this revision (tests/integration/test_kpi_facts.py
# checks they agree).
FUNNEL_STEP = {
    "QUALIFYING": 0,
    "QUOTING": 1,
    "AWAITING_APPROVAL": 1,
    "PROPOSED": 2,
    "AWAITING_SIGNATURE": 3,
    "FULFILLING": 4,
    "INVOICING": 4,
    "COLLECTING": 4,
    "WON": 5,
}
_STEP_CASE = " ".join(f"WHEN '{stage}' THEN {step}" for stage, step in FUNNEL_STEP.items())

COLUMNS = """
ALTER TABLE deals ADD COLUMN day_seconds numeric NOT NULL DEFAULT 86400
    CHECK (day_seconds > 0);
UPDATE deals SET day_seconds = extract(epoch FROM CAST(policy->>'day' AS interval))
    WHERE policy ? 'day' AND extract(epoch FROM CAST(policy->>'day' AS interval)) > 0;
ALTER TABLE deals ADD COLUMN cycle_days numeric
    GENERATED ALWAYS AS (extract(epoch FROM signed_at - created_at) / day_seconds) STORED;
ALTER TABLE deals ADD COLUMN furthest_step smallint;
CREATE INDEX ix_deals_signed_cycle ON deals (signed_at) INCLUDE (cycle_days)
    WHERE signed_at IS NOT NULL;
CREATE INDEX ix_deals_open_stage ON deals (stage, currency) INCLUDE (amount)
    WHERE closed_at IS NULL;
"""

TABLES = """
CREATE TABLE kpi_leads_by_owner (
    day date NOT NULL, owner varchar(64) NOT NULL,
    leads integer NOT NULL DEFAULT 0, signed integer NOT NULL DEFAULT 0,
    won integer NOT NULL DEFAULT 0,
    PRIMARY KEY (day, owner));
CREATE TABLE kpi_leads_by_source (
    day date NOT NULL, source varchar(32) NOT NULL,
    leads integer NOT NULL DEFAULT 0, signed integer NOT NULL DEFAULT 0,
    won integer NOT NULL DEFAULT 0,
    PRIMARY KEY (day, source));
CREATE TABLE kpi_funnel (
    day date NOT NULL, step smallint NOT NULL, deals integer NOT NULL DEFAULT 0,
    PRIMARY KEY (day, step));
CREATE TABLE kpi_days (
    day date PRIMARY KEY,
    signed integer NOT NULL DEFAULT 0, cycle_days numeric NOT NULL DEFAULT 0,
    lost integer NOT NULL DEFAULT 0,
    delivered integer NOT NULL DEFAULT 0, on_time integer NOT NULL DEFAULT 0,
    approvals integer NOT NULL DEFAULT 0, approval_hours numeric NOT NULL DEFAULT 0);
CREATE TABLE kpi_money (
    day date NOT NULL, currency varchar(3) NOT NULL,
    invoices integer NOT NULL DEFAULT 0, invoiced numeric NOT NULL DEFAULT 0,
    receivable_lines integer NOT NULL DEFAULT 0, receivable numeric NOT NULL DEFAULT 0,
    paid numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (day, currency));
CREATE TABLE kpi_payers (
    customer_id varchar(40) NOT NULL, currency varchar(3) NOT NULL, first_paid date NOT NULL,
    PRIMARY KEY (customer_id, currency));
CREATE INDEX ix_kpi_payers_first ON kpi_payers (currency, first_paid);
"""

# Each bump adds a (possibly negative) contribution to one fact row.
BUMPS = """
CREATE FUNCTION kpi_day(ts timestamptz) RETURNS date LANGUAGE sql IMMUTABLE AS
    $$ SELECT CAST(ts AT TIME ZONE 'UTC' AS date) $$;

CREATE FUNCTION kpi_funnel_step(stage text) RETURNS smallint LANGUAGE sql IMMUTABLE AS
    $$ SELECT CAST(CASE stage {step_case} END AS smallint) $$;

CREATE FUNCTION kpi_bump_leads(d deals, sign integer) RETURNS void LANGUAGE sql AS $$
    INSERT INTO kpi_leads_by_owner AS k (day, owner, leads, signed, won)
    VALUES (kpi_day(d.created_at), d.owner, sign,
            sign * CAST(d.signed_at IS NOT NULL AS integer),
            sign * CAST(d.stage = 'WON' AS integer))
    ON CONFLICT (day, owner) DO UPDATE SET leads = k.leads + excluded.leads,
        signed = k.signed + excluded.signed, won = k.won + excluded.won;
    INSERT INTO kpi_leads_by_source AS k (day, source, leads, signed, won)
    VALUES (kpi_day(d.created_at), d.source, sign,
            sign * CAST(d.signed_at IS NOT NULL AS integer),
            sign * CAST(d.stage = 'WON' AS integer))
    ON CONFLICT (day, source) DO UPDATE SET leads = k.leads + excluded.leads,
        signed = k.signed + excluded.signed, won = k.won + excluded.won;
$$;

CREATE FUNCTION kpi_bump_funnel(d deals, sign integer) RETURNS void LANGUAGE sql AS $$
    INSERT INTO kpi_funnel AS k (day, step, deals)
    SELECT kpi_day(d.created_at), d.furthest_step, sign WHERE d.furthest_step IS NOT NULL
    ON CONFLICT (day, step) DO UPDATE SET deals = k.deals + excluded.deals;
$$;

CREATE FUNCTION kpi_bump_days(
    ts timestamptz, signed integer, cycle_days numeric, lost integer, delivered integer,
    on_time integer, approvals integer, approval_hours numeric
) RETURNS void LANGUAGE sql AS $$
    INSERT INTO kpi_days AS k
        (day, signed, cycle_days, lost, delivered, on_time, approvals, approval_hours)
    VALUES (kpi_day(ts), signed, cycle_days, lost, delivered, on_time, approvals,
            approval_hours)
    ON CONFLICT (day) DO UPDATE SET signed = k.signed + excluded.signed,
        cycle_days = k.cycle_days + excluded.cycle_days, lost = k.lost + excluded.lost,
        delivered = k.delivered + excluded.delivered, on_time = k.on_time + excluded.on_time,
        approvals = k.approvals + excluded.approvals,
        approval_hours = k.approval_hours + excluded.approval_hours;
$$;

CREATE FUNCTION kpi_bump_closing(d deals, sign integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF d.signed_at IS NOT NULL THEN
        PERFORM kpi_bump_days(d.signed_at, sign, sign * d.cycle_days, 0, 0, 0, 0, 0);
    END IF;
    IF d.stage = 'LOST' AND d.closed_at IS NOT NULL THEN
        PERFORM kpi_bump_days(d.closed_at, 0, 0, sign, 0, 0, 0, 0);
    END IF;
END $$;

CREATE FUNCTION kpi_bump_money(
    ts timestamptz, currency text, invoices integer, invoiced numeric,
    receivable_lines integer, receivable numeric, paid numeric
) RETURNS void LANGUAGE sql AS $$
    INSERT INTO kpi_money AS k
        (day, currency, invoices, invoiced, receivable_lines, receivable, paid)
    VALUES (kpi_day(ts), currency, invoices, invoiced, receivable_lines, receivable, paid)
    ON CONFLICT (day, currency) DO UPDATE SET invoices = k.invoices + excluded.invoices,
        invoiced = k.invoiced + excluded.invoiced,
        receivable_lines = k.receivable_lines + excluded.receivable_lines,
        receivable = k.receivable + excluded.receivable, paid = k.paid + excluded.paid;
$$;

CREATE FUNCTION kpi_recount_payer(customer text, cur text) RETURNS void LANGUAGE sql AS $$
    DELETE FROM kpi_payers WHERE customer_id = customer AND currency = cur;
    INSERT INTO kpi_payers (customer_id, currency, first_paid)
    SELECT customer, cur, kpi_day(min(p.received_at)) FROM payments p
    JOIN invoices i ON i.number = p.invoice_number
    WHERE i.customer_id = customer AND p.currency = cur
    HAVING count(*) > 0;
$$;
""".format(step_case=_STEP_CASE)

# The triggers: an UPDATE takes a part's old contribution away and adds its new one only
# when what that part reads changed, so most updates touch no fact row at all.
TRIGGERS = """
CREATE FUNCTION kpi_deal_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM kpi_bump_leads(NEW, 1);
        PERFORM kpi_bump_funnel(NEW, 1);
        PERFORM kpi_bump_closing(NEW, 1);
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM kpi_bump_leads(OLD, -1);
        PERFORM kpi_bump_funnel(OLD, -1);
        PERFORM kpi_bump_closing(OLD, -1);
        RETURN NULL;
    END IF;
    IF (OLD.created_at, OLD.owner, OLD.source, OLD.signed_at IS NULL, OLD.stage = 'WON')
       IS DISTINCT FROM
       (NEW.created_at, NEW.owner, NEW.source, NEW.signed_at IS NULL, NEW.stage = 'WON') THEN
        PERFORM kpi_bump_leads(OLD, -1);
        PERFORM kpi_bump_leads(NEW, 1);
    END IF;
    IF (OLD.created_at, OLD.furthest_step) IS DISTINCT FROM (NEW.created_at, NEW.furthest_step)
    THEN
        PERFORM kpi_bump_funnel(OLD, -1);
        PERFORM kpi_bump_funnel(NEW, 1);
    END IF;
    IF (OLD.signed_at, OLD.cycle_days, OLD.stage = 'LOST', OLD.closed_at)
       IS DISTINCT FROM (NEW.signed_at, NEW.cycle_days, NEW.stage = 'LOST', NEW.closed_at) THEN
        PERFORM kpi_bump_closing(OLD, -1);
        PERFORM kpi_bump_closing(NEW, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER deals_kpi AFTER INSERT OR DELETE OR UPDATE OF
    created_at, owner, source, stage, signed_at, closed_at, day_seconds, furthest_step
    ON deals FOR EACH ROW EXECUTE FUNCTION kpi_deal_changed();

CREATE FUNCTION kpi_stage_reached() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    step smallint := kpi_funnel_step(NEW.stage);
BEGIN
    IF step IS NOT NULL THEN
        UPDATE deals SET furthest_step = step
        WHERE deal_id = NEW.deal_id AND (furthest_step IS NULL OR furthest_step < step);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER stage_changes_kpi AFTER INSERT ON stage_changes
    FOR EACH ROW EXECUTE FUNCTION kpi_stage_reached();

CREATE FUNCTION kpi_order_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.fulfilled_at IS NOT NULL THEN
        PERFORM kpi_bump_days(OLD.fulfilled_at, 0, 0, 0, -1,
                              -CAST(OLD.fulfilled_at <= OLD.due_date AS integer), 0, 0);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.fulfilled_at IS NOT NULL THEN
        PERFORM kpi_bump_days(NEW.fulfilled_at, 0, 0, 0, 1,
                              CAST(NEW.fulfilled_at <= NEW.due_date AS integer), 0, 0);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER orders_kpi AFTER INSERT OR DELETE OR UPDATE OF fulfilled_at, due_date
    ON orders FOR EACH ROW EXECUTE FUNCTION kpi_order_changed();

CREATE FUNCTION kpi_invoice_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM kpi_bump_money(OLD.issued_at, OLD.currency, -1, -OLD.total, 0, 0, 0);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM kpi_bump_money(NEW.issued_at, NEW.currency, 1, NEW.total, 0, 0, 0);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER invoices_kpi AFTER INSERT OR DELETE OR UPDATE OF issued_at, currency, total
    ON invoices FOR EACH ROW EXECUTE FUNCTION kpi_invoice_changed();

CREATE FUNCTION kpi_payment_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM kpi_bump_money(OLD.received_at, OLD.currency, 0, 0, 0, 0, -OLD.amount);
        PERFORM kpi_recount_payer(
            (SELECT customer_id FROM invoices WHERE number = OLD.invoice_number), OLD.currency);
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM kpi_bump_money(NEW.received_at, NEW.currency, 0, 0, 0, 0, NEW.amount);
        INSERT INTO kpi_payers AS k (customer_id, currency, first_paid)
        SELECT customer_id, NEW.currency, kpi_day(NEW.received_at) FROM invoices
        WHERE number = NEW.invoice_number
        ON CONFLICT (customer_id, currency)
            DO UPDATE SET first_paid = least(k.first_paid, excluded.first_paid);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM kpi_bump_money(NEW.received_at, NEW.currency, 0, 0, 0, 0, NEW.amount);
        PERFORM kpi_recount_payer(
            (SELECT customer_id FROM invoices WHERE number = NEW.invoice_number), NEW.currency);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER payments_kpi AFTER INSERT OR DELETE OR UPDATE OF
    invoice_number, amount, currency, received_at
    ON payments FOR EACH ROW EXECUTE FUNCTION kpi_payment_changed();

-- The ledger is append-only (0002): a line is counted once, when it is written.
CREATE FUNCTION kpi_ledger_line_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.account = 'accounts_receivable' THEN
        PERFORM kpi_bump_money(e.posted_at, e.currency, 0, 0, 1, NEW.debit - NEW.credit, 0)
        FROM journal_entries e WHERE e.entry_id = NEW.entry_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER journal_lines_kpi AFTER INSERT ON journal_lines
    FOR EACH ROW EXECUTE FUNCTION kpi_ledger_line_written();

-- Approval turnaround in business hours: 24 to a policy day.
CREATE FUNCTION kpi_approval_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.decided_at IS NOT NULL
       AND OLD.requested_at IS NOT NULL AND NOT OLD.carried_over THEN
        PERFORM kpi_bump_days(OLD.decided_at, 0, 0, 0, 0, 0, -1,
            -(extract(epoch FROM OLD.decided_at - OLD.requested_at) * 24 / d.day_seconds))
        FROM deals d WHERE d.deal_id = OLD.deal_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.decided_at IS NOT NULL
       AND NEW.requested_at IS NOT NULL AND NOT NEW.carried_over THEN
        PERFORM kpi_bump_days(NEW.decided_at, 0, 0, 0, 0, 0, 1,
            extract(epoch FROM NEW.decided_at - NEW.requested_at) * 24 / d.day_seconds)
        FROM deals d WHERE d.deal_id = NEW.deal_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER approval_steps_kpi AFTER INSERT OR DELETE OR UPDATE OF
    requested_at, decided_at, carried_over
    ON approval_steps FOR EACH ROW EXECUTE FUNCTION kpi_approval_changed();
"""

# The facts recomputed from the base tables: the backfill, and the one definition a bulk
# load (bench/kpis.py, with triggers off) calls afterwards.
REBUILD = """
CREATE FUNCTION kpi_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE deals d SET furthest_step = f.step FROM (
        SELECT deal_id, max(kpi_funnel_step(stage)) AS step FROM stage_changes
        GROUP BY deal_id) f
    WHERE f.deal_id = d.deal_id AND d.furthest_step IS DISTINCT FROM f.step;
    TRUNCATE kpi_leads_by_owner, kpi_leads_by_source, kpi_funnel, kpi_days, kpi_money,
             kpi_payers;
    INSERT INTO kpi_leads_by_owner (day, owner, leads, signed, won)
    SELECT kpi_day(created_at), owner, count(*), count(signed_at),
           count(*) FILTER (WHERE stage = 'WON')
    FROM deals GROUP BY 1, 2;
    INSERT INTO kpi_leads_by_source (day, source, leads, signed, won)
    SELECT kpi_day(created_at), source, count(*), count(signed_at),
           count(*) FILTER (WHERE stage = 'WON')
    FROM deals GROUP BY 1, 2;
    INSERT INTO kpi_funnel (day, step, deals)
    SELECT kpi_day(created_at), furthest_step, count(*) FROM deals
    WHERE furthest_step IS NOT NULL GROUP BY 1, 2;
    INSERT INTO kpi_days AS k
        (day, signed, cycle_days, lost, delivered, on_time, approvals, approval_hours)
    SELECT day, sum(signed), sum(cycle_days), sum(lost), sum(delivered), sum(on_time),
           sum(approvals), sum(approval_hours)
    FROM (
        SELECT kpi_day(signed_at) AS day, count(*) AS signed, sum(cycle_days) AS cycle_days,
               0 AS lost, 0 AS delivered, 0 AS on_time, 0 AS approvals, 0 AS approval_hours
        FROM deals WHERE signed_at IS NOT NULL GROUP BY 1
        UNION ALL
        SELECT kpi_day(closed_at), 0, 0, count(*), 0, 0, 0, 0
        FROM deals WHERE stage = 'LOST' AND closed_at IS NOT NULL GROUP BY 1
        UNION ALL
        SELECT kpi_day(fulfilled_at), 0, 0, 0, count(*),
               count(*) FILTER (WHERE fulfilled_at <= due_date), 0, 0
        FROM orders WHERE fulfilled_at IS NOT NULL GROUP BY 1
        UNION ALL
        SELECT kpi_day(a.decided_at), 0, 0, 0, 0, 0, count(*),
               sum(extract(epoch FROM a.decided_at - a.requested_at) * 24 / d.day_seconds)
        FROM approval_steps a JOIN deals d ON d.deal_id = a.deal_id
        WHERE a.decided_at IS NOT NULL AND a.requested_at IS NOT NULL AND NOT a.carried_over
        GROUP BY 1
    ) parts GROUP BY day;
    INSERT INTO kpi_money AS k
        (day, currency, invoices, invoiced, receivable_lines, receivable, paid)
    SELECT day, currency, sum(invoices), sum(invoiced), sum(receivable_lines),
           sum(receivable), sum(paid)
    FROM (
        SELECT kpi_day(issued_at) AS day, currency, count(*) AS invoices,
               sum(total) AS invoiced, 0 AS receivable_lines, 0 AS receivable, 0 AS paid
        FROM invoices GROUP BY 1, 2
        UNION ALL
        SELECT kpi_day(e.posted_at), e.currency, 0, 0, count(*), sum(l.debit - l.credit), 0
        FROM journal_lines l JOIN journal_entries e ON e.entry_id = l.entry_id
        WHERE l.account = 'accounts_receivable' GROUP BY 1, 2
        UNION ALL
        SELECT kpi_day(received_at), currency, 0, 0, 0, 0, sum(amount)
        FROM payments GROUP BY 1, 2
    ) parts GROUP BY day, currency;
    INSERT INTO kpi_payers (customer_id, currency, first_paid)
    SELECT i.customer_id, p.currency, kpi_day(min(p.received_at))
    FROM payments p JOIN invoices i ON i.number = p.invoice_number
    GROUP BY 1, 2;
END $$;
SELECT kpi_rebuild();
"""

FUNCTIONS = (
    "kpi_rebuild()",
    "kpi_approval_changed()",
    "kpi_ledger_line_written()",
    "kpi_payment_changed()",
    "kpi_invoice_changed()",
    "kpi_order_changed()",
    "kpi_stage_reached()",
    "kpi_deal_changed()",
    "kpi_recount_payer(text, text)",
    "kpi_bump_money(timestamptz, text, integer, numeric, integer, numeric, numeric)",
    "kpi_bump_closing(deals, integer)",
    "kpi_bump_days(timestamptz, integer, numeric, integer, integer, integer, integer, numeric)",
    "kpi_bump_funnel(deals, integer)",
    "kpi_bump_leads(deals, integer)",
    "kpi_funnel_step(text)",
    "kpi_day(timestamptz)",
)
TRIGGERS_ON = (
    ("approval_steps_kpi", "approval_steps"),
    ("journal_lines_kpi", "journal_lines"),
    ("payments_kpi", "payments"),
    ("invoices_kpi", "invoices"),
    ("orders_kpi", "orders"),
    ("stage_changes_kpi", "stage_changes"),
    ("deals_kpi", "deals"),
)


def upgrade() -> None:
    for script in (COLUMNS, TABLES, BUMPS, TRIGGERS, REBUILD):
        op.execute(script)


def downgrade() -> None:
    for trigger, table in TRIGGERS_ON:
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
    op.execute(
        "DROP TABLE kpi_payers, kpi_money, kpi_days, kpi_funnel, kpi_leads_by_source, "
        "kpi_leads_by_owner"
    )
    op.execute("DROP INDEX ix_deals_open_stage")
    op.execute("DROP INDEX ix_deals_signed_cycle")
    op.execute("ALTER TABLE deals DROP COLUMN furthest_step, DROP COLUMN cycle_days")
    op.execute("ALTER TABLE deals DROP COLUMN day_seconds")
