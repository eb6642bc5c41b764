"""The customer portal: staff resend a link; the customer, holding a signed link, reads the
quote or contract and answers it. A link works for its own deal, action and version only."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from adapters.portal_tokens import PortalClaim
from domain.access import Action
from domain.deal import (
    PortalLinkCommand,
    PortalLinkSent,
    QuoteAnswerCommand,
    SignCommand,
    StageAnswer,
)
from domain.errors import NotAllowed, NotFound, WrongStage
from domain.messages import PortalAction
from domain.portal import LINK_INVALID, portal_document, waiting_version
from domain.users import Actor
from workflows.deal import DealWorkflow

from ..services import Services
from .authorization import authorize, visible_state


class PortalLinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: PortalAction


def portal_link(
    services: Services, user: Actor, deal_id: str, action: PortalAction
) -> PortalLinkSent:
    """Send the customer's link to the open quote or the contract again, to the deal's
    contact; the answer says where to, never the link (staff must not act as the customer)."""
    state = visible_state(services, user, deal_id)
    authorize(user, Action.QUOTE, state.owner)
    if waiting_version(state, action) is None:
        raise WrongStage(f"there is no {action} waiting for the customer")
    return services.temporal.update_deal(
        deal_id, DealWorkflow.send_portal_link, PortalLinkCommand(action=action, actor=user)
    )


def claim(services: Services, token: str, action: PortalAction | None = None) -> PortalClaim:
    """The link's claim: 404 if forged or expired, 403 if it is for another action."""
    found = services.portal.verify(token)
    if found is None:
        raise NotFound(LINK_INVALID)
    if action is not None and found.action != action:
        raise NotAllowed(f"this link is for the {found.action}, not the {action}")
    return found


def document(services: Services, token: str) -> dict[str, Any]:
    """What the link shows: its quote or contract, with the deal's stage and company."""
    found = claim(services, token)
    state = services.views.deals.state(found.deal_id)
    if state is None:
        raise NotFound(LINK_INVALID)
    return portal_document(state, found.action, found.version)


def quote_pdf(services: Services, token: str) -> tuple[int, bytes]:
    """The quote as the PDF the customer received, and its version."""
    found = claim(services, token, "quote")
    content = services.documents.quote(found.deal_id, found.version)
    if content is None:
        raise NotFound(LINK_INVALID)
    return found.version, content


def answer_quote(
    services: Services, token: str, accept: bool, reason: str | None, ip: str | None
) -> StageAnswer:
    found = claim(services, token, "quote")
    return services.temporal.update_deal(
        found.deal_id,
        DealWorkflow.answer_quote,
        QuoteAnswerCommand(
            version=found.version,
            accept=accept,
            reason=reason,
            ip=ip,
            link_sent_to=found.sent_to,
        ),
    )


def sign(services: Services, token: str, name: str, ip: str | None) -> StageAnswer:
    found = claim(services, token, "contract")
    return services.temporal.update_deal(
        found.deal_id,
        DealWorkflow.sign_contract,
        SignCommand(version=found.version, name=name, ip=ip, link_sent_to=found.sent_to),
    )
