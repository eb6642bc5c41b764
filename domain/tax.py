"""Which VAT a sale carries: the seller's and the customer's tax profiles, and per quote line
the tax category (UNCL5305, as EN 16931 uses it), the rate and the legal note.

The rules (docs/tax.md gives each its legal anchor in Directive 2006/112/EC):
- a customer in the seller's country (or with no country yet): the product's own rate, which
  is the domestic rate (S; Z when that rate is 0);
- a business in another member state with a valid VAT id of that state: 0 %, reverse
  charge (AE);
- a consumer in another member state, or a business there without a valid VAT id: the
  destination's standard rate under the One-Stop Shop (S, `vat_rates.EU_STANDARD_RATES`);
- a customer outside the EU: 0 %, export (G).
Pure: no IO, no clock. VAT ids are checked for format and check digits (python-stdnum), not
against VIES: that needs the network, and is finance's check when it sets the VAT id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from schwifty import BIC, IBAN
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

from .catalogue import ProductKind
from .vat_rates import EU_MEMBER_STATES, EU_STANDARD_RATES

CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
ZERO = Decimal(0)

# VAT ids begin with the member state's code, except Greece's (EL) and Northern Ireland's (XI).
_VAT_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}


class TaxCategory(StrEnum):
    """UNCL 5305 VAT category codes that EN 16931 allows (BT-118, BT-151): the ones l2c's
    rules give a line (S, Z, AE, G), and the ones an e-invoice may still carry."""

    STANDARD = "S"
    ZERO_RATED = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_COMMUNITY = "K"
    EXPORT = "G"
    OUTSIDE_SCOPE = "O"


class CustomerKind(StrEnum):
    BUSINESS = "business"
    CONSUMER = "consumer"


REVERSE_CHARGE_SERVICES = (
    "Reverse charge: VAT to be accounted for by the recipient, Article 196 Directive 2006/112/EC"
)
REVERSE_CHARGE_GOODS = (
    "Intra-Community supply of goods, exempt under Article 138 Directive 2006/112/EC; "
    "reverse charge: VAT to be accounted for by the recipient"
)
EXPORT_GOODS = "Export outside the EU, exempt under Article 146 Directive 2006/112/EC"
EXPORT_SERVICES = (
    "Service to a recipient outside the EU: supplied where the recipient is "
    "(Articles 44 and 59 Directive 2006/112/EC), no EU VAT charged"
)


def oss_note(country: str, rate: Decimal) -> str:
    return (
        f"VAT of {country} at {rate} %, declared under the One-Stop Shop "
        "(Article 369b Directive 2006/112/EC)"
    )


def vat_id_country(vat_id: str) -> str:
    """The ISO country a VAT id names by its prefix (EL read as GR)."""
    prefix = re.sub(r"[^A-Za-z0-9]", "", vat_id).upper()[:2]
    return _VAT_PREFIX_COUNTRY.get(prefix, prefix)


def check_vat_id(vat_id: str, country: str | None) -> str:
    """The VAT id in its compact form; ValueError (saying why) when an EU id fails its format
    or check digits, or belongs to another country than `country`. Ids of countries outside
    the EU have no format we check: they are printed as given."""
    prefix_country = vat_id_country(vat_id)
    if prefix_country not in EU_MEMBER_STATES and country not in EU_MEMBER_STATES:
        return " ".join(vat_id.split())
    try:
        compact = str(eu_vat.validate(vat_id))
    except ValidationError as error:
        raise ValueError(f"{vat_id!r} is not a valid EU VAT id ({error})") from None
    if country is not None and prefix_country != country:
        raise ValueError(f"VAT id {compact} is not one of {country}")
    return compact


def is_valid_vat_id(vat_id: str | None, country: str) -> bool:
    if not vat_id:
        return False
    try:
        check_vat_id(vat_id, country)
    except ValueError:
        return False
    return country in EU_MEMBER_STATES


class Party(BaseModel):
    """A party as an invoice names it (snapshot at issue): EN 16931 BG-4 / BG-7."""

    model_config = ConfigDict(frozen=True)

    name: str
    address: str | None = None
    country: str | None = None
    vat_id: str | None = None


class SellerProfile(BaseModel):
    """Who sells: from the settings (config.py, `L2C_SELLER_*`), checked once when read."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    country: CountryCode
    vat_id: str
    iban: str
    bic: str | None = Field(default=None, validate_default=True)

    @field_validator("country")
    @classmethod
    def _in_eu(cls, country: str) -> str:
        if country not in EU_MEMBER_STATES:
            raise ValueError(f"the seller must be in an EU member state, not {country}")
        return country

    @field_validator("iban")
    @classmethod
    def _iban(cls, iban: str) -> str:
        return str(IBAN(iban).compact)

    @field_validator("vat_id")
    @classmethod
    def _vat_id_of_country(cls, vat_id: str, info: ValidationInfo) -> str:
        return check_vat_id(vat_id, info.data.get("country"))

    @field_validator("bic")
    @classmethod
    def _bic(cls, bic: str | None, info: ValidationInfo) -> str | None:
        """Given, or the IBAN's bank's (schwifty's bank registry) when that is known."""
        if bic is not None:
            return str(BIC(bic).compact)
        iban = info.data.get("iban")
        found = None if iban is None else IBAN(iban).bic
        return None if found is None else str(found.compact)

    @property
    def party(self) -> Party:
        return Party(name=self.name, address=self.address, country=self.country, vat_id=self.vat_id)


class CustomerTax(BaseModel):
    """What the customer's tax depends on. No country yet: treated as the seller's."""

    model_config = ConfigDict(frozen=True)

    country: CountryCode | None = None
    vat_id: str | None = None
    kind: CustomerKind = CustomerKind.BUSINESS


class TaxContext(BaseModel):
    """Seller's country and the customer's profile, as a quote is priced from them (sent with
    the quote command, so the deal's history shows what taxed it)."""

    model_config = ConfigDict(frozen=True)

    seller_country: CountryCode
    buyer: CustomerTax = CustomerTax()


class LineTax(BaseModel):
    """A line's tax: category, rate (percent), the note the invoice must carry, and the
    country whose VAT it is (None where no VAT is charged)."""

    model_config = ConfigDict(frozen=True)

    category: TaxCategory
    rate: Decimal
    note: str | None = None
    country: str | None = None


def domestic(rate: Decimal, country: str | None = None) -> LineTax:
    """The product's own rate: standard when positive, zero-rated when 0."""
    if rate > 0:
        return LineTax(category=TaxCategory.STANDARD, rate=rate, country=country)
    return LineTax(category=TaxCategory.ZERO_RATED, rate=ZERO, country=country)


def determine(context: TaxContext | None, product_rate: Decimal, kind: ProductKind) -> LineTax:
    """The tax of one line of `kind`, whose product is taxed at `product_rate` at home.
    Without a context (quotes priced before tax rules) the product's rate, as then.
    ValueError when no rule gives the tax (a reduced-rate product sold to an EU consumer
    abroad: the destination's reduced rates are not kept, and guessing is not an option)."""
    if context is None:
        return domestic(product_rate)
    seller, buyer = context.seller_country, context.buyer
    country = buyer.country or seller
    goods = kind is ProductKind.GOOD
    if country == seller:
        return domestic(product_rate, seller)
    if country not in EU_MEMBER_STATES:
        note = EXPORT_GOODS if goods else EXPORT_SERVICES
        return LineTax(category=TaxCategory.EXPORT, rate=ZERO, note=note)
    if buyer.kind is CustomerKind.BUSINESS and is_valid_vat_id(buyer.vat_id, country):
        note = REVERSE_CHARGE_GOODS if goods else REVERSE_CHARGE_SERVICES
        return LineTax(category=TaxCategory.REVERSE_CHARGE, rate=ZERO, note=note)
    return _one_stop_shop(seller, country, product_rate)


def _one_stop_shop(seller: str, country: str, product_rate: Decimal) -> LineTax:
    if product_rate == 0:
        return domestic(ZERO)
    if product_rate < EU_STANDARD_RATES[seller]:
        raise ValueError(
            f"taxed at a reduced rate ({product_rate} %): the reduced rates of {country} "
            "are not kept, so this product cannot be sold to a consumer there"
        )
    rate = EU_STANDARD_RATES[country]
    return LineTax(
        category=TaxCategory.STANDARD, rate=rate, note=oss_note(country, rate), country=country
    )


class TaxedLine(Protocol):
    @property
    def tax_category(self) -> TaxCategory: ...
    @property
    def tax_rate(self) -> Decimal: ...
    @property
    def tax_note(self) -> str | None: ...
    @property
    def net(self) -> Decimal: ...
    @property
    def tax(self) -> Decimal: ...


class TaxBreakdownLine(BaseModel):
    """One category and rate of a document: its taxable base, tax and legal note (BG-23)."""

    model_config = ConfigDict(frozen=True)

    category: TaxCategory
    rate: Decimal
    base: Decimal
    tax: Decimal
    note: str | None = None

    @property
    def gross(self) -> Decimal:
        return self.base + self.tax


def breakdown(lines: Iterable[TaxedLine]) -> list[TaxBreakdownLine]:
    """The lines summed per (category, rate), in the order they first appear; the notes of
    a group's lines joined once each."""
    groups: dict[tuple[TaxCategory, Decimal], tuple[Decimal, Decimal, list[str]]] = {}
    for line in lines:
        key = (TaxCategory(line.tax_category), line.tax_rate.normalize())
        base, tax, notes = groups.get(key, (ZERO, ZERO, []))
        if line.tax_note and line.tax_note not in notes:
            notes = [*notes, line.tax_note]
        groups[key] = (base + line.net, tax + line.tax, notes)
    return [
        TaxBreakdownLine(
            category=category, rate=rate, base=base, tax=tax, note="; ".join(notes) or None
        )
        for (category, rate), (base, tax, notes) in groups.items()
    ]


def default_category(rate: Decimal) -> TaxCategory:
    """The category of a line priced before categories were kept: by its rate."""
    return TaxCategory.STANDARD if rate > 0 else TaxCategory.ZERO_RATED
