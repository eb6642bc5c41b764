"""What a customer's portal link shows and which version a new link may point at."""

from __future__ import annotations

from typing import Any

from .change_orders import ChangeOrderStatus
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
    change = next(
        (c for c in state.change_orders if c.status is ChangeOrderStatus.AWAITING_SIGNATURE), None
    )
    return change.contract_version if change is not None else None


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
    elif state.contract is not None and state.contract.version == version:
        view["contract"] = state.contract.model_dump(mode="json")
    else:  # a change order's new version
        change = next((c for c in state.change_orders if c.contract_version == version), None)
        if change is None:
            raise NotFound(LINK_INVALID)
        view["contract"] = change.contract.model_dump(mode="json")
        view["change_order"] = change.model_dump(mode="json", exclude={"contract"})
    return view
