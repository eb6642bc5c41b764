"""Statement files read into lines: camt.053 (versions 02 and 08) and CSV; a file that cannot
be read is refused naming the line and field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.bank import parse_statement
from domain.cash_application import Direction, StatementInvalid

DATA = Path(__file__).parent.parent / "data"


def test_a_camt053_v08_statement_gives_each_booked_entry_as_a_line():
    statement = parse_statement((DATA / "camt053-v08-sample.xml").read_bytes())
    assert statement.format == "camt.053"
    assert statement.account == "DE89370400440532013000"  # the IBAN compacted
    assert statement.key == "camt.053:DE89370400440532013000:STMT-2026-11-30"
    summary = [
        (line.n, line.bank_ref, line.amount, line.fee, line.direction, line.counterparty)
        for line in statement.lines
    ]
    assert summary == [
        (1, "BANK-REF-0001", Decimal("1190.00"), 0, Direction.CREDIT, "Acme GmbH"),
        (2, "BANK-REF-0002", Decimal("495.50"), Decimal("4.50"), Direction.CREDIT, "Globex Ltd"),
        (3, "BANK-REF-0003-A", Decimal("100.00"), 0, Direction.CREDIT, "Initech"),
        (4, "BANK-REF-0003/2", Decimal("200.00"), 0, Direction.CREDIT, "Umbrella Corp"),
        (5, "BANK-REF-0004", Decimal("59.90"), 0, Direction.DEBIT, "Telco AG"),
        (6, "BANK-REF-0005", Decimal("80.00"), 0, Direction.CREDIT, ""),
    ]
    first, second = statement.lines[:2]
    assert first.reference == "Invoice INV-2026-000123 thank you"
    assert first.booking_date == date(2026, 11, 30) == second.booking_date
    assert second.reference == "inv 2026 000124" and second.gross == Decimal("500.00")
    assert statement.lines[5].reversal and "AC04" in statement.lines[5].reference


def test_a_camt053_v02_statement_reads_alike():
    statement = parse_statement((DATA / "camt053-v02-sample.xml").read_bytes())
    (line,) = statement.lines
    assert (line.bank_ref, line.currency, line.amount, line.fee) == (
        "NREF-77",
        "CHF",
        Decimal("250.00"),
        Decimal("1.20"),
    )
    assert line.counterparty == "Wayne Enterprises"
    assert line.reference == "INV-2026-000200 INV-2026-000201"


def test_a_csv_statement_gives_one_line_per_row_money_out_negative():
    raw = (
        b"booking_date,amount,currency,reference,counterparty,bank_ref,fee\n"
        b"2026-11-30,1190.00,EUR,INV-2026-000123,Acme GmbH,CSV-1,\n"
        b'2026-11-30,-12.00,eur,"fees, November",Bank,CSV-2,\n'
        b"2026-12-01,98.00,EUR,,Globex,CSV-3,2.00\n"
    )
    statement = parse_statement(raw)
    assert statement.format == "csv" and statement.key.startswith("csv:")
    assert [(x.amount, x.direction, x.currency, x.fee) for x in statement.lines] == [
        (Decimal("1190.00"), Direction.CREDIT, "EUR", 0),
        (Decimal("12.00"), Direction.DEBIT, "EUR", 0),
        (Decimal("98.00"), Direction.CREDIT, "EUR", Decimal("2.00")),
    ]
    assert statement.lines[1].reference == "fees, November"
    assert parse_statement(raw).key == statement.key  # the same file is the same statement


def test_a_semicolon_csv_is_read_too():
    raw = b"booking_date;amount;currency;reference;counterparty;bank_ref\n2026-11-30;5;EUR;x;y;R1\n"
    assert parse_statement(raw).lines[0].bank_ref == "R1"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"", ("file",)),
        (b"date,amount\n2026-11-30,1\n", ("file",)),
        (
            b"booking_date,amount,currency,reference,counterparty,bank_ref\n"
            b"2026-11-30,1.0.0,EUR,x,y,R1\n",
            ("file", "lines", 1, "amount"),
        ),
        (
            b"booking_date,amount,currency,reference,counterparty,bank_ref\n"
            b"2026-11-30,1.00,EUR,x,y,R1\n2026-13-01,1.00,EUR,x,y,R2\n",
            ("file", "lines", 2, "booking_date"),
        ),
        (
            b"booking_date,amount,currency,reference,counterparty,bank_ref\n"
            b"2026-11-30,1.00,EUR,x,y,\n",
            ("file", "lines", 1, "bank_ref"),
        ),
        (b"<Document><x/></Document>", ("file",)),
        (b"<Document", ("file",)),
    ],
)
def test_an_unreadable_statement_is_refused_naming_the_field(raw, field):
    with pytest.raises(StatementInvalid) as refused:
        parse_statement(raw)
    assert refused.value.field == field


def test_a_camt053_with_an_invalid_iban_is_refused():
    raw = (DATA / "camt053-v02-sample.xml").read_bytes().replace(b"CH93", b"CH94")
    with pytest.raises(StatementInvalid) as refused:
        parse_statement(raw)
    assert refused.value.field == ("file", "account")


def test_entities_are_never_expanded():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">&b;</Document>'
    )
    with pytest.raises(StatementInvalid, match="DOCTYPE"):
        parse_statement(bomb)


def test_a_pending_entry_is_refused():
    raw = (DATA / "camt053-v02-sample.xml").read_bytes().replace(b"<Sts>BOOK", b"<Sts>PDNG")
    with pytest.raises(StatementInvalid) as refused:
        parse_statement(raw)
    assert refused.value.field == ("file", "lines", 1, "status")
