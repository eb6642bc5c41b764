"""A deal's audit events as sentences a person reads ("manager approved the sales manager
step: 'ok, strategic account'"), so nobody has to read JSON to know what happened.

Pure: an event's action, actor and data in, one sentence out. Amounts are written by the
`money` function the caller passes (the UI passes its locale-aware one). An action this
module does not know still gets a sentence (`describe`'s fallback), so a new event never
breaks the page; tests/unit/test_history_text.py checks that every action the code emits
has its own sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

MoneyWriter = Callable[[Any, Any], str]
Data = Mapping[str, Any]
Sentence = Callable[[str, Data, MoneyWriter], str]


def plain_money(amount: Any, currency: Any) -> str:
    """`1234.50 EUR`: the default, for callers without a locale."""
    return f"{amount} {currency or ''}".strip()


def who(actor: str) -> str:
    """`system` -> l2c; `customer:Jane Doe` -> the customer (Jane Doe); else the username."""
    if actor in ("", "system"):
        return "l2c"
    if actor == "customer" or actor.startswith("customer:"):
        name = actor.removeprefix("customer:")
        return "the customer" if name in ("", "customer") else f"the customer ({name})"
    return actor


def words(value: Any) -> str:
    """`sales_manager` -> `sales manager`; `AWAITING_APPROVAL` -> `awaiting approval`."""
    return str(value).replace("_", " ").lower()


def _quoted(text: Any, lead: str = ": ") -> str:
    return f"{lead}'{text}'" if text else ""


def _because(text: Any) -> str:
    return f" ({text})" if text else ""


def _step(data: Data) -> str:
    role = words(data.get("role") or "an approver")
    escalated = data.get("escalated_to")
    return f"the {role} step" + (f" (escalated to {words(escalated)})" if escalated else "")


def _subject(data: Data) -> str:
    """Approval steps of a change order or cancellation say so; a contract's say nothing."""
    subject = data.get("subject")
    return "" if not subject or subject == "contract" else f" of the {words(subject)}"


def _lines(lines: Any) -> str:
    if isinstance(lines, Mapping):
        return ", ".join(f"{qty} × {sku}" for sku, qty in lines.items())
    if isinstance(lines, list):
        shown = [line for line in lines if isinstance(line, dict)]
        return ", ".join(f"{line.get('quantity')} × {line.get('sku')}" for line in shown)
    return ""


def _lead_created(a: str, d: Data, m: MoneyWriter) -> str:
    found = d.get("lead")
    lead: Data = found if isinstance(found, Mapping) else {}
    company = lead.get("company", "a company")
    source = f" from {words(lead['source'])}" if lead.get("source") else ""
    score = d.get("score") or {}
    scored = f", scored {score['score']}" if isinstance(score, Mapping) and "score" in score else ""
    owner = f", owned by {d['owner']}" if d.get("owner") else ""
    return f"{a} entered the lead of {company}{source}{scored}{owner}."


def _qualified(a: str, d: Data, m: MoneyWriter) -> str:
    how = "automatically " if d.get("automatic") else ""
    return f"{a} {how}qualified the lead{_quoted(d.get('reason'))}."


def _disqualified(a: str, d: Data, m: MoneyWriter) -> str:
    how = "automatically " if d.get("automatic") else ""
    return f"{a} {how}disqualified the lead{_quoted(d.get('reason'))}."


def _approval(verb: str) -> Sentence:
    def sentence(a: str, d: Data, m: MoneyWriter) -> str:
        why = _quoted(d.get("comment")) or _because(d.get("reason"))
        return f"{a} {verb} {_step(d)}{_subject(d)}{why}."

    return sentence


def _money_in(d: Data, m: MoneyWriter, key: str = "amount") -> str:
    return m(d.get(key), d.get("currency"))


def _change_order(verb: str) -> Sentence:
    def sentence(a: str, d: Data, m: MoneyWriter) -> str:
        delta = d.get("delta_total")
        change = f" (change of the total {m(delta, d.get('currency'))})" if delta else ""
        why = _quoted(d.get("reason") if verb == "requested" else d.get("note"))
        return f"{a} {verb} change order {d.get('number', '')}{change}{why}."

    return sentence


def _cancellation(verb: str) -> Sentence:
    def sentence(a: str, d: Data, m: MoneyWriter) -> str:
        why = _quoted(d.get("comment")) or _quoted(d.get("reason"))
        return f"{a} {verb} the cancellation after invoicing{why}."

    return sentence


def _subscription(text: str) -> Sentence:
    def sentence(a: str, d: Data, m: MoneyWriter) -> str:
        return f"{a} {text.format(sku=d.get('sku', 'a subscription'), term=d.get('term', ''))}."

    return sentence


def _bank_line(text: str) -> Sentence:
    def sentence(a: str, d: Data, m: MoneyWriter) -> str:
        invoice = f" to invoice {d['invoice']}" if d.get("invoice") else ""
        return (
            f"{a} {text} bank line {d.get('n', '')} ({_money_in(d, m)}, "
            f"{d.get('bank_ref', '')}){invoice}{_because(d.get('reason'))}."
        )

    return sentence


SENTENCES: dict[str, Sentence] = {
    "lead.created": _lead_created,
    "lead.qualified": _qualified,
    "lead.disqualified": _disqualified,
    "lead.reminder_sent": lambda a, d, m: (
        f"{a} reminded {d.get('owner', 'the owner')} to qualify the lead."
    ),
    "lead.escalated": lambda a, d, m: (
        f"{a} escalated the unqualified lead of "
        f"{d.get('owner', 'its owner')} to the sales managers."
    ),
    "owner.changed": lambda a, d, m: (
        f"{a} reassigned the deal from {d.get('from')} to {d.get('to')}{_quoted(d.get('reason'))}."
    ),
    "stage.changed": lambda a, d, m: (
        f"{a} moved the deal to {words(d.get('stage', ''))}{_quoted(d.get('note'))}."
    ),
    "deal.blocked": lambda a, d, m: f"The deal is blocked{_quoted(d.get('reason'))}.",
    "deal.resumed": lambda a, d, m: "The deal is no longer blocked.",
    "quote.created": lambda a, d, m: (
        f"{a} wrote quote v{d.get('version')} ({m(d.get('total'), d.get('currency'))} gross)."
    ),
    "quote.proposed": lambda a, d, m: f"{a} sent quote v{d.get('version')} to the customer.",
    "quote.open": lambda a, d, m: f"{a} reopened quote v{d.get('version')}.",
    "quote.accepted": lambda a, d, m: (
        f"{a} accepted quote v{d.get('version')}{_quoted(d.get('reason'))}."
    ),
    "quote.rejected": lambda a, d, m: (
        f"{a} rejected quote v{d.get('version')}{_quoted(d.get('reason'))}."
    ),
    "quote.superseded": lambda a, d, m: (
        f"Quote v{d.get('version')} was replaced by a newer version{_because(d.get('reason'))}."
    ),
    "quote.expired": lambda a, d, m: f"Quote v{d.get('version')} expired unanswered.",
    "portal.link_sent": lambda a, d, m: (
        f"{a} sent the {d.get('action', 'portal')} link "
        f"(v{d.get('version')}) to {d.get('sent_to', 'the contact')}."
    ),
    "contract.drafted": lambda a, d, m: (
        f"{a} drafted contract v{d.get('version')}"
        + (
            f"; it needs approval by: {', '.join(words(r) for r in d['approval_roles'])}"
            if d.get("approval_roles")
            else "; it needs no approval"
        )
        + "."
    ),
    "contract.signed": lambda a, d, m: f"{a} signed contract v{d.get('version')}.",
    "approval.requested": _approval("was asked to decide"),
    "approval.waiting": _approval("queued"),
    "approval.pending": _approval("is waiting for"),
    "approval.approved": _approval("approved"),
    "approval.rejected": _approval("rejected"),
    "approval.withdrawn": _approval("withdrew"),
    "approval.escalated": _approval("escalated"),
    "cancellation.requested": _cancellation("asked finance to approve"),
    "cancellation.waiting": _cancellation("queued"),
    "cancellation.pending": _cancellation("is waiting for"),
    "cancellation.approved": _cancellation("approved"),
    "cancellation.rejected": _cancellation("rejected"),
    "cancellation.withdrawn": _cancellation("withdrew"),
    "change_order.requested": _change_order("requested"),
    "change_order.approved": _change_order("approved"),
    "change_order.rejected": _change_order("rejected"),
    "change_order.signed": _change_order("signed"),
    "order.created": lambda a, d, m: f"{a} created order {d.get('order_id', '')}.",
    "order.changed": lambda a, d, m: (
        f"{a} changed the order under change order "
        f"{d.get('change_order')}: {_lines(d.get('lines'))}."
    ),
    "order.cancelled": lambda a, d, m: f"{a} cancelled order {d.get('order_id', '')}.",
    "delivery.recorded": lambda a, d, m: (
        f"{a} recorded delivery {d.get('reference', '')}: {_lines(d.get('lines'))}."
    ),
    "billing.subscription_started": lambda a, d, m: (
        f"{a} started billing subscription "
        f"{d.get('sku', '')} ({d.get('periods')} {words(d.get('period', 'period'))} periods)."
    ),
    "invoice.issued": lambda a, d, m: (
        f"{a} issued invoice {d.get('number', '')} over "
        f"{m(d.get('total'), d.get('currency'))} gross, due {str(d.get('due_date', ''))[:10]}."
    ),
    "invoice.credit_applied": lambda a, d, m: (
        f"{a} applied {_money_in(d, m)} of the customer's credit to invoice {d.get('invoice', '')}."
    ),
    "invoice.written_off": lambda a, d, m: (
        f"{a} wrote off {_money_in(d, m)} of invoice "
        f"{d.get('number', '')}{_quoted(d.get('reason'))}."
    ),
    "payment.recorded": lambda a, d, m: (
        f"{a} recorded a payment of {_money_in(d, m)} for "
        f"invoice {d.get('invoice', '')} (reference {d.get('reference', '')})."
    ),
    "credit_note.issued": lambda a, d, m: (
        f"{a} issued credit note {d.get('number', '')} over "
        f"{m(d.get('amount'), d.get('currency'))} on invoice {d.get('invoice', '')}"
        f"{_quoted(d.get('reason'))}."
    ),
    "revenue.recognized": lambda a, d, m: f"{a} recognized {_money_in(d, m)} of revenue.",
    "revenue.reversed": lambda a, d, m: (
        f"{a} reversed {_money_in(d, m)} of deferred revenue{_because(d.get('reason'))}."
    ),
    "email.failed": lambda a, d, m: (
        f"The {words(d.get('kind', ''))} e-mail could not be sent{_because(d.get('error'))}."
    ),
    "subscription.activated": _subscription("activated subscription {sku}"),
    "subscription.changed": _subscription("changed subscription {sku}"),
    "subscription.renewed": _subscription("renewed subscription {sku} for term {term}"),
    "subscription.renewal_notice": _subscription("sent the renewal notice of {sku}"),
    "subscription.renewal_quoted": _subscription("sent the renewal quote of {sku}"),
    "subscription.renewal_confirmed": _subscription("confirmed the renewal of {sku}"),
    "subscription.cancelled_at_term_end": _subscription(
        "cancelled subscription {sku} at the end of its term"
    ),
    "subscription.ended": _subscription("ended subscription {sku}"),
    "customer.credit_terms_set": lambda a, d, m: f"{a} set the customer's credit terms.",
    "customer.details_set": lambda a, d, m: (
        f"{a} set the customer's address, country, VAT id or kind."
    ),
    "note.added": lambda a, d, m: f"{a} added a note.",
    "forecast.set": lambda a, d, m: (
        f"{a} forecast the deal as {words(d.get('category') or 'unknown')}, "
        f"closing on {d.get('close_date') or 'an unknown date'}"
        + (f" (was {words(d['previous_category'])})." if d.get("previous_category") else ".")
    ),
    "customer.credit_received": lambda a, d, m: (
        f"{a} kept {_money_in(d, m)} received beyond "
        f"the invoices as customer credit (bank reference {d.get('bank_ref', '')})."
    ),
    "customer.credit_owed": lambda a, d, m: (
        f"{a} kept {_money_in(d, m)} paid for what deal {d.get('deal_id', '')} will never "
        f"deliver as customer credit (credit note {d.get('credit_note', '')} on invoice "
        f"{d.get('invoice', '')})."
    ),
    "customer.credit_refunded": lambda a, d, m: (
        f"{a} refunded {_money_in(d, m)} of customer credit (reference {d.get('reference', '')})."
    ),
    "bank_statement.imported": lambda a, d, m: (
        f"{a} imported a {d.get('format', '')} bank statement of {d.get('lines', 0)} lines."
    ),
    "bank_line.matched": _bank_line("matched"),
    "bank_line.unmatched": _bank_line("left unmatched"),
    "bank_line.ignored": _bank_line("ignored"),
    "bank_line.settled": _bank_line("settled"),
    "bank_line.matched_by_hand": _bank_line("matched by hand"),
    "policy.changed": lambda a, d, m: (
        f"{a} changed the company policy from version "
        f"{d.get('from_version')} to {d.get('to_version')}{_quoted(d.get('note'))}."
    ),
    "email_template.changed": lambda a, d, m: (
        f"{a} changed the {words(d.get('template', ''))} "
        f"e-mail in language {d.get('language', '')}."
    ),
    "user.added": lambda a, d, m: (
        f"{a} added the user {d.get('username')} as {words(d.get('role', ''))}."
    ),
    "user.saved": lambda a, d, m: (
        f"{a} saved the user {d.get('username')} as {words(d.get('role', ''))} with a new password."
    ),
    "user.enabled": lambda a, d, m: f"{a} enabled the user {d.get('username')}.",
    "user.disabled": lambda a, d, m: f"{a} disabled the user {d.get('username')}.",
    "user.role_changed": lambda a, d, m: (
        f"{a} changed the role of {d.get('username')} from {words(d.get('from_role') or '')} "
        f"to {words(d.get('to_role', ''))}."
    ),
    "user.team_set": lambda a, d, m: (
        f"{a} put {d.get('username')} in the team {d['team']}."
        if d.get("team")
        else f"{a} took {d.get('username')} out of their team."
    ),
    "user.display_changed": lambda a, d, m: (
        f"{a} set the language of {d.get('username')} to {d.get('locale') or 'the default'} "
        f"and the time zone to {d.get('time_zone') or 'the default'}."
    ),
    "email_template.removed": lambda a, d, m: (
        f"{a} removed the {words(d.get('language', ''))} "
        f"override of the {words(d.get('template', ''))} e-mail."
    ),
}


def describe(action: str, actor: str, data: Data | None, money: MoneyWriter = plain_money) -> str:
    """One sentence for one audit event; an unknown action still reads as words."""
    a = who(actor)
    found = SENTENCES.get(action)
    if found is None:
        return f"{a}: {words(action.replace('.', ' '))}."
    return found(a, data or {}, money)
