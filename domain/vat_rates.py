"""The EU member states' standard VAT rates, as data: what a sale to a consumer in another
member state is charged under the One-Stop Shop (OSS, Union scheme, Articles 369a-369k
Directive 2006/112/EC).

Source: European Commission, Taxes in Europe Database (TEDB), standard rates as published
on 2026-09-29 (read from the `eu-vat-rates-data` 2026.9.29 package, checked against the
Commission's "VAT rates applied in the Member States" list). Keys are ISO 3166-1 alpha-2
codes (Greece is GR here; its VAT ids begin EL). Finance owns this table: when a member
state changes its rate, change the row, its date and `AS_OF` in one commit, and quotes
priced from then on use the new rate (quotes already priced keep theirs).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

AS_OF = date(2026, 9, 29)
SOURCE = "European Commission TEDB, standard VAT rates as of 2026-09-29"

EU_STANDARD_RATES: dict[str, Decimal] = {
    "AT": Decimal("20"),
    "BE": Decimal("21"),
    "BG": Decimal("20"),
    "CY": Decimal("19"),
    "CZ": Decimal("21"),
    "DE": Decimal("19"),
    "DK": Decimal("25"),
    "EE": Decimal("24"),
    "ES": Decimal("21"),
    "FI": Decimal("25.5"),
    "FR": Decimal("20"),
    "GR": Decimal("24"),
    "HR": Decimal("25"),
    "HU": Decimal("27"),
    "IE": Decimal("23"),
    "IT": Decimal("22"),
    "LT": Decimal("21"),
    "LU": Decimal("17"),
    "LV": Decimal("21"),
    "MT": Decimal("18"),
    "NL": Decimal("21"),
    "PL": Decimal("23"),
    "PT": Decimal("23"),
    "RO": Decimal("21"),
    "SE": Decimal("25"),
    "SI": Decimal("22"),
    "SK": Decimal("23"),
}

EU_MEMBER_STATES = frozenset(EU_STANDARD_RATES)
