"""`l2c demo`: a few months of business through the API, with the policy day shortened so
reminders, dunning and a write-off happen within a couple of minutes.

Each story keeps business dates: people take days to answer (a rep qualifies after a couple
of days, a customer thinks a week over a quote, pays near the due date), each pause a number
of policy days. KPIs count durations in each deal's policy days, so the demo's sales cycle,
approval turnaround and DSO read like months of business, not seconds.

Leads from several sources, hot ones qualified by score, cold ones disqualified, a quote
rejected and the deal closed lost, a discount a manager approves before the customer sees it,
a deal big enough for three approvers, partial deliveries, a subscription billed and earning
revenue month by month, late payments after dunning, a write-off, a cancellation that issues
credit notes.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import mailbox
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

ALL_DONE = {"WON", "LOST", "DISQUALIFIED", "CANCELLED", "WRITTEN_OFF"}


class Demo:
    def __init__(
        self, base_url: str, password: str, day_seconds: float, mail: Path | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.mail = mail  # the customers' inbox: the Maildir of the stack's SMTP sink
        self.day_seconds = day_seconds
        self.tag = uuid.uuid4().hex[:6]
        self.tokens = {
            u: self._login(u, password)
            for u in ("admin", "rep1", "rep2", "manager", "finance", "ops")
        }
        self.local = threading.local()  # an HTTP client per thread: stories run in parallel
        self.log: list[str] = []
        self.business_dates = False  # the stories' pauses (see `pause`): on in `run`

    def _login(self, user: str, password: str) -> str:
        token = httpx.post(
            f"{self.base_url}/auth/token", data={"username": user, "password": password}, timeout=60
        )
        token.raise_for_status()
        return str(token.json()["access_token"])

    @property
    def public(self) -> httpx.Client:
        if not hasattr(self.local, "client"):
            self.local.client = httpx.Client(base_url=self.base_url, timeout=180)
        client: httpx.Client = self.local.client
        return client

    # --- steps ---

    def call(self, user: str, method: str, path: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        response = self.public.request(method, path, headers=headers, **kw)
        if response.status_code >= 400:
            raise RuntimeError(f"{user} {method} {path}: {response.status_code} {response.text}")
        return response.json()

    def lead(self, name: str, owner: str, source: str, **extra: Any) -> str:
        body = {
            "company": f"{name} {self.tag}",
            "contact_name": f"Buyer at {name}",
            "email": f"buyer@{name.lower().replace(' ', '-')}-{self.tag}.example",
            "source": source,
            "owner": owner,
            "day_seconds": self.day_seconds,
            "country": "DE",
            **extra,
        }
        deal = self.call("admin", "POST", "/leads", json=body)
        self.log.append(f"lead {body['company']} ({source}) -> {deal['stage']}")
        return str(deal["deal_id"])

    def pause(self, days: float) -> None:
        """Business days pass: someone takes this long to answer (not a wait on the system).
        Only while the stories play (`run`): a test driving the steps itself goes at once."""
        if self.business_dates:
            time.sleep(days * self.day_seconds)

    def stage(self, deal_id: str) -> str:
        return str(self.call("admin", "GET", f"/deals/{deal_id}")["stage"])

    def wait(self, deal_id: str, stages: set[str], timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while (stage := self.stage(deal_id)) not in stages:
            if time.monotonic() > deadline:
                raise TimeoutError(f"deal {deal_id} stuck in {stage}, wanted {stages}")
            time.sleep(0.2)
        return stage

    def quote(
        self,
        deal_id: str,
        owner: str,
        lines: list[dict[str, str]],
        plan: dict[str, Any],
        terms: int = 30,
        qualify: bool = True,
        after_days: float = 3,
    ) -> None:
        """The owner qualifies the lead (unless its score did) and quotes, `after_days` on."""
        self.pause(after_days / 2)
        if qualify and self.stage(deal_id) == "QUALIFYING":
            self.call(owner, "POST", f"/deals/{deal_id}/qualify", json={"decision": "qualify"})
        self.pause(after_days / 2)
        self.call(
            owner,
            "POST",
            f"/deals/{deal_id}/quotes",
            json={
                "currency": "EUR",
                "lines": lines,
                "billing_plan": plan,
                "payment_terms_days": terms,
                "valid_days": 60,
            },
        )

    def customer(
        self, deal_id: str, owner: str, action: str, verb: str, body: dict[str, Any] | None = None
    ) -> None:
        """The customer answers through the link in their e-mail (staff never get it)."""
        path = self.link(deal_id, action)
        answer = self.public.post(f"{path}/{verb}", json=body or {})
        if answer.status_code >= 400:  # say why (a 409 names the stage the deal is in)
            raise RuntimeError(f"customer {verb} {action}: {answer.status_code} {answer.text}")

    def link(self, deal_id: str, action: str, timeout: float = 60) -> str:
        """The portal path in the newest e-mail for the version waiting for the customer."""
        if self.mail is None:
            raise RuntimeError("the demo reads the customers' e-mail: give it the Maildir")
        state = self.call("admin", "GET", f"/deals/{deal_id}")
        if action == "quote":
            version = max(q["version"] for q in state["quotes"] if q["status"] == "open")
        else:
            version = state["contract"]["version"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for token in reversed(portal_tokens_in(self.mail)):
                claim = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
                if (claim["deal_id"], claim["action"], claim["version"]) == (
                    deal_id,
                    action,
                    version,
                ):
                    return f"/portal/{token}"
            time.sleep(0.2)
        raise RuntimeError(f"no {action} link for deal {deal_id} arrived")

    def approve_all(self, deal_id: str) -> None:
        who = {"sales_manager": "manager", "finance": "finance", "admin": "admin"}
        while self.stage(deal_id) == "AWAITING_APPROVAL":
            pending = [
                s
                for s in self.call("admin", "GET", f"/deals/{deal_id}")["approvals"]
                if s["status"] == "pending"
            ]
            for step in pending:
                self.call(
                    who[step["role"]],
                    "POST",
                    f"/deals/{deal_id}/approvals",
                    json={"decision": "approve", "comment": "ok"},
                )

    def to_signed(self, deal_id: str, owner: str, think_days: float = 7) -> None:
        """Approvers answer within the day; the customer accepts after `think_days` and signs
        two days later."""
        if self.stage(deal_id) == "AWAITING_APPROVAL":
            self.pause(0.5)
        self.approve_all(deal_id)  # before the customer sees the quote
        self.pause(think_days)
        self.customer(deal_id, owner, "quote", "accept")
        self.pause(2)
        self.customer(deal_id, owner, "contract", "sign", {"name": "Dana Buyer"})

    def deliver(self, deal_id: str, reference: str, lines: list[dict[str, str]]) -> None:
        self.call(
            "ops",
            "POST",
            f"/deals/{deal_id}/deliveries",
            json={"reference": reference, "lines": lines},
        )

    def pay(self, deal_id: str, share: Decimal = Decimal(1), tag: str = "") -> None:
        for invoice in self.call("finance", "GET", "/invoices", params={"deal_id": deal_id})[
            "items"
        ]:
            if invoice["status"] != "open":
                continue
            amount = (Decimal(invoice["total"]) * share).quantize(Decimal("0.01"))
            amount = min(
                amount,
                Decimal(invoice["total"]) - Decimal(invoice["paid"]) - Decimal(invoice["credited"]),
            )
            self.call(
                "finance",
                "POST",
                "/payments",
                json={
                    "invoice_number": invoice["number"],
                    "amount": str(amount),
                    "currency": "EUR",
                    "reference": f"BANK-{invoice['number']}-{tag or share}",
                },
            )

    # --- stories ---

    def won_on_delivery(self, name: str, owner: str, source: str, think_days: float) -> None:
        deal = self.lead(name, owner, source, budget_confirmed=True, need="gateways")
        lines = [{"sku": "GW-100", "quantity": "6"}, {"sku": "SENSOR-T", "quantity": "10"}]
        self.quote(deal, owner, lines, {"kind": "on_delivery"})
        self.to_signed(deal, owner, think_days)
        self.pause(4)
        self.deliver(deal, "DN-1", [{"sku": "GW-100", "quantity": "4"}])
        self.pause(6)
        self.deliver(
            deal,
            "DN-2",
            [{"sku": "GW-100", "quantity": "2"}, {"sku": "SENSOR-T", "quantity": "10"}],
        )
        self.wait(deal, {"COLLECTING"})
        self.pause(think_days * 2)  # paid well within the 30 days' terms
        self.pay(deal)
        self.wait(deal, {"WON"})

    def discount_late_payment(self) -> None:
        deal = self.lead("Initech", "rep2", "trade_show", decision_maker=True)
        lines = [
            {"sku": "GW-100", "quantity": "40", "discount_pct": "15"},
            {"sku": "ONBOARD", "quantity": "2"},
        ]
        self.quote(deal, "rep2", lines, {"kind": "upfront"}, terms=5, after_days=5)
        # 15 %: a manager approves before the customer sees it
        self.to_signed(deal, "rep2", think_days=12)
        self.pause(3)
        self.deliver(
            deal,
            "DN-1",
            [{"sku": "GW-100", "quantity": "40"}, {"sku": "ONBOARD", "quantity": "2"}],
        )
        self.pay(deal, Decimal("0.5"), "first")
        time.sleep(self.day_seconds * 9)  # the customer pays the rest after a reminder
        self.pay(deal, Decimal(1), "rest")
        self.wait(deal, {"WON"})

    def big_deal(self) -> None:
        deal = self.lead(
            "Umbrella Corp",
            "rep1",
            "partner",
            budget_confirmed=True,
            decision_maker=True,
            need="fleet",
            timeline_days=30,
            estimated_value="300000.00",
            currency="EUR",
        )
        lines = [
            {"sku": "GW-100", "quantity": "800", "discount_pct": "5"},
            {"sku": "ONBOARD", "quantity": "20"},
        ]
        self.quote(
            deal,
            "rep1",
            lines,
            {
                "kind": "milestones",
                "milestones": [
                    {"percent": "30", "trigger": "signature"},
                    {"percent": "70", "trigger": "delivery_complete"},
                ],
            },
        )
        # over 250,000: manager, finance and admin in turn
        self.to_signed(deal, "rep1", think_days=20)
        self.pause(10)
        self.pay(deal)
        self.pause(8)
        self.deliver(
            deal,
            "DN-1",
            [{"sku": "GW-100", "quantity": "800"}, {"sku": "ONBOARD", "quantity": "20"}],
        )
        self.wait(deal, {"COLLECTING"})
        self.pause(14)
        self.pay(deal, tag="final")
        self.wait(deal, {"WON"})

    def subscriber(self) -> None:
        """Seats for a year, billed month by month from activation, each month paid as it
        comes; revenue is earned month by month. It is still running when the demo ends."""
        deal = self.lead("Wayne Enterprises", "rep1", "web", budget_confirmed=True, need="seats")
        lines = [{"sku": "L2C-SEAT", "quantity": "25"}]
        self.quote(deal, "rep1", lines, {"kind": "on_delivery"})
        self.to_signed(deal, "rep1", think_days=5)
        self.pause(2)
        self.deliver(deal, "ACT-1", lines)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the first month's invoice, paid
            if self.call("finance", "GET", "/invoices", params={"deal_id": deal})["items"]:
                self.pay(deal, tag="month-1")
                return
            time.sleep(0.2)
        raise TimeoutError(f"deal {deal}: no invoice for the first month of seats")

    def rejected_quote(self) -> None:
        deal = self.lead("Hooli", "rep2", "ad_campaign", need="analytics")
        self.quote(deal, "rep2", [{"sku": "GW-100", "quantity": "50"}], {"kind": "upfront"})
        self.customer(deal, "rep2", "quote", "reject", {"reason": "went with a competitor"})
        self.wait(deal, {"QUOTING"})  # back with the owner, who gives it up
        self.call("rep2", "POST", f"/deals/{deal}/close-lost", json={"reason": "lost to a rival"})

    def write_off(self) -> None:
        deal = self.lead("Vandelay Industries", "rep1", "outbound", need="import-export")
        self.quote(deal, "rep1", [{"sku": "GW-100", "quantity": "3"}], {"kind": "upfront"}, terms=2)
        self.to_signed(deal, "rep1", think_days=3)
        self.deliver(deal, "DN-1", [{"sku": "GW-100", "quantity": "3"}])
        self.wait(deal, {"WRITTEN_OFF"}, timeout=240)

    def cancelled(self) -> None:
        deal = self.lead("Soylent", "rep2", "web", need="food tech")
        self.quote(deal, "rep2", [{"sku": "ONBOARD", "quantity": "3"}], {"kind": "upfront"})
        self.to_signed(deal, "rep2", think_days=4)
        self.pause(6)
        self.pay(deal, Decimal("0.2"))
        self.pause(3)
        self.call("rep2", "POST", f"/deals/{deal}/cancel", json={"reason": "budget frozen"})
        # It has an invoice: cancelling takes money back, so finance decides.
        self.call(
            "finance",
            "POST",
            f"/deals/{deal}/approvals",
            json={"decision": "approve", "comment": "credit what is open"},
        )

    def open_invoice(self) -> None:
        """Invoiced with 60 days' terms, not yet due when the demo ends: receivables open."""
        deal = self.lead("Tyrell", "rep2", "partner", budget_confirmed=True, need="sensors")
        lines = [{"sku": "SENSOR-T", "quantity": "40"}]
        self.quote(deal, "rep2", lines, {"kind": "upfront"}, terms=60)
        self.to_signed(deal, "rep2", think_days=8)
        self.wait(deal, {"FULFILLING", "INVOICING", "COLLECTING"})

    def small_leads(self) -> None:
        self.lead("Cold Call GmbH", "rep1", "import")  # scored low: disqualified at once
        self.lead("Pending Partners", "rep2", "referral")  # waits: reminder, escalation

    def run(self, progress: Callable[[str], None] = print) -> list[str]:
        stories: list[Callable[[], None]] = [
            lambda: self.won_on_delivery("Acme", "rep1", "web", think_days=6),
            lambda: self.won_on_delivery("Globex", "rep2", "referral", think_days=10),
            lambda: self.won_on_delivery("Stark", "rep1", "trade_show", think_days=15),
            self.open_invoice,
            self.discount_late_payment,
            self.big_deal,
            self.subscriber,
            self.rejected_quote,
            self.write_off,
            self.cancelled,
            self.small_leads,
        ]
        self.business_dates = True
        with ThreadPoolExecutor(len(stories)) as pool:
            for future in [pool.submit(story) for story in stories]:
                future.result()
        self.log.append(self.headline())
        for line in self.log:
            progress(line)
        return self.log

    def headline(self) -> str:
        """The last 30 days' KPIs that show business dates (durations in policy days)."""
        k = self.call("manager", "GET", "/kpis")
        dso = ", ".join(f"{v} {c}" for c, v in k["dso_days"].items() if v is not None)
        return (
            f"KPIs, last 30 days: {k['leads_created']} leads, sales cycle "
            f"{k['avg_sales_cycle_days']} days (mean), approvals in "
            f"{k['approval_turnaround_hours']} hours, DSO {dso or '-'} days"
        )


PORTAL_TOKEN = re.compile(r"/portal/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


def portal_tokens_in(maildir: Path) -> list[str]:
    """Every portal token in the Maildir's messages, oldest message first."""
    box = mailbox.Maildir(maildir, create=False)
    tokens: list[str] = []
    for key in sorted(box.keys()):  # Maildir keys start with the delivery time
        message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        part = message.get_body(preferencelist=("plain",))
        tokens += PORTAL_TOKEN.findall(str(part.get_content()) if part else "")
    return tokens


def run_demo(
    base_url: str, password: str, day_seconds: float = 1.0, mail: Path | None = None
) -> list[str]:
    return Demo(base_url, password, day_seconds, mail).run()
