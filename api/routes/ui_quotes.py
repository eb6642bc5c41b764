"""The quote builder (a product picker, per-line quantity, discount, billing period and
auto-renewal, live totals drawn by static/quote.js for display only: the deal prices the
quote) and the approver's page with the quote in view.

The builder posts to POST /deals/{id}/quotes's command; the approval form to the deal
page's (ui_deals.py), so both refuse exactly as the JSON API does.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from domain.errors import DomainError, NotFound
from domain.money import MINOR_UNITS
from domain.quotes import Quote, QuoteRequest
from domain.users import Actor

from ..commands import deals, quotes
from ..deps import ServicesDep
from ..idempotency import Idempotency
from ..services import Services
from ..ui_auth import UiForm, UiSession, UiUser
from .ui import page, redirect, ui_router
from .ui_forms import PostedForm, new_form_id, parse

router = ui_router()
BLANK_ROWS = 3  # empty lines under the last quote's, for a page without script
MAX_ROWS = 200
PLANS = (
    ("on_delivery", "On delivery"),
    ("upfront", "Upfront, at signature"),
    ("milestones", "Share at signature, the rest on delivery"),
    ("installments", "Installments"),
)


def _rows(last: Quote | None) -> list[dict[str, Any]]:
    """The form's lines: the last quote's (a revision starts from it), then blank ones."""
    rows: list[dict[str, Any]] = [
        {
            "sku": line.sku,
            "quantity": line.quantity,
            "discount_pct": line.discount_pct,
            "billing_period": line.billing_period or "",
            "auto_renew": line.auto_renew,
        }
        for line in (last.lines if last else [])
    ]
    return rows + [{} for _ in range(BLANK_ROWS)]


def _builder(
    request: Request,
    session: UiSession,
    services: Services,
    deal_id: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    form = quotes.quote_form(services, session.user, deal_id)
    last = form.deal.quotes[-1] if form.deal.quotes else None
    values = values or _values_of(last)
    catalogue = {
        "products": [p.model_dump(mode="json") for p in form.products],
        "minor_units": MINOR_UNITS,
    }
    context = {
        "deal": form.deal,
        "products": form.products,
        "currencies": sorted({p.currency for p in form.products}),
        "plans": PLANS,
        "values": values,
        "errors": errors or {},
        "catalogue_json": json.dumps(catalogue),
    }
    return page(request, session, "sales/quote.html", context, status)


def _values_of(last: Quote | None) -> dict[str, Any]:
    values: dict[str, Any] = {"rows": _rows(last), "form_id": new_form_id()}
    if last is not None:
        plan = last.billing_plan.model_dump(mode="json")
        values.update(
            currency=last.currency,
            plan=plan["kind"],
            installments=plan.get("count", ""),
            every_days=plan.get("every_days", ""),
            signature_pct=(plan.get("milestones") or [{}])[0].get("percent", ""),
            payment_terms_days=last.payment_terms_days,
            valid_days=last.valid_days,
        )
    return values


@router.get("/deals/{deal_id}/quote")
def quote_builder(
    deal_id: str, request: Request, session: UiUser, services: ServicesDep
) -> HTMLResponse:
    return _builder(request, session, services, deal_id)


def _posted_rows(form: FormData) -> list[dict[str, Any]]:
    rows = []
    for i in range(MAX_ROWS + 1):
        if f"lines-{i}-sku" not in form:
            break
        rows.append(
            {
                "sku": str(form.get(f"lines-{i}-sku", "")),
                "quantity": str(form.get(f"lines-{i}-quantity", "")),
                "discount_pct": str(form.get(f"lines-{i}-discount_pct", "")),
                "billing_period": str(form.get(f"lines-{i}-billing_period", "")),
                "auto_renew": f"lines-{i}-auto_renew" in form,
            }
        )
    return rows


def _plan(form: FormData) -> dict[str, Any]:
    kind = str(form.get("plan", "on_delivery"))
    if kind == "installments":
        return {
            "kind": kind,
            "count": form.get("installments"),
            "every_days": form.get("every_days"),
        }
    if kind == "milestones":
        share = str(form.get("signature_pct", "")).strip() or "0"
        return {
            "kind": kind,
            "milestones": [
                {"percent": share, "trigger": "signature"},
                {"percent": str(100 - _number(share)), "trigger": "delivery_complete"},
            ],
        }
    return {"kind": kind}


def _number(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        return Decimal(0)


def _request_of(form: FormData, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON body POST /deals/{id}/quotes would get; lines without a product are left out."""
    lines = [
        {
            "sku": r["sku"],
            "quantity": r["quantity"],
            "discount_pct": r["discount_pct"] or "0",
            **({"billing_period": r["billing_period"]} if r["billing_period"] else {}),
            **({"auto_renew": True} if r["auto_renew"] else {}),
        }
        for r in rows
        if r["sku"]
    ]
    body: dict[str, Any] = {
        "currency": form.get("currency"),
        "lines": lines,
        "billing_plan": _plan(form),
    }
    for field in ("payment_terms_days", "valid_days"):
        if str(form.get(field, "")).strip():
            body[field] = form.get(field)
    return body


@router.post("/deals/{deal_id}/quote", response_model=None)
def submit_quote(
    deal_id: str, request: Request, session: UiForm, services: ServicesDep, form: PostedForm
) -> Response:
    """Refused input shows the form again with each field's reason; nothing is sent."""
    rows = _posted_rows(form)
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["rows"] = rows
    body, errors = parse(QuoteRequest, _request_of(form, rows))
    if body is None:
        return _builder(request, session, services, deal_id, values, errors, 422)
    # The form's id is its Idempotency-Key: a double click sends one quote version.
    key = str(form.get("form_id", "")) or None
    once = Idempotency(key, session.user.username, f"UI {request.url.path}", services)
    try:
        answer = once.respond(body, 201, quotes.submit_quote(services, session.user, deal_id, body))
        quote = Quote.model_validate_json(bytes(answer.body))
    except NotFound:
        raise
    except DomainError as err:
        field = ".".join(str(p) for p in err.field or ("form",))
        return _builder(request, session, services, deal_id, values, {field: err.message}, 422)
    return redirect(f"/ui/deals/{deal_id}", "ok", _sent(services, session.user, deal_id, quote))


def _sent(services: Services, user: Actor, deal_id: str, quote: Quote) -> str:
    stage = deals.deal_row(services, user, deal_id).stage
    where = (
        "it waits for approval before it goes to the customer"
        if stage.value == "AWAITING_APPROVAL"
        else "it went to the customer"
    )
    return f"Quote v{quote.version} ({quote.total} {quote.currency}): {where}. Deal: {stage.value}."


@router.get("/deals/{deal_id}/approval")
def approval_page(
    deal_id: str, request: Request, session: UiUser, services: ServicesDep
) -> HTMLResponse:
    """The step waiting for this user, with the quote and contract it is about in view."""
    view = deals.deal_page(services, session.user, deal_id)
    quote = view.deal.quotes[-1] if view.deal.quotes else None
    context = {"deal": view.deal, "quote": quote, "my_step": view.my_step}
    return page(request, session, "sales/approval.html", context)
