"""A deal as the workflow carries it: its input, the commands it accepts, the state it shows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .approval import ApprovalStep
from .catalogue import PriceBook
from .change_orders import ChangeOrder, ChangeOrderRequest
from .contract import Contract
from .invoices import Invoice, Payment
from .leads import Lead, LeadScore
from .messages import PortalAction
from .orders import Delivery, DeliveryRequest, Order
from .policy import DealPolicy
from .qualification import QualifyDecision
from .quotes import Quote, QuoteRequest
from .stages import DealStage
from .tax import TaxContext
from .users import Actor

Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class DealInput(BaseModel):
    """What starts a deal workflow."""

    model_config = ConfigDict(frozen=True)

    deal_id: str
    lead: Lead
    owner: str
    created_by: str
    policy: DealPolicy = Field(default_factory=DealPolicy)
    notify_owner: bool = True  # an import tells owners through their task list instead


class CustomerRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    customer_id: str
    name: str


class OpenedDeal(BaseModel):
    """The deal as recorded: matched to a customer, scored, with its creation time; or
    the open deal this lead duplicates (then nothing was recorded)."""

    model_config = ConfigDict(frozen=True)
    customer: CustomerRef | None = None
    score: LeadScore | None = None
    created_at: datetime | None = None
    duplicate_of: str | None = None


class TimelineEntry(BaseModel):
    model_config = ConfigDict(frozen=True)
    at: datetime
    stage: DealStage
    note: str | None = None


class DealState(BaseModel):
    """Everything a reader needs about one deal (shared/API.md `GET /deals/{id}`)."""

    deal_id: str
    stage: DealStage
    owner: str
    customer: CustomerRef | None = None
    contact: dict[str, Any] = Field(default_factory=dict)
    source: str | None = None
    score: LeadScore | None = None
    quotes: list[Quote] = Field(default_factory=list)
    contract: Contract | None = None
    approvals: list[ApprovalStep] = Field(default_factory=list)
    order: Order | None = None
    deliveries: list[Delivery] = Field(default_factory=list)
    invoices: list[Invoice] = Field(default_factory=list)
    payments: list[Payment] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    close_reason: str | None = None
    blocked: str | None = None  # a step refused for a business reason, until resumed
    policy_version: int | None = None  # the company policy it started with; None: before those
    change_orders: list[ChangeOrder] = Field(default_factory=list)
    # The lead's campaign attribution (utm_source, ...), as a web form or an import gave it.
    campaign: dict[str, str] = Field(default_factory=dict)


class ChangeOrderCommand(BaseModel):
    """A change of a signed deal, and the price book snapshot it is priced from."""

    model_config = ConfigDict(frozen=True)
    request: ChangeOrderRequest
    price_book: PriceBook
    actor: Actor
    tax: TaxContext | None = None  # as for QuoteCommand


class DealOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)
    deal_id: str
    stage: DealStage | None  # None: never became a deal (a duplicate of an open one)
    reason: str | None = None
    duplicate_of: str | None = None


class StageAnswer(BaseModel):
    """What an update that moves a deal answers: where the deal stands now."""

    deal_id: str
    stage: DealStage


# --- Bodies the API accepts (unknown fields refused) and the commands the workflow takes ---


class Qualification(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    decision: QualifyDecision
    reason: Reason | None = None


class QualifyCommand(BaseModel):
    model_config = ConfigDict(frozen=True)
    body: Qualification
    actor: Actor


class QuoteCommand(BaseModel):
    """A quote request and the price book snapshot it is priced from (kept in history)."""

    model_config = ConfigDict(frozen=True)
    request: QuoteRequest
    price_book: PriceBook
    actor: Actor
    # Seller's country and the customer's tax profile (domain/tax.py), read when the command
    # was sent. None in commands sent before tax rules: priced at the products' own rates.
    tax: TaxContext | None = None


class CustomerAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    reason: Reason | None = None


class QuoteAnswerCommand(BaseModel):
    model_config = ConfigDict(frozen=True)
    version: int
    accept: bool
    reason: str | None = None
    ip: str | None = None
    link_sent_to: str | None = None  # the address the portal link was e-mailed to


class ApprovalDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    decision: Literal["approve", "reject"]
    comment: Reason | None = None


class ApprovalCommand(BaseModel):
    model_config = ConfigDict(frozen=True)
    body: ApprovalDecision
    actor: Actor


class SignatureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Annotated[str, Field(min_length=1, max_length=200)]


class SignCommand(BaseModel):
    model_config = ConfigDict(frozen=True)
    version: int
    name: str
    ip: str | None = None
    link_sent_to: str | None = None  # the address the portal link was e-mailed to


class PortalLinkCommand(BaseModel):
    """Staff resend the customer's link, to the deal's contact only (never to themselves)."""

    model_config = ConfigDict(frozen=True)
    action: PortalAction
    actor: Actor


class PortalLinkSent(BaseModel):
    action: PortalAction
    version: int
    sent_to: str


class DeliveryCommand(BaseModel):
    model_config = ConfigDict(frozen=True)
    request: DeliveryRequest
    actor: Actor


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    reason: Reason


class CloseLostRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    reason: Reason


class CloseLostCommand(BaseModel):
    """The owner gives the deal up before signature (a rejected quote not worth redoing)."""

    model_config = ConfigDict(frozen=True)
    body: CloseLostRequest
    actor: Actor


class Reassignment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    owner: str = Field(min_length=1, max_length=64)
    reason: Reason | None = None


class ReassignCommand(BaseModel):
    model_config = ConfigDict(frozen=True)
    body: Reassignment
    actor: Actor


class ResumeCommand(BaseModel):
    """Try a blocked step again (after fixing its cause)."""

    model_config = ConfigDict(frozen=True)
    actor: Actor


class CancelCommand(BaseModel):
    model_config = ConfigDict(frozen=True)
    body: CancelRequest
    actor: Actor
