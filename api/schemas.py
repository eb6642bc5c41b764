"""Request and response bodies that exist only at the HTTP edge."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from domain.catalogue import PriceBookEntry
from domain.deal import CustomerRef
from domain.invoices import Invoice, Payment
from domain.leads import Lead, LeadScore
from domain.stages import DealStage


class LeadIn(Lead):
    """A lead; a manager may name its `owner` (default: whoever enters it); an admin may
    shorten its policy `day` (demos and training), in seconds."""

    owner: str | None = Field(default=None, min_length=1, max_length=64)
    day_seconds: float | None = Field(default=None, ge=0.01, le=86400)


class LeadCreated(BaseModel):
    deal_id: str
    workflow_id: str
    stage: DealStage
    owner: str
    customer: CustomerRef
    score: LeadScore


class ProductIn(PriceBookEntry):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PaymentOut(BaseModel):
    payment: Payment
    invoice: Invoice
    balance: Decimal


class Health(BaseModel):
    status: str
    database: str
    temporal: str
