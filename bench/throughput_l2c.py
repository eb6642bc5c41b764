"""The clients of bench/throughput.py: rep, manager, customer, ops and finance drive deals
from lead to WON through the HTTP API, each step chosen by the stage the server shows."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

PORTAL = re.compile(r"/portal/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")
POLL_SECONDS = 0.1  # how often a client looks again when nothing is its to do
APPROVER = {"sales_manager": "manager", "finance": "finance", "admin": "admin"}
LEAD = {
    "contact_name": "Ada Lovelace",
    "source": "web",
    "country": "DE",
    "estimated_value": "12000.00",
    "currency": "EUR",
    "budget_confirmed": True,
    "decision_maker": True,
    "need": "automate order-to-cash",
    "timeline_days": 60,
}
QUOTE: dict[str, Any] = {  # under 50,000 net and 10 % discount: the sales manager's approval only
    "currency": "EUR",
    "lines": [
        {"sku": "GW-100", "quantity": "3", "discount_pct": "5"},
        {"sku": "ONBOARD", "quantity": "1"},
    ],
    "billing_plan": {"kind": "on_delivery"},
    "payment_terms_days": 30,
}
UPDATE_CALLS = {  # the API calls that each send one Update to a workflow
    "POST /leads",
    "qualify",
    "quotes",
    "approvals",
    "portal accept",
    "portal sign",
    "deliveries",
    "payments",
}


class MailSink:
    """Portal tokens from the SMTP sink's Maildir, each file parsed once."""

    def __init__(self, maildir: Path) -> None:
        self.new = maildir / "new"
        self.seen: set[str] = set()
        self.tokens: dict[tuple[str, str], str] = {}  # (to, subject) -> newest token
        self.lock = asyncio.Lock()

    def _read_new(self) -> None:
        for name in sorted(set(os.listdir(self.new)) - self.seen):
            self.seen.add(name)
            raw = (self.new / name).read_bytes()
            message = email.message_from_bytes(raw, policy=email.policy.default)
            body = message.get_body(preferencelist=("plain",))
            found = PORTAL.search(str(body.get_content()) if body else "")
            if found:
                self.tokens[(str(message["To"]), str(message["Subject"]))] = found.group(1)

    async def token(self, to: str, subject_has: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            async with self.lock:
                self._read_new()
            for (address, subject), token in self.tokens.items():
                if to in address and subject_has in subject:
                    return token
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no mail '{subject_has}' to {to}")


@dataclass
class Deal:
    """One deal as the bench's clients know it."""

    contact: str
    deal_id: str = ""
    done: set[str] = field(default_factory=set)  # the one-off actions it has had
    updates: int = 0  # API calls that sent its workflows an Update


class L2cRun:
    """Drives deals from lead to WON through the API, recording every call's latency."""

    def __init__(self, base_url: str, password: str, mail: MailSink) -> None:
        self.base_url, self.password, self.mail = base_url, password, mail
        self.users: dict[str, httpx.AsyncClient] = {}
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.payment_to_won: list[float] = []
        self.gets_to_won: list[int] = []
        self.won: list[Deal] = []
        self.failed: list[str] = []

    async def log_in(self) -> None:
        for name in ("rep1", "manager", "finance", "ops", "admin"):
            client = self.client()
            login = {"username": name, "password": self.password}
            answer = await client.post("/auth/token", data=login)
            answer.raise_for_status()
            client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
            self.users[name] = client
        self.users["customer"] = self.client()

    def client(self) -> httpx.AsyncClient:
        # Drop idle connections before uvicorn does (after 5 s): else a request may go out on
        # a connection the server is closing, and fail with "Server disconnected".
        keep_alive = httpx.Limits(keepalive_expiry=2)
        return httpx.AsyncClient(base_url=self.base_url, timeout=120, limits=keep_alive)

    async def close(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self.users.values()))

    async def call(self, deal: Deal, kind: str, user: str, path: str, **kw: Any) -> Any:
        """POST (GET with `method="GET"`) as `user`, timed under `kind`; the JSON answer."""
        method = kw.pop("method", "POST")
        began = time.perf_counter()
        answer = await self.users[user].request(method, path, **kw)
        self.latency[kind].append(time.perf_counter() - began)
        deal.updates += kind in UPDATE_CALLS
        if answer.status_code >= 300:
            raise RuntimeError(f"{kind} {path}: {answer.status_code} {answer.text}")
        return answer.json()

    async def stage(self, deal: Deal) -> str:
        state = await self.call(
            deal, "GET /deals/{id}", "rep1", f"/deals/{deal.deal_id}", method="GET"
        )
        return str(state["stage"])

    async def run(self, deals: int, concurrency: int) -> float:
        """Seconds until `deals` deals, `concurrency` at a time, were seen WON."""
        gate = asyncio.Semaphore(concurrency)

        async def gated() -> None:
            async with gate:
                try:
                    self.won.append(await self.drive_deal())
                except Exception as failure:  # noqa: BLE001 - reported, the others go on
                    self.failed.append(repr(failure))

        began = time.perf_counter()
        await asyncio.gather(*(gated() for _ in range(deals)))
        return time.perf_counter() - began

    async def drive_deal(self) -> Deal:
        """One deal from lead to WON: look at the stage, take the action it needs, repeat."""
        tag = uuid.uuid4().hex[:10]
        deal = Deal(contact=f"ada@acme-{tag}.example")
        lead = LEAD | {"company": f"Acme {tag} GmbH", "email": deal.contact}
        opened = await self.call(deal, "POST /leads", "rep1", "/leads", json=lead)
        deal.deal_id, stage = opened["deal_id"], opened["stage"]
        for _ in range(300):
            if stage == "WON":
                return deal
            if stage in ("LOST", "DISQUALIFIED", "CANCELLED", "WRITTEN_OFF"):
                raise RuntimeError(f"deal {deal.deal_id} ended {stage}")
            stage = await self.next_action(deal, stage)
        raise RuntimeError(f"deal {deal.deal_id} stuck at {stage}")

    async def next_action(self, deal: Deal, stage: str) -> str:
        """Take what `stage` asks of a client (each action once); the stage shown after it."""
        path = f"/deals/{deal.deal_id}"
        action = {
            "QUALIFYING": "qualify",
            "QUOTING": "accept" if "quote" in deal.done else "quote",  # v1: accept while QUOTING
            "PROPOSED": "accept",  # v2: the approved quote is with the customer
            "AWAITING_APPROVAL": "approve",
            "AWAITING_SIGNATURE": "sign",
            "FULFILLING": "deliver",
            "COLLECTING": "pay",
        }.get(stage)
        if action is None or (action in deal.done and action != "approve"):
            await asyncio.sleep(POLL_SECONDS)  # nothing for a client to do: the workflow works
            return await self.stage(deal)
        deal.done.add(action)
        if action == "qualify":
            body: dict[str, Any] = {"decision": "qualify"}
            return str(
                (await self.call(deal, "qualify", "rep1", f"{path}/qualify", json=body))["stage"]
            )
        if action == "quote":
            await self.call(deal, "quotes", "rep1", f"{path}/quotes", json=QUOTE)
        elif action == "accept":
            token = await self.wait_for_mail("quote mail", deal.contact, "Your quote")
            return str(
                (await self.call(deal, "portal accept", "customer", f"/portal/{token}/accept"))[
                    "stage"
                ]
            )
        elif action == "approve":
            await self.approve(deal)
        elif action == "sign":
            token = await self.wait_for_mail("contract mail", deal.contact, "ready to sign")
            body = {"name": "Ada Lovelace"}
            return str(
                (
                    await self.call(
                        deal, "portal sign", "customer", f"/portal/{token}/sign", json=body
                    )
                )["stage"]
            )
        elif action == "deliver":
            lines = [{"sku": line["sku"], "quantity": line["quantity"]} for line in QUOTE["lines"]]
            body = {"reference": f"DN-{deal.deal_id}", "lines": lines}
            await self.call(deal, "deliveries", "ops", f"{path}/deliveries", json=body)
        elif action == "pay":
            await self.pay_and_watch(deal)
            return "WON"
        return await self.stage(deal)

    async def wait_for_mail(self, kind: str, to: str, subject_has: str) -> str:
        began = time.perf_counter()
        token = await self.mail.token(to, subject_has)
        self.latency[kind].append(time.perf_counter() - began)
        return token

    async def approve(self, deal: Deal) -> None:
        """Each pending step approved by a user of its role."""
        path = f"/deals/{deal.deal_id}"
        state = await self.call(deal, "GET /deals/{id}", "rep1", path, method="GET")
        pending = [step for step in state["approvals"] if step["status"] == "pending"]
        if not pending:
            await asyncio.sleep(POLL_SECONDS)
        for step in pending:
            body = {"decision": "approve"}
            await self.call(
                deal, "approvals", APPROVER[step["role"]], f"{path}/approvals", json=body
            )

    async def pay_and_watch(self, deal: Deal) -> None:
        """Finance pays every open invoice; then GET until WON (command-to-visible)."""
        query = {"deal_id": deal.deal_id}
        invoices = await self.call(
            deal, "GET /invoices", "finance", "/invoices", method="GET", params=query
        )
        for invoice in invoices["items"]:  # a deal's few invoices: one page
            if invoice["status"] != "open":
                continue
            body = {
                "invoice_number": invoice["number"],
                "amount": str(balance_of(invoice)),
                "currency": invoice["currency"],
                "reference": f"BANK-{invoice['number']}",
            }
            await self.call(deal, "payments", "finance", "/payments", json=body)
        paid_at, gets = time.perf_counter(), 0
        while (stage := await self.stage(deal)) != "WON":
            gets += 1
            if gets > 600:
                raise RuntimeError(f"deal {deal.deal_id} paid but at {stage}")
            await asyncio.sleep(POLL_SECONDS)
        self.payment_to_won.append(time.perf_counter() - paid_at)
        self.gets_to_won.append(gets + 1)


def balance_of(invoice: dict[str, Any]) -> Decimal:
    """What the invoice still asks (API.md names `balance`; this code does not send it yet)."""
    if "balance" in invoice:
        return Decimal(invoice["balance"])
    return Decimal(invoice["total"]) - Decimal(invoice["paid"]) - Decimal(invoice["credited"])
