"""Which customer a lead belongs to: the same company name, or the same company e-mail domain;
and one open deal per contact."""

from __future__ import annotations

import re
from typing import TypeVar

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
