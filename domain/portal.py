"""What a customer's portal link shows and which version a new link may point at."""

from __future__ import annotations

from typing import Any

from .deal import DealState
from .errors import NotFound
from .messages import PortalAction
from .stages import DealStage

LINK_INVALID = "this link is not valid or has expired"


def waiting_version(state: DealState, action: PortalAction) -> int | None:
    """The version of the quote (the newest open one) or contract (while it awaits its
    signature) that waits for the customer; None when nothing does."""
    if action == "quote":
        open_quotes = [q.version for q in state.quotes if q.status == "open"]
        return open_quotes[-1] if open_quotes else None
    if state.stage == DealStage.AWAITING_SIGNATURE and state.contract is not None:
        return state.contract.version
    return None


def portal_document(state: DealState, action: PortalAction, version: int) -> dict[str, Any]:
    """The quote or contract a link shows (a superseded quote still shows, marked so);
    NotFound when the deal has no such version."""
    view: dict[str, Any] = {
        "deal_id": state.deal_id,
        "action": action,
        "version": version,
        "stage": state.stage,
        "company": state.customer.name if state.customer else None,
    }
    if action == "quote":
        quote = next((q for q in state.quotes if q.version == version), None)
        if quote is None:
            raise NotFound(LINK_INVALID)
        view["quote"] = quote.model_dump(mode="json")
    else:
        if state.contract is None or state.contract.version != version:
            raise NotFound(LINK_INVALID)
        view["contract"] = state.contract.model_dump(mode="json")
    return view
