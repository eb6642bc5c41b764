"""Workflow tests with time skipping: a deal on real policy days (a day is a day), its months
and years jumped over in a second.

The `timeskip` fixture starts a Temporal dev server with per-workflow time skipping
(`WorkflowEnvironment.start_time_skipping_v2`) and runs l2c's real worker (`worker.make_worker`)
against it on a fresh task queue, with the session's Postgres and SMTP sink (the `live`
fixture's: nothing new is started but the server). Workflows started through it do not skip
on their own (`TimeSkippingConfig(enabled=False)`): time stands still, as it does for a deal
waiting for people, until a test jumps a workflow's clock with `fast_forward`.

How to write such a test:

    def test_a_month_later(timeskip):
        deal_id = timeskip.start_deal()                  # DealPolicy(): a day is 24 hours
        state = timeskip.sign(deal_id, quote_body(billing_plan={"kind": "upfront"}))
        invoice = timeskip.invoice(state.invoices[0].number)
        timeskip.fast_forward(invoice, timedelta(days=31))   # its timers fire on the way
        assert timeskip.state(deal_id).stage is DealStage.FULFILLING

- Drive the deal only through its handle (`update`, `state`, `outcome`), as the API would:
  the API of the `live` stack talks to the other Temporal server, not to this one.
- Each workflow has a clock of its own, and a child starts at its parent's time: jump the
  workflow whose timer you wait for. Dunning and write-off are timers of the invoice's
  collection (`invoice(number)`), subscription months of the revenue workflow, approval
  reminders and installments of the deal itself. `fast_forward` returns once the clock got
  there, False if the workflow ended first.
- A workflow skips time only while nothing of it is in flight, and a running child is in
  flight: once a deal has an invoice in collection (or a subscription running), its own
  clock no longer moves and `fast_forward` on it never returns. Jump the deal before its
  first invoice, or jump the child; another deal of the same customer has a clock of its own.
- What the workflows write carries their virtual time (an invoice posted 75 days from now):
  read what a test checks by its deal id, not by date, since the database is the session's.
- Every test makes its own deals (fresh ids); the fixture is shared by the session and stops
  its worker and server at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Coroutine, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from temporalio.client import WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import TimeSkippingConfig, WorkflowEnvironment
from temporalio.workflow import UpdateMethodMultiParam

from adapters.embedded.temporal import temporal_cli
from adapters.storage.catalogue import Catalogue
from domain.approval import StepStatus
from domain.catalogue import PriceBook
from domain.change_orders import ChangeOrder, ChangeOrderRequest
from domain.deal import (
    ApprovalCommand,
    ApprovalDecision,
    ChangeOrderCommand,
    DealInput,
    DealOutcome,
    DealState,
    DeliveryCommand,
    Qualification,
    QualifyCommand,
    QuoteAnswerCommand,
    QuoteCommand,
    SignCommand,
)
from domain.invoices import Invoice, PaymentIn
from domain.leads import Lead
from domain.orders import DeliveryRequest, Order
from domain.policy import DealPolicy
from domain.quotes import Quote, QuoteRequest
from domain.stages import DealStage
from domain.users import Actor, Role
from tests.conftest import Live
from tests.flows import lead_body
from worker import make_worker
from workflows.deal import DealWorkflow
from workflows.ids import deal_workflow_id, invoice_workflow_id
from workflows.invoice import InvoiceWorkflow, PaymentCommand
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

A = TypeVar("A")
R = TypeVar("R")
T = TypeVar("T")

# The server flag that turns per-workflow time skipping on (experimental in Temporal 1.32).
TIME_SKIPPING = ["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true"]
APPROVERS = {
    Role.SALES_MANAGER: Actor(username="manager", role=Role.SALES_MANAGER),
    Role.FINANCE: Actor(username="finance", role=Role.FINANCE),
    Role.ADMIN: Actor(username="admin", role=Role.ADMIN),
}
OPS = Actor(username="ops", role=Role.OPS)


class TimeSkipping:
    """The time-skipping server's client, and the steps of a deal taken through handles."""

    def __init__(self, live: Live, env: WorkflowEnvironment, task_queue: str) -> None:
        self.live, self.env, self.task_queue = live, env, task_queue

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        """On the loop the environment and the worker live on."""
        return self.live.run(coro, timeout)

    # --- handles and time ---

    def deal(self, deal_id: str) -> WorkflowHandle[DealWorkflow, DealOutcome]:
        return self.env.client.get_workflow_handle_for(DealWorkflow.run, deal_workflow_id(deal_id))

    def invoice(self, number: str) -> WorkflowHandle[Any, Any]:
        return self.env.client.get_workflow_handle(invoice_workflow_id(number))

    def fast_forward(self, handle: WorkflowHandle[Any, Any], delta: timedelta) -> bool:
        """Jump `handle`'s clock by `delta`, firing its timers on the way; False if the
        workflow ended before its clock got there."""
        return self.run(self.env.fast_forward(handle, delta))

    # --- the deal, through its handle ---

    def start_deal(self, owner: str = "rep1", policy: DealPolicy | None = None, **lead: Any) -> str:
        """A new deal from a lead (`lead_body` with these fields: the same `company` makes
        another deal of a known customer)."""
        deal = DealInput(
            deal_id=uuid.uuid4().hex,
            lead=Lead.model_validate(lead_body(**lead)),
            owner=owner,
            created_by=owner,
            policy=policy or DealPolicy(),
        )

        async def start() -> DealState:
            operation = WithStartWorkflowOperation(
                DealWorkflow.run,
                deal,
                id=deal_workflow_id(deal.deal_id),
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
            return await self.env.client.execute_update_with_start_workflow(
                DealWorkflow.opened, start_workflow_operation=operation
            )

        self.run(start())
        return deal.deal_id

    def update(
        self, deal_id: str, update: UpdateMethodMultiParam[[DealWorkflow, A], R], arg: A
    ) -> R:
        return self.run(self.deal(deal_id).execute_update(update, arg))

    def state(self, deal_id: str) -> DealState:
        return self.run(self.deal(deal_id).query(DealWorkflow.state))

    def outcome(self, deal_id: str, timeout: float = 60) -> DealOutcome:
        return self.run(self.deal(deal_id).result(), timeout)

    def qualify(self, deal_id: str, owner: str = "rep1") -> None:
        """The owner qualifies the lead, unless the policy did already."""
        if self.state(deal_id).stage is DealStage.QUALIFYING:
            rep = Actor(username=owner, role=Role.SALES_REP)
            qualify = QualifyCommand(body=Qualification(decision="qualify"), actor=rep)
            self.update(deal_id, DealWorkflow.qualify, qualify)

    def quote(self, deal_id: str, quote: dict[str, Any], owner: str = "rep1") -> Quote:
        """The owner submits a quote, priced from the session's price book."""
        request = QuoteRequest.model_validate(quote)
        rep = Actor(username=owner, role=Role.SALES_REP)
        priced = QuoteCommand(request=request, price_book=self.price_book(request), actor=rep)
        return self.update(deal_id, DealWorkflow.submit_quote, priced)

    def change(self, deal_id: str, lines: list[dict[str, Any]], reason: str) -> ChangeOrder:
        """The owner asks for a change order: the deal's whole new set of lines."""
        request = ChangeOrderRequest.model_validate({"lines": lines, "reason": reason})
        rep = Actor(username=self.state(deal_id).owner, role=Role.SALES_REP)
        cmd = ChangeOrderCommand(request=request, price_book=self.price_book(request), actor=rep)
        return self.update(deal_id, DealWorkflow.change_order, cmd)

    def deliver(self, deal_id: str, reference: str, **quantities: str) -> Order:
        """Ops record a delivery (`GW_100="1"` is one GW-100)."""
        lines = [{"sku": sku.replace("_", "-"), "quantity": q} for sku, q in quantities.items()]
        request = DeliveryRequest.model_validate({"reference": reference, "lines": lines})
        delivery = DeliveryCommand(request=request, actor=OPS)
        return self.update(deal_id, DealWorkflow.record_delivery, delivery)

    def pay(self, number: str, amount: Decimal, reference: str) -> Invoice:
        """Finance records a payment of the invoice, through its collection."""
        payment = PaymentIn(
            invoice_number=number, amount=amount, currency="EUR", reference=reference
        )
        cmd = PaymentCommand(payment=payment, actor=APPROVERS[Role.FINANCE])
        return self.run(self.invoice(number).execute_update(InvoiceWorkflow.record_payment, cmd))

    def price_book(self, request: QuoteRequest | ChangeOrderRequest) -> PriceBook:
        return Catalogue(self.live.engine).price_book(skus={line.sku for line in request.lines})

    def sign(self, deal_id: str, quote: dict[str, Any], owner: str = "rep1") -> DealState:
        """Qualify, quote, accept, approve and sign: the deal FULFILLING, its first invoices
        (those the signature bills) issued."""
        self.qualify(deal_id, owner)
        version = self.quote(deal_id, quote, owner).version
        accept = QuoteAnswerCommand(version=version, accept=True)
        self.update(deal_id, DealWorkflow.answer_quote, accept)
        state = self.state(deal_id)
        while state.stage is DealStage.AWAITING_APPROVAL:
            step = next(s for s in state.approvals if s.status is StepStatus.PENDING)
            decide = ApprovalCommand(
                body=ApprovalDecision(decision="approve"), actor=APPROVERS[step.role]
            )
            self.update(deal_id, DealWorkflow.decide_approval, decide)
            state = self.state(deal_id)
        assert state.stage is DealStage.AWAITING_SIGNATURE and state.contract is not None
        signature = SignCommand(version=state.contract.version, name="Ada Lovelace")
        self.update(deal_id, DealWorkflow.sign_contract, signature)
        return self.state(deal_id)


@pytest.fixture(scope="session")
def timeskip(live: Live) -> Iterator[TimeSkipping]:
    """A time-skipping Temporal server and l2c's real worker on it (see the module's doc)."""

    async def start() -> WorkflowEnvironment:
        return await WorkflowEnvironment.start_time_skipping_v2(
            ts_config=TimeSkippingConfig(enabled=False),  # only `fast_forward` moves time
            dev_server_existing_path=temporal_cli(),
            dev_server_extra_args=TIME_SKIPPING,
            data_converter=pydantic_data_converter,
            search_attributes=SEARCH_ATTRIBUTES,
        )

    env = live.run(start())
    settings = live.settings.model_copy(update={"task_queue": f"timeskip-{uuid.uuid4().hex[:8]}"})
    try:

        async def made() -> Any:  # on the loop the worker will run on
            return make_worker(env.client, settings, live.engine)

        worker, relay = live.run(made())
        relay.start()
        running = live.loop.submit(worker.run())
        try:
            yield TimeSkipping(live, env, settings.task_queue)
        finally:
            live.run(worker.shutdown())
            running.result(30)
            relay.stop()
    finally:
        live.run(env.shutdown())
