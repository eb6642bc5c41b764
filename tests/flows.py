"""Steps of a deal as a client takes them, shared by the API and end-to-end tests."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

from domain.approval import ApprovalBand, ApprovalPolicy
from domain.users import Role
from tests.conftest import Api, Live, body_of, wait_for

PORTAL = re.compile(r"/portal/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


def lead_body(**overrides: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    body: dict[str, Any] = {
        "company": f"Acme {tag} GmbH",
        "contact_name": "Ada Lovelace",
        "email": f"ada@acme-{tag}.example",
        "source": "web",
        "country": "DE",
        "estimated_value": "12000.00",
        "currency": "EUR",
        "budget_confirmed": True,
        "decision_maker": True,
        "need": "automate order-to-cash",
        "timeline_days": 60,
    }
    body.update(overrides)
    return body


def quote_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "currency": "EUR",
        "lines": [
            {"sku": "GW-100", "quantity": "3", "discount_pct": "5"},
            {"sku": "ONBOARD", "quantity": "1"},
        ],
        "billing_plan": {"kind": "on_delivery"},
        "payment_terms_days": 30,
    }
    body.update(overrides)
    return body


def create_lead(api: Api, **overrides: Any) -> dict[str, Any]:
    response = api.post("/leads", json=lead_body(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def stage_of(api: Api, deal_id: str) -> str:
    response = api.get(f"/deals/{deal_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["stage"])


def portal_token(live: Live, to: str, subject_has: str) -> str:
    """The portal token in the newest matching e-mail (waits for it to arrive)."""
    messages = wait_for(lambda: live.mail_to(to, subject_has), 30, f"mail '{subject_has}'")
    match = PORTAL.search(body_of(messages[-1]))
    assert match, body_of(messages[-1])
    return match.group(1)


def to_quoting(api: Api, **lead: Any) -> dict[str, Any]:
    deal = create_lead(api, **lead)
    response = api.post(f"/deals/{deal['deal_id']}/qualify", json={"decision": "qualify"})
    assert response.status_code == 200, response.text
    assert response.json()["stage"] == "QUOTING"
    return deal


# The default approval bands before v2: every deal approved by a sales manager at least.
V1_APPROVAL = ApprovalPolicy(
    bands=[
        ApprovalBand(
            max_discount_pct=Decimal(10), below_value=Decimal(50_000), roles=[Role.SALES_MANAGER]
        ),
        ApprovalBand(
            max_discount_pct=Decimal(30),
            below_value=Decimal(250_000),
            roles=[Role.SALES_MANAGER, Role.FINANCE],
        ),
        ApprovalBand(roles=[Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN]),
    ]
)

# A line discounted by more than 10 %: the default policy asks a sales manager.
DISCOUNTED_LINES = [
    {"sku": "GW-100", "quantity": "3", "discount_pct": "15"},
    {"sku": "ONBOARD", "quantity": "1"},
]


def submit_quote(api: Api, deal_id: str, quote: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.post(f"/deals/{deal_id}/quotes", json=quote or quote_body())
    assert response.status_code == 201, response.text
    return dict(response.json())


def to_approval(
    live: Live, api: Api, quote: dict[str, Any] | None = None, **lead: Any
) -> dict[str, Any]:
    """A deal whose quote waits for approval (by default one a manager must approve)."""
    deal = to_quoting(api, **lead)
    submit_quote(api, deal["deal_id"], quote or quote_body(lines=DISCOUNTED_LINES))
    assert stage_of(api, deal["deal_id"]) == "AWAITING_APPROVAL"
    return deal


def to_proposed(
    live: Live, rep: Api, manager: Api, quote: dict[str, Any] | None = None, **lead: Any
) -> dict[str, Any]:
    """A deal whose quote is with the customer (approved by `manager` where it must be)."""
    deal = to_quoting(rep, **lead)
    submit_quote(rep, deal["deal_id"], quote)
    for step in rep.get(f"/deals/{deal['deal_id']}").json()["approvals"]:
        if step["status"] == "pending":
            assert step["role"] == "sales_manager", step
            approved = manager.post(
                f"/deals/{deal['deal_id']}/approvals", json={"decision": "approve"}
            )
            assert approved.status_code == 200, approved.text
    assert stage_of(rep, deal["deal_id"]) == "PROPOSED"
    return deal


def accept_quote(live: Live, api: Api, deal_id: str) -> None:
    """The customer accepts the quote through the link in their e-mail."""
    token = portal_token(live, lead_email(api, deal_id), "Your quote")
    accepted = api.http.post(f"/portal/{token}/accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["stage"] == "AWAITING_SIGNATURE"


def to_signature(
    live: Live, rep: Api, manager: Api, quote: dict[str, Any] | None = None, **lead: Any
) -> dict[str, Any]:
    """A deal whose contract waits for the customer's signature."""
    deal = to_proposed(live, rep, manager, quote, **lead)
    accept_quote(live, rep, deal["deal_id"])
    return deal


def lead_email(api: Api, deal_id: str) -> str:
    return str(api.get(f"/deals/{deal_id}").json()["contact"]["email"])


def to_fulfilment(
    live: Live, rep: Api, manager: Api, quote: dict[str, Any] | None = None, **lead: Any
) -> dict[str, Any]:
    deal = to_signature(live, rep, manager, quote, **lead)
    token = portal_token(live, lead_email(rep, deal["deal_id"]), "ready to sign")
    signed = rep.http.post(f"/portal/{token}/sign", json={"name": "Ada Lovelace"})
    assert signed.status_code == 200, signed.text
    assert signed.json()["stage"] == "FULFILLING"
    return deal


def start_deal(live: Live, owner: str, policy: Any = None, **lead: Any) -> str:
    """Start a deal straight on Temporal, with its own policy (say, a short `day`)."""
    from api.gateway import TemporalGateway
    from domain.deal import DealInput
    from domain.leads import Lead
    from domain.policy import DealPolicy

    deal_id = uuid.uuid4().hex
    gateway = TemporalGateway(live.client, live.settings.task_queue)
    body = lead_body(**lead)
    deal = DealInput(
        deal_id=deal_id,
        lead=Lead.model_validate(body),
        owner=owner,
        created_by=owner,
        policy=policy or DealPolicy(),
    )
    live.run(_open(gateway, deal))
    return deal_id


async def _open(gateway: Any, deal: Any) -> Any:
    import anyio.to_thread

    return await anyio.to_thread.run_sync(gateway.open_deal, deal)
