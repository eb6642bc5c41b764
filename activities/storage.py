"""Activities that write the deal's record in Postgres (see adapters.storage.deals)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from temporalio import activity

from domain.approval import ApprovalStep
from domain.contract import Contract, Signature
from domain.credit import CreditStanding
from domain.deal import DealInput, OpenedDeal
from domain.leads import LeadScore
from domain.money import Money
from domain.orders import Delivery, Order
from domain.quotes import Quote, QuoteStatus
from domain.stages import DealStage

if TYPE_CHECKING:
    from adapters.storage.credit import CustomerCredit
    from adapters.storage.deals import DealStore


class OpenDeal(BaseModel):
    deal: DealInput
    score: LeadScore
    at: datetime
    workflow_id: str


class OwnerChange(BaseModel):
    deal_id: str
    owner: str
    at: datetime
    actor: str
    reason: str | None = None


class StageChange(BaseModel):
    deal_id: str
    seq: int
    stage: DealStage
    at: datetime
    actor: str
    note: str | None = None


class DealEvent(BaseModel):
    deal_id: str
    key: str
    at: datetime
    actor: str
    action: str
    data: dict[str, Any] = Field(default_factory=dict)


class QuoteRecord(BaseModel):
    deal_id: str
    quote: Quote
    actor: str


class QuoteStatusChange(BaseModel):
    deal_id: str
    version: int
    status: QuoteStatus
    at: datetime
    actor: str
    reason: str | None = None


class ContractRecord(BaseModel):
    deal_id: str
    contract: Contract
    steps: list[ApprovalStep]


class ApprovalStepRecord(BaseModel):
    deal_id: str
    contract_version: int
    step: ApprovalStep
    action: str  # approval.requested | escalated | approved | rejected | withdrawn
    at: datetime
    actor: str


class SignatureRecord(BaseModel):
    deal_id: str
    version: int
    signature: Signature


class OrderRecord(BaseModel):
    deal_id: str
    order: Order


class Blocked(BaseModel):
    deal_id: str
    reason: str | None  # None: resumed
    at: datetime
    key: str
    actor: str = "system"


class CreditQuery(BaseModel):
    deal_id: str
    currency: str


class CreditStandingQuery(BaseModel):
    deal_id: str
    default_limit: Money  # the deal's policy limit, in its currency: for customers without terms
    at: datetime


class OrderCancellation(BaseModel):
    deal_id: str
    at: datetime
    actor: str


class DeliveryRecord(BaseModel):
    deal_id: str
    delivery: Delivery
    order: Order
    actor: str


class StorageActivities:
    def __init__(self, deals: DealStore, credit: CustomerCredit) -> None:
        self.deals = deals
        self.credit = credit

    @activity.defn(name="open_deal")
    def open_deal(self, cmd: OpenDeal) -> OpenedDeal:
        return self.deals.open_deal(cmd.deal, cmd.score, cmd.at, cmd.workflow_id)

    @activity.defn(name="reassign_owner")
    def reassign_owner(self, cmd: OwnerChange) -> None:
        self.deals.reassign(cmd.deal_id, cmd.owner, cmd.at, cmd.actor, cmd.reason)

    @activity.defn(name="change_stage")
    def change_stage(self, cmd: StageChange) -> None:
        self.deals.change_stage(cmd.deal_id, cmd.seq, cmd.stage, cmd.at, cmd.actor, cmd.note)

    @activity.defn(name="record_deal_event")
    def record_deal_event(self, cmd: DealEvent) -> None:
        self.deals.record_event(cmd.deal_id, cmd.key, cmd.at, cmd.actor, cmd.action, cmd.data)

    @activity.defn(name="save_quote")
    def save_quote(self, cmd: QuoteRecord) -> None:
        self.deals.save_quote(cmd.deal_id, cmd.quote, cmd.actor)

    @activity.defn(name="set_quote_status")
    def set_quote_status(self, cmd: QuoteStatusChange) -> None:
        self.deals.set_quote_status(
            cmd.deal_id, cmd.version, cmd.status, cmd.at, cmd.actor, cmd.reason
        )

    @activity.defn(name="save_contract")
    def save_contract(self, cmd: ContractRecord) -> None:
        self.deals.save_contract(cmd.deal_id, cmd.contract, cmd.steps)

    @activity.defn(name="update_approval_step")
    def update_approval_step(self, cmd: ApprovalStepRecord) -> None:
        self.deals.update_approval_step(
            cmd.deal_id, cmd.contract_version, cmd.step, cmd.action, cmd.at, cmd.actor
        )

    @activity.defn(name="record_signature")
    def record_signature(self, cmd: SignatureRecord) -> None:
        self.deals.record_signature(cmd.deal_id, cmd.version, cmd.signature)

    @activity.defn(name="create_order")
    def create_order(self, cmd: OrderRecord) -> None:
        self.deals.create_order(cmd.deal_id, cmd.order)

    @activity.defn(name="set_blocked")
    def set_blocked(self, cmd: Blocked) -> None:
        self.deals.set_blocked(cmd.deal_id, cmd.reason, cmd.at, cmd.actor, cmd.key)

    @activity.defn(name="read_credit_exposure")
    def read_credit_exposure(self, cmd: CreditQuery) -> Decimal:
        return self.deals.credit_exposure(cmd.deal_id, cmd.currency)

    @activity.defn(name="read_credit_standing")
    def read_credit_standing(self, cmd: CreditStandingQuery) -> CreditStanding:
        return self.credit.deal_standing(cmd.deal_id, cmd.at, cmd.default_limit)

    @activity.defn(name="cancel_order")
    def cancel_order(self, cmd: OrderCancellation) -> None:
        self.deals.cancel_order(cmd.deal_id, cmd.at, cmd.actor)

    @activity.defn(name="record_delivery")
    def record_delivery(self, cmd: DeliveryRecord) -> None:
        self.deals.record_delivery(cmd.deal_id, cmd.delivery, cmd.order, cmd.actor)
