"""SQL round trips of the reads the API serves: a whole deal in at most three statements,
and every list in a fixed number of statements, however many rows it holds (no N+1).

The commands run here as the API runs them, on services wired like the app's (on the test's
own engine, so only these calls are counted)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from adapters.storage.views.deals import DealFilter
from adapters.storage.views.invoices import InvoiceFilter
from adapters.storage.views.paging import Page
from api.commands import approvals, customers, deals, invoices, tasks
from api.services import Services, make_services
from domain.stages import OPEN_STAGES
from domain.users import Actor, Role
from tests.flows import DISCOUNTED_LINES, create_lead, quote_body, to_approval, to_fulfilment

REP = Actor(username="rep1", role=Role.SALES_REP)
MANAGER = Actor(username="manager", role=Role.SALES_MANAGER)
FINANCE = Actor(username="finance", role=Role.FINANCE)
OPS = Actor(username="ops", role=Role.OPS)


class Statements:
    """Counts the SQL statements one read sends through the engine: those of its own thread
    (the session's workers and outbox relays share the engine and poll it meanwhile)."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.reader: int | None = None

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if threading.get_ident() == self.reader:
            self.sent.append(statement)

    def of(self, read: Callable[[], object]) -> int:
        self.sent.clear()
        self.reader = threading.get_ident()
        try:
            read()
        finally:
            self.reader = None
        return len(self.sent)


@pytest.fixture(scope="module")
def services(live) -> Services:
    return make_services(live.settings, live.engine, live.client)


@pytest.fixture
def statements(live) -> Iterator[Statements]:
    counter = Statements()
    event.listen(live.engine, "before_cursor_execute", counter)
    yield counter
    event.remove(live.engine, "before_cursor_execute", counter)


def test_a_whole_deal_is_read_in_at_most_three_statements(live, as_user, services, statements):
    rep, manager, finance = as_user("rep1"), as_user("manager"), as_user("finance")
    deal_id = to_fulfilment(
        live, rep, manager, quote_body(lines=DISCOUNTED_LINES, billing_plan={"kind": "upfront"})
    )["deal_id"]
    number = finance.every(f"/invoices?deal_id={deal_id}")[0]["number"]
    paid = finance.post(
        "/payments",
        json={
            "invoice_number": number,
            "amount": "10.00",
            "currency": "EUR",
            "reference": f"Q-{uuid.uuid4().hex}",
        },
    )
    assert paid.status_code == 201, paid.text

    assert statements.of(lambda: deals.deal(services, REP, deal_id)) <= 3
    state = deals.deal(services, REP, deal_id)
    assert (len(state.quotes), len(state.approvals), len(state.invoices)) == (1, 1, 1)
    assert state.contract is not None and state.order is not None and state.payments
    assert len(state.timeline) >= 4
    # The same deal over HTTP: what the one statement read is what the API answers, and its
    # win probability (the scorer's statements: model version, four reads, the closings).
    assert statements.of(lambda: deals.deal_detail(services, REP, deal_id)) <= 3 + 6
    answer = rep.get(f"/deals/{deal_id}").json()
    assert answer.pop("win_probability")["source"] == "rules"
    assert answer == state.model_dump(mode="json")


LISTS: dict[str, tuple[int, Callable[[Services], object]]] = {
    # name: (most statements, the read)
    "deals": (1, lambda s: deals.list_deals(s, MANAGER, DealFilter(), 200)),
    "rep's deals": (1, lambda s: deals.list_deals(s, REP, DealFilter(), 200)),
    "board": (len(OPEN_STAGES), lambda s: deals.board(s, MANAGER)),
    "customers": (1, lambda s: customers.list_customers(s, MANAGER, 200)),
    "rep's customers": (1, lambda s: customers.list_customers(s, REP, 200)),
    "invoices": (1, lambda s: invoices.list_invoices(s, FINANCE, InvoiceFilter(), 200)),
    "approvals": (1, lambda s: approvals.pending_page(s, MANAGER, 200, None)),
    "rep's tasks": (3, lambda s: tasks.tasks_page(s, REP, datetime.now(UTC), None, 200, None)),
    "ops tasks": (3, lambda s: tasks.tasks_page(s, OPS, datetime.now(UTC), None, 200, None)),
    # finance's: and the bank statement lines to match
    "finance tasks": (
        4,
        lambda s: tasks.tasks_page(s, FINANCE, datetime.now(UTC), None, 200, None),
    ),
    "manager tasks": (
        3,
        lambda s: tasks.tasks_page(s, MANAGER, datetime.now(UTC), None, 200, None),
    ),
}


def add_rows(live, as_user, n: int) -> None:
    """n more of everything the lists show: leads (each a new customer), a deal awaiting
    approval, one being fulfilled with an invoice."""
    rep, manager = as_user("rep1"), as_user("manager")
    for _ in range(n):
        create_lead(rep)
    to_approval(live, rep)
    to_fulfilment(live, rep, manager, quote_body(billing_plan={"kind": "upfront"}))


def test_no_list_costs_a_statement_per_row(live, as_user, services, statements):
    add_rows(live, as_user, 2)
    before = {name: statements.of(lambda r=read: r(services)) for name, (_, read) in LISTS.items()}
    add_rows(live, as_user, 5)
    after = {name: statements.of(lambda r=read: r(services)) for name, (_, read) in LISTS.items()}
    # The board reads each stage that has deals once: other tests' deals moving on in the
    # background may fill a stage meanwhile, so it is held to its bound only.
    assert {n: c for n, c in after.items() if n != "board"} == {
        n: c for n, c in before.items() if n != "board"
    }
    assert {name: n for name, n in after.items() if n > LISTS[name][0]} == {}


def test_a_customer_page_is_six_statements_whatever_its_deals(live, as_user, services, statements):
    deal = create_lead(as_user("rep1"))
    for _ in range(3):
        create_lead(as_user("rep1"), company=deal["customer"]["name"])
    customer_id = deal["customer"]["customer_id"]
    # The page in three, its credit standing in two (terms, open invoices), its credit in one.
    assert statements.of(lambda: customers.customer(services, REP, customer_id)) <= 6


PAGED: dict[str, Callable[[Services, int, str | None], Page[Any]]] = {
    # name: a page of `limit` after `cursor`
    "customers": lambda s, n, c: customers.list_customers(s, MANAGER, n, c),
    "rep's customers": lambda s, n, c: customers.list_customers(s, REP, n, c),
    "invoices": lambda s, n, c: invoices.list_invoices(s, FINANCE, InvoiceFilter(), n, c),
    "rep's invoices": lambda s, n, c: invoices.list_invoices(s, REP, InvoiceFilter(), n, c),
}


def test_a_page_costs_one_statement_whatever_its_size_or_place(live, as_user, services, statements):
    add_rows(live, as_user, 3)
    for name, read in PAGED.items():
        first = read(services, 1, None)
        assert first.next_cursor is not None, name  # there is a second page to ask for
        counts = {
            "one item": statements.of(lambda r=read: r(services, 1, None)),
            "two hundred": statements.of(lambda r=read: r(services, 200, None)),
            "second page": statements.of(lambda r=read, f=first: r(services, 1, f.next_cursor)),
        }
        assert counts == {"one item": 1, "two hundred": 1, "second page": 1}, name
