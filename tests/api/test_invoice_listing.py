"""The invoice list finance pages through: its customer's name on each invoice, a filter by
part of that name, overdue ones only, and pages that neither skip nor repeat an invoice."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from adapters.storage.views.invoices import InvoiceFilter, InvoiceViews
from tests.conftest import Api, Live
from tests.flows import quote_body, to_fulfilment


def invoices_of(live: Live, as_user: Callable[[str], Api], company: str, deals: int) -> set[str]:
    numbers = set()
    for _ in range(deals):
        quote = quote_body(billing_plan={"kind": "upfront"})
        deal = to_fulfilment(live, as_user("rep1"), as_user("manager"), quote, company=company)
        found = as_user("finance").every(f"/invoices?deal_id={deal['deal_id']}")
        numbers |= {i["number"] for i in found}
    return numbers


def test_the_list_filters_by_customer_name_and_overdue_and_pages_without_gaps(live, as_user):
    tag = uuid.uuid4().hex[:6]
    company = f"Pager {tag} AG"
    numbers = invoices_of(live, as_user, company, deals=2)
    views = InvoiceViews(live.engine)
    by_name = InvoiceFilter(customer_name=f"pager {tag}")  # any case, a part of the name

    listed = views.listing(by_name, 10, None).items
    first = views.listing(by_name, 1, None)
    second = views.listing(by_name, 1, first.next_cursor)

    assert {row.invoice.number for row in listed} == numbers
    assert {row.customer_name for row in listed} == {company}
    assert [row.invoice.number for row in first.items + second.items] == [
        r.invoice.number for r in listed
    ]
    assert second.next_cursor is None  # two invoices: no third page
    today = datetime.now(UTC).date()
    not_yet = by_name.model_copy(update={"overdue_on": today})
    later = by_name.model_copy(update={"overdue_on": today + timedelta(days=400)})
    assert views.listing(not_yet, 10, None).items == []  # due in the future: not overdue today
    assert {row.invoice.number for row in views.listing(later, 10, None).items} == numbers


def test_a_customer_name_with_sql_wildcards_matches_only_itself(live, as_user):
    views = InvoiceViews(live.engine)
    assert views.listing(InvoiceFilter(customer_name="%"), 10, None).items == []
