"""E-mails the deal sends: which template, to whom, with which portal link."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import InvalidInput
from .users import Role


class NoRecipients(InvalidInput):
    """Nobody to send an e-mail to (a role with no active user, say): retrying won't help."""


PortalAction = Literal["quote", "contract"]


class PortalLink(BaseModel):
    """A link for the customer, signed when the e-mail is written (never in workflow history)."""

    model_config = ConfigDict(frozen=True)
    action: PortalAction
    version: int
    expires_at: datetime | None = None  # a quote's link lapses with the quote


class Attachment(BaseModel):
    """A document to attach, rendered when the e-mail is sent: a quote or an invoice."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["quote", "invoice"]
    deal_id: str | None = None
    version: int | None = None
    number: str | None = None


class EmailRequest(BaseModel):
    """One e-mail, sent once per `key`. Recipients are addresses, a user, or a role's users."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(min_length=1, max_length=200)
    deal_id: str | None = None
    template: str
    to: list[str] = Field(default_factory=list)
    to_user: str | None = None
    to_role: Role | None = None
    exclude_user: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    portal: PortalLink | None = None
    attachments: list[Attachment] = Field(default_factory=list)
