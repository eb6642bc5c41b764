"""The e-mails customers receive, as an admin may reword them per language: which ones,
the merge fields each offers (with sample values for a preview), and the checks an
override passes before it is kept: Jinja syntax, only known fields, and that it renders.

Overrides render in a sandboxed Jinja environment: an admin's text can read the merge
fields and nothing else (no attribute tricks into Python, no file loading).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field

from .errors import InvalidInput, NotFound

Language = Annotated[str, Field(pattern=r"^[a-z]{2}$", description="ISO 639-1, e.g. de")]

# Every e-mail's context has these (adapters/email/mailer.py).
COMMON_FIELDS = {
    "seller": "the seller's name",
    "base_url": "the address of l2c",
}


@dataclass(frozen=True)
class CustomerEmail:
    """One e-mail customers receive: its merge fields and sample values for a preview."""

    name: str
    title: str
    fields: Mapping[str, str]  # name -> what it holds
    sample: Mapping[str, Any] = field(default_factory=dict)

    @property
    def all_fields(self) -> dict[str, str]:
        return {**COMMON_FIELDS, **self.fields}


_QUOTE_LINE = {
    "sku": "SKU-1",
    "name": "Widget",
    "quantity": "10",
    "unit_price": "100.00",
    "discount": "50.00",
    "discount_pct": "5",
    "tax_rate": "19",
    "total": "1130.50",
}
_INVOICE_LINE = {
    "sku": "SKU-1",
    "description": "Widget",
    "quantity": "10",
    "unit_price": "100.00",
    "net": "950.00",
    "tax": "180.50",
    "tax_rate": "19",
    "total": "1130.50",
}
_CONTACT = {"contact_name": "Erika Mustermann", "company": "Beispiel AG"}
_SAMPLE_COMMON = {"seller": "l2c Demo GmbH", "base_url": "https://l2c.example"}

CUSTOMER_EMAILS: dict[str, CustomerEmail] = {
    e.name: e
    for e in (
        CustomerEmail(
            "quote_sent",
            "Quote sent",
            {
                "contact_name": "the contact's name",
                "company": "the customer's company",
                "quote": "the quote: version, lines (sku, name, quantity, unit_price, discount, "
                "discount_pct, tax_rate, total), currency, subtotal, discount_total, tax_total, "
                "total, payment_terms_days, valid_until",
                "link": "the customer's portal link to accept or decline",
                "owner": "the deal owner's name",
            },
            {
                **_CONTACT,
                "quote": {
                    "version": 1,
                    "lines": [_QUOTE_LINE],
                    "currency": "EUR",
                    "subtotal": "1000.00",
                    "discount_total": "50.00",
                    "tax_total": "180.50",
                    "total": "1130.50",
                    "payment_terms_days": 30,
                    "valid_until": "2026-12-31",
                },
                "link": "https://l2c.example/portal/sample-token",
                "owner": "rep1",
            },
        ),
        CustomerEmail(
            "signature_requested",
            "Contract ready to sign",
            {
                "contact_name": "the contact's name",
                "company": "the customer's company",
                "total": "the contract's total (gross)",
                "currency": "its currency",
                "link": "the customer's portal link to sign",
                "sha256": "the contract document's fingerprint",
            },
            {
                **_CONTACT,
                "total": "1130.50",
                "currency": "EUR",
                "link": "https://l2c.example/portal/sample-token",
                "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            },
        ),
        CustomerEmail(
            "invoice_issued",
            "Invoice issued",
            {
                "contact_name": "the contact's name",
                "company": "the customer's company",
                "invoice": "the invoice: number, lines (sku, description, quantity, "
                "unit_price, net, tax, tax_rate, total), currency, net_total, tax_total, "
                "total, issued_at, due_date",
            },
            {
                **_CONTACT,
                "invoice": {
                    "number": "INV-2026-000042",
                    "lines": [_INVOICE_LINE],
                    "currency": "EUR",
                    "net_total": "950.00",
                    "tax_total": "180.50",
                    "total": "1130.50",
                    "issued_at": "2026-11-30",
                    "due_date": "2026-12-30",
                },
            },
        ),
        CustomerEmail(
            "dunning",
            "Payment reminder",
            {
                "contact_name": "the contact's name",
                "company": "the customer's company",
                "level": "the reminder's number: 1, 2, ...",
                "invoice": "the invoice number",
                "due_date": "when it was due",
                "balance": "what is still open",
                "currency": "its currency",
            },
            {
                **_CONTACT,
                "level": 1,
                "invoice": "INV-2026-000042",
                "due_date": "2026-12-30",
                "balance": "1130.50",
                "currency": "EUR",
            },
        ),
        CustomerEmail(
            "payment_received",
            "Payment received",
            {
                "contact_name": "the contact's name",
                "invoice": "the invoice number",
                "amount": "the amount received",
                "currency": "its currency",
                "reference": "the payment's reference",
                "balance": "what is still open",
            },
            {
                "contact_name": "Erika Mustermann",
                "invoice": "INV-2026-000042",
                "amount": "1130.50",
                "currency": "EUR",
                "reference": "BANK-REF-1",
                "balance": "0.00",
            },
        ),
        CustomerEmail(
            "subscription_renewal_notice",
            "Subscription renewal notice",
            {
                "contact_name": "the contact's name",
                "sku": "the subscription's product",
                "subscription_id": "the subscription's id",
                "quantity": "units subscribed",
                "term_end": "when the current term ends",
                "term_months": "the next term's length",
                "unit_price": "the next term's unit price",
                "uplift_pct": "the price increase in percent",
                "currency": "its currency",
                "net": "the next term's net amount",
                "tax": "its tax",
                "total": "its gross amount",
            },
            {
                "contact_name": "Erika Mustermann",
                "sku": "SAAS-PRO",
                "subscription_id": "sub_sample",
                "quantity": "5",
                "term_end": "2027-01-31",
                "term_months": 12,
                "unit_price": "105.00",
                "uplift_pct": "5",
                "currency": "EUR",
                "net": "6300.00",
                "tax": "1197.00",
                "total": "7497.00",
            },
        ),
    )
}


class TemplateText(BaseModel):
    """An override: its subject line and body, as Jinja text."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=20000)


def customer_email(name: str) -> CustomerEmail:
    found = CUSTOMER_EMAILS.get(name)
    if found is None:
        raise NotFound(f"no customer e-mail {name!r}; one of {', '.join(CUSTOMER_EMAILS)}")
    return found


class _EmailSandbox(SandboxedEnvironment):
    """The sandbox, minus the two operators that turn a short text into minutes of CPU or
    gigabytes of memory (`9**9**9`, `'x' * 10**9`): an e-mail has no use for them."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" or (operator == "*" and not _numbers(left, right)):
            raise SecurityError(f"'{operator}' is not allowed in an e-mail template")
        if operator == "*" and max(abs(left), abs(right)) > 10**9:
            raise SecurityError("numbers that large have no place in an e-mail")
        return super().call_binop(context, operator, left, right)


def _numbers(*values: Any) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


_SANDBOX = _EmailSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def check_text(email: CustomerEmail, text: TemplateText) -> None:
    """Refuse (422, naming `subject` or `body`) bad syntax, an unknown merge field, or text
    that does not render with the sample values."""
    known = set(email.all_fields)
    for part in ("subject", "body"):
        source = getattr(text, part)
        try:
            parsed = _SANDBOX.parse(source)
        except TemplateSyntaxError as err:
            raise InvalidInput(
                f"not a valid template (line {err.lineno}): {err.message}", field=(part,)
            ) from None
        unknown = sorted(meta.find_undeclared_variables(parsed) - known)
        if unknown:
            raise InvalidInput(
                f"unknown merge field {unknown[0]!r}; known: {', '.join(sorted(known))}",
                field=(part,),
            )
        try:
            _SANDBOX.from_string(source).render(**_sample(email))
        except (TemplateError, TypeError, ValueError, ArithmeticError, RecursionError) as err:
            raise InvalidInput(f"does not render: {err}", field=(part,)) from None


def _sample(email: CustomerEmail) -> dict[str, Any]:
    return {**_SAMPLE_COMMON, **email.sample}


def render_text(text: TemplateText, context: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) of an override; the subject on one line, as a header must be."""
    subject = _SANDBOX.from_string(text.subject).render(**context)
    body = _SANDBOX.from_string(text.body).render(**context)
    return " ".join(subject.split()), body.lstrip("\n")


def preview(email: CustomerEmail, text: TemplateText) -> tuple[str, str]:
    """The override rendered with the sample values, once it passed `check_text`."""
    check_text(email, text)
    return render_text(text, _sample(email))


def split_builtin(source: str) -> TemplateText:
    """A built-in template file (`Subject: ...` then the body) as subject and body, so an
    admin starts an override from the text customers receive today."""
    first, _, body = source.partition("\n")
    return TemplateText(subject=first.removeprefix("Subject:").strip(), body=body.lstrip("\n"))


def languages_to_try(language: str | None, default: str) -> list[str]:
    """The contact's language's override first, then the company default's."""
    tried = [language] if language else []
    return [*tried, default] if default not in tried else tried
