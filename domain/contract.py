"""The contract drafted from an accepted quote: a fixed text and the SHA-256 that is signed."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from .quotes import Quote


class Signature(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    signed_at: datetime
    ip: str | None = None
    sha256: str


class Contract(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int
    quote_version: int
    body: str
    sha256: str
    drafted_at: datetime
    signature: Signature | None = None


def _plan_text(quote: Quote) -> str:
    plan = quote.billing_plan
    text = plan.kind.replace("_", " ")
    if plan.kind == "milestones":
        text += ": " + ", ".join(f"{m.percent} % at {m.trigger}" for m in plan.milestones)
    if plan.kind == "installments":
        text += f": {plan.count} installments every {plan.every_days} days"
    return text


def draft_contract(
    version: int, deal_id: str, customer: str, contact: str, quote: Quote, drafted_at: datetime
) -> Contract:
    """A plain-text contract: parties, lines, totals, billing plan, payment terms, dates."""
    lines = [
        f"- {line.sku} {line.name}: {line.quantity} x {line.unit_price} {quote.currency}"
        f", discount {line.discount_pct} %, net {line.net}, tax {line.tax}, total {line.total}"
        for line in quote.lines
    ]
    body = "\n".join(
        [
            f"SALES CONTRACT {deal_id}/v{version}",
            f"Drafted: {drafted_at.isoformat()}",
            "Seller: l2c Demo GmbH",
            f"Customer: {customer}, represented by {contact}",
            f"Based on quote version {quote.version} issued {quote.issued_at.isoformat()}",
            "",
            "Lines:",
            *lines,
            "",
            f"Subtotal: {quote.subtotal} {quote.currency}",
            f"Discount: {quote.discount_total} {quote.currency}",
            f"Tax: {quote.tax_total} {quote.currency}",
            f"Total: {quote.total} {quote.currency}",
            f"Billing plan: {_plan_text(quote)}",
            f"Payment terms: {quote.payment_terms_days} days from invoice date",
        ]
    )
    sha = hashlib.sha256(body.encode()).hexdigest()
    return Contract(
        version=version, quote_version=quote.version, body=body, sha256=sha, drafted_at=drafted_at
    )
