"""ISO 20022 camt.053 (bank-to-customer statement), any version 001.02 to 001.14, read with
lxml defensively: no DTDs, entities or network, elements found by local name so the versions'
differences (`Sts` text or `Sts/Cd`, `Dbtr/Nm` or `Dbtr/Pty/Nm`, `Chrgs` flat or with
`Rcrd`) read alike; each line is validated by pydantic (domain.cash_application).

No maintained PyPI package ships the official XSDs on its own (docs/cash.md), so the file is
checked for the structure we read, not against the schema."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal, InvalidOperation

from lxml import etree
from pydantic import ValidationError
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from domain.cash_application import Direction, ParsedStatement, StatementInvalid, StatementLine

from .errors import invalid_line

_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d{2}$")
_AMOUNT = re.compile(r"^\d{1,18}(\.\d{1,5})?$")
_Element = etree._Element


def parse_camt053(raw: bytes) -> ParsedStatement:
    """Every booked entry of every statement in the file, in order; a batch entry with
    several transactions is one line per transaction."""
    document = _document(raw)
    statements = _all(document, "BkToCstmrStmt", "Stmt")
    if not statements:
        raise StatementInvalid("no statement (BkToCstmrStmt/Stmt) in the file", field=("file",))
    idents: list[str] = []
    lines: list[StatementLine] = []
    for statement in statements:
        account = _account(statement)
        idents.append(f"{account}:{_text(statement, 'Id') or ''}")
        for entry in _all(statement, "Ntry"):
            lines += _entry_lines(entry, len(lines) + 1)
    if not lines:
        raise StatementInvalid("the statement has no entries", field=("file",))
    key = "camt.053:" + ",".join(idents)
    if len(key) > 200:
        key = "camt.053:" + hashlib.sha256(key.encode()).hexdigest()
    return ParsedStatement(key=key, format="camt.053", account=idents[0].split(":")[0], lines=lines)


def _document(raw: bytes) -> _Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        tree = etree.fromstring(raw, parser).getroottree()
    except etree.XMLSyntaxError as err:
        raise StatementInvalid(f"not well-formed XML: {err}", field=("file",)) from err
    if tree.docinfo.doctype:
        raise StatementInvalid("a DOCTYPE is not accepted in a statement", field=("file",))
    root = tree.getroot()
    namespace = etree.QName(root).namespace or ""
    if etree.QName(root).localname != "Document" or not _NAMESPACE.match(namespace):
        raise StatementInvalid(
            f"not a camt.053 document (namespace {namespace or 'none'})", field=("file",)
        )
    return root


def _account(statement: _Element) -> str:
    iban = _text(statement, "Acct", "Id", "IBAN")
    if iban is None:
        other = _text(statement, "Acct", "Id", "Othr", "Id")
        if other is None:
            raise StatementInvalid("the statement names no account", field=("file", "account"))
        return other
    try:
        return str(IBAN(iban).compact)
    except SchwiftyException as err:
        raise StatementInvalid(f"account {iban}: {err}", field=("file", "account")) from err


def _entry_lines(entry: _Element, first: int) -> list[StatementLine]:
    status = _text(entry, "Sts", "Cd") or _text(entry, "Sts")
    if status != "BOOK":
        raise invalid_line(first, "status", f"entry status {status}: only booked entries")
    transactions = _all(entry, "NtryDtls", "TxDtls")
    if len(transactions) <= 1:
        detail = transactions[0] if transactions else None
        return [_line(first, entry, detail, _entry_ref(entry, detail, first), _money(entry, first))]
    lines = []
    for k, detail in enumerate(transactions):
        amount = _first(detail, ("Amt",), ("AmtDtls", "TxAmt", "Amt"))
        if amount is None:
            raise invalid_line(first + k, "amount", "a batch transaction without its amount")
        ref = _text(detail, "Refs", "AcctSvcrRef") or f"{_entry_ref(entry, None, first)}/{k + 1}"
        lines.append(_line(first + k, entry, detail, ref, _amount_of(amount, first + k)))
    return lines


def _line(
    n: int, entry: _Element, detail: _Element | None, ref: str, money: tuple[Decimal, str]
) -> StatementLine:
    amount, currency = money
    debit = _text(entry, "CdtDbtInd") == "DBIT"
    party = "Cdtr" if debit else "Dbtr"
    source = detail if detail is not None else entry
    try:
        return StatementLine(
            n=n,
            booking_date=(_text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm") or "")[
                :10
            ],
            amount=amount,
            fee=_fee(detail, currency) or _fee(entry, currency),
            currency=currency,
            direction=Direction.DEBIT if debit else Direction.CREDIT,
            reversal=_text(entry, "RvslInd") == "true",
            reference=_remittance(source, entry)[:1000],
            counterparty=(_party_name(source, party) or "")[:200],
            bank_ref=ref,
        )
    except ValidationError as err:
        first = err.errors()[0]
        raise invalid_line(n, str(first["loc"][0]), first["msg"]) from err


def _entry_ref(entry: _Element, detail: _Element | None, n: int) -> str:
    """The bank's own reference of the entry: what makes importing it twice a no-op."""
    ref = (
        _text(entry, "AcctSvcrRef")
        or (_text(detail, "Refs", "AcctSvcrRef") if detail is not None else None)
        or _text(entry, "NtryRef")
    )
    if ref is None:
        raise invalid_line(n, "bank_ref", "an entry without the bank's reference (AcctSvcrRef)")
    return ref


def _money(entry: _Element, n: int) -> tuple[Decimal, str]:
    amount = _child(entry, "Amt")
    if amount is None:
        raise invalid_line(n, "amount", "an entry without its amount")
    return _amount_of(amount, n)


def _amount_of(element: _Element, n: int) -> tuple[Decimal, str]:
    text = (element.text or "").strip()
    if not _AMOUNT.match(text):
        raise invalid_line(n, "amount", f"not an amount: {text!r}")
    return Decimal(text), element.get("Ccy", "")


def _fee(element: _Element | None, currency: str) -> Decimal:
    """Charges the bank deducted from the entry (`ChrgInclInd` true or not given), in the
    entry's currency; without records, the total of charges."""
    if element is None:
        return Decimal(0)
    charges = _all(element, "Chrgs")
    records = [r for c in charges for r in _all(c, "Rcrd")] or charges
    fee = Decimal(0)
    for record in records:
        amount = _first(record, ("Amt",), ("TtlChrgsAndTaxAmt",))
        included = _text(record, "ChrgInclInd") != "false"
        if amount is None or not included or amount.get("Ccy") != currency:
            continue
        if _text(record, "CdtDbtInd") == "CRDT":  # a charge refunded to us is no fee
            continue
        try:
            fee += Decimal((amount.text or "").strip())
        except InvalidOperation:
            continue
    return fee


def _remittance(source: _Element, entry: _Element) -> str:
    parts = [
        *(u.text or "" for u in _all(source, "RmtInf", "Ustrd")),
        *(r.text or "" for r in _descendants(source, "CdtrRefInf", "Ref")),
        *(r.text or "" for r in _descendants(source, "AddtlRmtInf")),
    ]
    if not any(p.strip() for p in parts):
        parts = [_text(source, "AddtlTxInf") or _text(entry, "AddtlNtryInf") or ""]
    return " ".join(p.strip() for p in parts if p.strip())


def _party_name(source: _Element, party: str) -> str | None:
    parties = _child(source, "RltdPties")
    found = None if parties is None else _child(parties, party)
    if found is None:
        return None
    name = _child(found, "Nm")
    if name is None:
        name = next(iter(_descendants(found, "Pty", "Nm")), None)
    return None if name is None else (name.text or "").strip()


# --- finding elements by local name, whatever the version's namespace ---


def _child(element: _Element, name: str) -> _Element | None:
    for child in element:
        if isinstance(child.tag, str) and etree.QName(child).localname == name:
            return child
    return None


def _all(element: _Element, *path: str) -> list[_Element]:
    found = [element]
    for name in path:
        found = [
            c
            for e in found
            for c in e
            if isinstance(c.tag, str) and etree.QName(c).localname == name
        ]
    return found


def _descendants(element: _Element, *path: str) -> list[_Element]:
    head, *rest = path
    starts = [
        e for e in element.iter() if isinstance(e.tag, str) and etree.QName(e).localname == head
    ]
    return [found for start in starts for found in _all(start, *rest)]


def _first(element: _Element, *paths: tuple[str, ...]) -> _Element | None:
    for path in paths:
        found = _all(element, *path)
        if found:
            return found[0]
    return None


def _text(element: _Element, *path: str) -> str | None:
    found = _all(element, *path)
    if not found or found[0].text is None:
        return None
    return found[0].text.strip() or None
