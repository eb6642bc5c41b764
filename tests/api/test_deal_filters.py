"""GET /deals filtered by amount range and by open or closed (the UI's team pipeline)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.conftest import Api
from tests.flows import create_lead, quote_body, submit_quote, to_quoting


def ids(api: Api, **query: str) -> set[str]:
    answer = api.get("/deals", params={"limit": "200", **query})
    assert answer.status_code == 200, answer.text
    return {d["deal_id"] for d in answer.json()["items"]}


def test_deals_are_filtered_by_amount_range_and_closed(as_user: Callable[[str], Api]) -> None:
    rep = as_user("rep1")
    source = "web"
    quoted = to_quoting(rep, company=f"Range {uuid.uuid4().hex[:6]} AG")["deal_id"]
    submit_quote(rep, quoted, quote_body(lines=[{"sku": "GW-100", "quantity": "1"}]))
    lost = to_quoting(rep)["deal_id"]
    assert rep.post(f"/deals/{lost}/close-lost", json={"reason": "no budget"}).status_code == 200
    fresh = create_lead(rep)["deal_id"]

    # A deal's amount is its quote's net: GW-100 at 349.90 EUR.
    assert quoted in ids(rep, min_amount="349.90", max_amount="349.90")
    assert quoted not in ids(rep, min_amount="349.91")
    assert quoted not in ids(rep, max_amount="349.89")
    closed = ids(rep, closed="true", source=source)
    assert lost in closed and fresh not in closed
    still_open = ids(rep, closed="false", source=source)
    assert fresh in still_open and lost not in still_open


def test_a_negative_amount_is_refused_naming_the_field(as_user: Callable[[str], Api]) -> None:
    answer = as_user("manager").get("/deals", params={"min_amount": "-1"})
    assert answer.status_code == 422
    assert "min_amount" in answer.text
