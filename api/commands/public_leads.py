"""The public web-to-lead form: anyone may send a lead, nobody learns anything from the
answer. A filled honeypot, or a contact who already has an open deal, is answered as
accepted and creates nothing (no enumeration of customers, nothing for a bot to tune)."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from domain.deal import DealInput
from domain.errors import Conflict, DomainError
from domain.leads import Lead, LeadSource, Name, UtmValue

from ..services import Services
from .leads import _policy

log = logging.getLogger(__name__)
WEB_FORM = "web-form"  # the actor of the deals it creates, in their audit chains


class TooManyRequests(DomainError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many requests; try again later")
        self.retry_after = retry_after


class PublicLeadIn(BaseModel):
    """What a website's contact form sends (JSON or an HTML form post). `website` is the
    honeypot: hidden from people, filled by bots."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    company: Name
    contact_name: Name
    email: EmailStr
    phone: Annotated[str, Field(max_length=40, pattern=r"^[0-9+() .\-/]*$")] | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    need: Annotated[str, Field(max_length=2000)] | None = None
    timeline_days: int | None = Field(default=None, ge=0, le=3650)
    language: Annotated[str, Field(pattern=r"^[a-z]{2}$")] | None = None
    website: Annotated[str, Field(max_length=500)] | None = None
    utm_source: UtmValue | None = None
    utm_medium: UtmValue | None = None
    utm_campaign: UtmValue | None = None
    utm_term: UtmValue | None = None
    utm_content: UtmValue | None = None

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        """An HTML form sends its empty inputs as empty strings."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data

    def lead(self) -> Lead:
        return Lead.model_validate(
            {**self.model_dump(exclude={"website"}, exclude_none=True), "source": LeadSource.WEB}
        )


class Accepted(BaseModel):
    status: str = "accepted"


def submit(services: Services, client: str, body: PublicLeadIn) -> Accepted:
    """Start a deal for a new contact, owned by the assignment rules; the same answer for a
    bot, a duplicate and a real lead."""
    if body.website:
        log.info("web-to-lead: honeypot filled by %s; nothing created", client)
        return Accepted()
    email = body.email.lower()
    if services.views.deals.open_deals_by_email([email]).get(email) is not None:
        log.info("web-to-lead: %s already has an open deal; nothing created", client)
        return Accepted()
    lead = body.lead()
    owner = services.assignment.owners_for([lead.country])[0]
    deal = DealInput(
        deal_id=uuid.uuid4().hex,
        lead=lead,
        owner=owner,
        created_by=WEB_FORM,
        policy=_policy(services),
    )
    try:
        services.temporal.open_deal(deal)
    except Conflict:  # the same contact's deal opened meanwhile: told to nobody here either
        log.info("web-to-lead: %s raced an open deal; nothing created", client)
    return Accepted()


def throttle(services: Services, client: str) -> None:
    """429 once `client` has sent more than the form's rate allows."""
    wait = services.public_leads.take(client)
    if wait is not None:
        raise TooManyRequests(wait)
