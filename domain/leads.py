"""Leads: what a rep or a channel captures, and how promising it looks (explainable score)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .money import Currency, ExactDecimal
from .tax import check_vat_id

Name = Annotated[str, Field(min_length=1, max_length=200)]
# A UTM parameter of the page a web lead came from (utm_source=newsletter, ...).
UtmValue = Annotated[str, Field(min_length=1, max_length=200)]


class LeadSource(StrEnum):
    WEB = "web"
    TRADE_SHOW = "trade_show"
    AD_CAMPAIGN = "ad_campaign"
    REFERRAL = "referral"
    PARTNER = "partner"
    OUTBOUND = "outbound"
    IMPORT = "import"
    OTHER = "other"


class Lead(BaseModel):
    """A lead as captured (shared/API.md `POST /leads`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    company: Name
    contact_name: Name
    email: EmailStr
    phone: Annotated[str, Field(max_length=40, pattern=r"^[0-9+() .\-/]*$")] | None = None
    source: LeadSource
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    # The company's VAT id, checked against `country` (domain/tax.py); a new customer keeps it.
    vat_id: Annotated[str, Field(min_length=4, max_length=20)] | None = None
    estimated_value: Annotated[ExactDecimal, Field(ge=0, le=10**12, decimal_places=2)] | None = None
    currency: Currency | None = None
    budget_confirmed: bool | None = None
    decision_maker: bool | None = None
    need: Annotated[str, Field(max_length=2000)] | None = None
    timeline_days: int | None = Field(default=None, ge=0, le=3650)
    notes: Annotated[str, Field(max_length=5000)] | None = None
    # ISO 639-1: the language of the e-mails the contact receives; None: the company's default.
    language: Annotated[str, Field(pattern=r"^[a-z]{2}$")] | None = None
    # Campaign attribution, as the web form captured it (POST /public/leads) or imported.
    utm_source: UtmValue | None = None
    utm_medium: UtmValue | None = None
    utm_campaign: UtmValue | None = None
    utm_term: UtmValue | None = None
    utm_content: UtmValue | None = None

    @field_validator("vat_id")
    @classmethod
    def _vat_id(cls, vat_id: str | None, info: ValidationInfo) -> str | None:
        return None if vat_id is None else check_vat_id(vat_id, info.data.get("country"))

    @model_validator(mode="after")
    def _value_has_currency(self) -> Lead:
        if self.estimated_value is not None and self.currency is None:
            raise ValueError("estimated_value needs a currency")
        return self

    @property
    def email_domain(self) -> str:
        return self.email.rsplit("@", 1)[1].lower()


class ScoreReason(BaseModel):
    model_config = ConfigDict(frozen=True)
    rule: str
    points: int


class LeadScore(BaseModel):
    """A score from 0 to 100 with the rules that made it."""

    model_config = ConfigDict(frozen=True)
    score: int = Field(ge=0, le=100)
    reasons: list[ScoreReason]


_SOURCE_POINTS = {
    LeadSource.REFERRAL: 15,
    LeadSource.PARTNER: 12,
    LeadSource.TRADE_SHOW: 10,
    LeadSource.WEB: 8,
    LeadSource.OUTBOUND: 5,
    LeadSource.AD_CAMPAIGN: 5,
    LeadSource.IMPORT: 2,
    LeadSource.OTHER: 0,
}


def score_lead(lead: Lead) -> LeadScore:
    """BANT (budget, authority, need, timeline) plus source and size, each rule explained."""
    reasons: list[ScoreReason] = []

    def add(rule: str, points: int) -> None:
        if points:
            reasons.append(ScoreReason(rule=rule, points=points))

    add("budget confirmed", 20 if lead.budget_confirmed else 0)
    add("talking to the decision maker", 20 if lead.decision_maker else 0)
    add("need described", 15 if lead.need else 0)
    if lead.timeline_days is not None:
        add("buying within 90 days", 15 if lead.timeline_days <= 90 else 0)
        add("buying within 180 days", 8 if 90 < lead.timeline_days <= 180 else 0)
    add(f"source: {lead.source}", _SOURCE_POINTS[lead.source])
    value = lead.estimated_value or Decimal(0)
    add("estimated value >= 50,000", 15 if value >= 50_000 else 0)
    add("estimated value >= 10,000", 8 if 10_000 <= value < 50_000 else 0)
    return LeadScore(score=min(100, sum(r.points for r in reasons)), reasons=reasons)
