"""Portal links: which version waits for the customer, and what a link shows."""

from __future__ import annotations

import pytest

from domain.contract import Contract
from domain.deal import CustomerRef, DealState
from domain.errors import NotFound
from domain.portal import portal_document, waiting_version
from domain.quotes import QuoteStatus
from domain.stages import DealStage
from tests.unit.examples import ISSUED_AT, one_line_quote


def quote_v(version: int, status: QuoteStatus):
    return one_line_quote("100.00").model_copy(update={"version": version, "status": status})


def contract_v(version: int) -> Contract:
    return Contract(
        version=version, quote_version=1, body="terms", sha256="0" * 64, drafted_at=ISSUED_AT
    )


def state(stage: DealStage, quotes=(), contract: Contract | None = None) -> DealState:
    return DealState(
        deal_id="d1",
        stage=stage,
        owner="rep1",
        customer=CustomerRef(customer_id="c1", name="Acme"),
        quotes=list(quotes),
        contract=contract,
    )


def test_the_newest_open_quote_waits_for_the_customer():
    deal = state(
        DealStage.QUOTING, [quote_v(1, QuoteStatus.SUPERSEDED), quote_v(2, QuoteStatus.OPEN)]
    )
    assert waiting_version(deal, "quote") == 2


def test_no_quote_waits_when_none_is_open():
    deal = state(DealStage.QUOTING, [quote_v(1, QuoteStatus.REJECTED)])
    assert waiting_version(deal, "quote") is None


def test_the_contract_waits_only_while_awaiting_its_signature():
    assert waiting_version(state(DealStage.AWAITING_SIGNATURE, contract=contract_v(3)), "contract")
    assert waiting_version(state(DealStage.FULFILLING, contract=contract_v(3)), "contract") is None
    assert waiting_version(state(DealStage.AWAITING_SIGNATURE), "contract") is None


def test_a_quote_link_shows_its_own_version_even_when_superseded():
    deal = state(
        DealStage.QUOTING, [quote_v(1, QuoteStatus.SUPERSEDED), quote_v(2, QuoteStatus.OPEN)]
    )
    shown = portal_document(deal, "quote", 1)
    assert shown["quote"]["version"] == 1 and shown["quote"]["status"] == "superseded"
    assert shown["company"] == "Acme" and "contract" not in shown


def test_a_contract_link_shows_the_contract_of_its_version_only():
    deal = state(DealStage.AWAITING_SIGNATURE, contract=contract_v(2))
    assert portal_document(deal, "contract", 2)["contract"]["version"] == 2
    with pytest.raises(NotFound):
        portal_document(deal, "contract", 1)


def test_a_link_to_a_quote_the_deal_never_had_is_not_found():
    with pytest.raises(NotFound):
        portal_document(state(DealStage.QUOTING, [quote_v(1, QuoteStatus.OPEN)]), "quote", 7)
