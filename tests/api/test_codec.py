"""Personal data sealed in Temporal: a deal's history holds no plain name or e-mail; the
Temporal UI's codec endpoint opens it for ops and admins only; the deal's summary and
details (customer, stage, amount) are there for the UI, sealed too."""

from __future__ import annotations

import base64
from typing import Any

from temporalio.api.common.v1 import Payload

from tests.flows import create_lead, quote_body, submit_quote, to_quoting
from workflows.ids import deal_workflow_id


def raw_history(live: Any, deal_id: str) -> bytes:
    """The deal's history as Temporal stores it, its events' bytes: no codec applied."""

    async def fetch() -> bytes:
        handle = live.client.get_workflow_handle(deal_workflow_id(deal_id))
        history = await handle.fetch_history()
        return b"".join(event.SerializeToString() for event in history.events)

    found: bytes = live.run(fetch())
    return found


def sealed_payloads(live: Any, deal_id: str) -> list[Payload]:
    async def fetch() -> list[Payload]:
        handle = live.client.get_workflow_handle(deal_workflow_id(deal_id))
        history = await handle.fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        return list(started.input.payloads)

    return list(live.run(fetch()))


def as_json(payload: Payload) -> dict[str, Any]:
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }


def test_a_deals_history_holds_no_plain_personal_data_and_ops_can_open_it(live, as_user):
    rep = as_user("rep1")
    deal = create_lead(rep, company="Sealed Widgets GmbH", email="grace@sealed.example")
    deal_id = deal["deal_id"]
    stored = raw_history(live, deal_id)
    for personal in (b"grace@sealed.example", b"Sealed Widgets", b"Ada Lovelace"):
        assert personal not in stored
    assert b"binary/encrypted" in stored

    body = {"payloads": [as_json(p) for p in sealed_payloads(live, deal_id)]}
    opened = as_user("ops").post("/ui/codec/decode", json=body)
    assert opened.status_code == 200, opened.text
    data = base64.b64decode(opened.json()["payloads"][0]["data"])
    assert b"grace@sealed.example" in data
    assert as_user("rep1").post("/ui/codec/decode", json=body).status_code == 403
    assert as_user(None).post("/ui/codec/decode", json=body).status_code == 401
    bad = as_user("admin").post("/ui/codec/decode", json={"payloads": [{"data": "%%%"}]})
    assert bad.status_code == 422


def test_the_temporal_ui_shows_each_deal_with_its_customer_stage_and_amount(live, as_user):
    rep = as_user("rep1")
    deal = to_quoting(rep, company="Summary Systems AG")
    submit_quote(rep, deal["deal_id"], quote_body())

    async def described() -> tuple[str | None, str]:
        handle = live.client.get_workflow_handle(deal_workflow_id(deal["deal_id"]))
        description = await handle.describe()
        metadata = await handle.query("__temporal_workflow_metadata")
        return await description.static_summary(), str(metadata)

    summary, details = live.run(described())
    assert summary is not None and summary.startswith("Summary Systems AG")
    assert "Summary Systems AG" in details and "EUR net" in details
