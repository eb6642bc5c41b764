"""Which customer a lead belongs to: the same company name, or the same company e-mail domain;
one open deal per contact; and the details invoices and tax rules need of a customer."""

from __future__ import annotations

import re
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from .errors import InvalidInput
from .tax import CountryCode, CustomerKind, CustomerTax, check_vat_id

T = TypeVar("T")

FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "proton.me",
        "protonmail.com",
        "mail.com",
        "yandex.com",
        "zoho.com",
        "t-online.de",
    }
)

_LEGAL_FORMS = re.compile(
    r"\b(inc|incorporated|ltd|limited|llc|llp|plc|gmbh|ag|sa|sas|sarl|bv|nv|oy|ab|as|spa|srl"
    r"|co|corp|corporation|company|kg|ug|pty)\b\.?"
)


def company_key(name: str) -> str:
    """`ACME GmbH.`, `Acme` and ` acme  gmbh` are one company."""
    key = _LEGAL_FORMS.sub(" ", name.casefold())
    key = re.sub(r"[\W_]+", " ", key)  # any letter of any script counts, punctuation not
    return " ".join(key.split()) or name.strip().casefold()


def company_domain(email_domain: str) -> str | None:
    """The domain that identifies a company, or None for free mail providers."""
    domain = email_domain.lower()
    return None if domain in FREE_MAIL_DOMAINS else domain


def match_customer(by_name: T | None, by_domain: T | None) -> T | None:
    """The customer a lead belongs to: the one of the same company name (`company_key`);
    else the oldest one of the same company e-mail domain (`company_domain`, never a free
    mail provider's); else None, and the lead makes a new customer."""
    return by_name if by_name is not None else by_domain


def contact_key(email: str) -> str:
    """A contact may have one open deal at a time: a second lead for the same address
    (in any letter case) while one is open is a duplicate of that deal."""
    return email.strip().lower()


class CustomerDetails(BaseModel):
    """What an invoice and the tax rules need of a customer (domain/tax.py): its address,
    country (ISO 3166-1 alpha-2), VAT id and whether it is a business or a consumer."""

    model_config = ConfigDict(frozen=True)

    address: str | None = None
    country: CountryCode | None = None
    vat_id: str | None = None
    kind: CustomerKind = CustomerKind.BUSINESS

    @property
    def tax(self) -> CustomerTax:
        return CustomerTax(country=self.country, vat_id=self.vat_id, kind=self.kind)


class CustomerDetailsIn(BaseModel):
    """`PATCH /customers/{id}`: only the fields sent change; `null` clears one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str | None = Field(default=None, min_length=1, max_length=500)
    country: CountryCode | None = None
    vat_id: str | None = Field(default=None, min_length=4, max_length=20)
    kind: CustomerKind | None = None


def apply_details(current: CustomerDetails, change: CustomerDetailsIn) -> CustomerDetails:
    """The customer's details after `change`. A VAT id must suit the country it ends with (an
    EU id: its format and check digits, of that very state); a consumer has none. Refused
    with InvalidInput naming the field; the VAT id is kept in its compact form."""
    sent = change.model_dump(include=change.model_fields_set)
    if sent.get("kind", True) is None:
        raise InvalidInput("kind is business or consumer", field=("kind",))
    merged = {**current.model_dump(), **sent}
    if merged["vat_id"] is not None:
        try:
            merged["vat_id"] = check_vat_id(merged["vat_id"], merged["country"])
        except ValueError as refused:
            raise InvalidInput(str(refused), field=("vat_id",)) from None
        if merged["kind"] == CustomerKind.CONSUMER:
            raise InvalidInput("a consumer has no VAT id", field=("vat_id",))
    return CustomerDetails.model_validate(merged)
