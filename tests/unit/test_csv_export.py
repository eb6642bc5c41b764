"""CSV exports: RFC 4180, numbers as plain decimals, no formula a spreadsheet would run."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

from api.csv_export import flat_rows, to_csv
from domain.stages import DealStage


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_a_header_row_then_one_row_per_item_with_crlf_line_ends() -> None:
    text = to_csv(("number", "total"), [["INV-1", Decimal("10.50")], ["INV-2", Decimal("3")]])
    assert text == "number,total\r\nINV-1,10.50\r\nINV-2,3\r\n"


def test_commas_quotes_and_line_ends_are_quoted_and_read_back_the_same() -> None:
    tricky = 'Smith, "Jones" & Co\nLtd'
    text = to_csv(("customer",), [[tricky]])
    assert text == 'customer\r\n"Smith, ""Jones"" & Co\nLtd"\r\n'
    assert parsed(text)[1] == [tricky]


def test_numbers_are_plain_decimals_even_negative_or_tiny() -> None:
    row = parsed(to_csv(("a", "b", "c", "d"), [[Decimal("-12.50"), Decimal("1E-7"), 7, None]]))[1]
    assert row == ["-12.50", "0.0000001", "7", ""]


def test_text_a_spreadsheet_would_run_as_a_formula_is_defused() -> None:
    cells = ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)", "\tx", "plain", "a=b"]
    row = parsed(to_csv(tuple("abcdefg"), [cells]))[1]
    assert row == ['\'=HYPERLINK("x")', "'+1", "'-2+3", "'@SUM(A1)", "'\tx", "plain", "a=b"]


def test_dates_in_iso_8601_and_enums_by_their_value() -> None:
    at = datetime(2026, 11, 30, 9, 7, 32, tzinfo=UTC)
    row = parsed(to_csv(("a", "b", "c"), [[at, date(2026, 12, 1), DealStage.WON]]))[1]
    assert row == ["2026-11-30T09:07:32+00:00", "2026-12-01", "WON"]


def test_a_nested_report_flattens_to_name_breakdown_value_rows() -> None:
    report = {
        "leads_created": 4,
        "ar_aging": {"EUR": {"current": Decimal("10.00"), "1_30": Decimal("2.00")}},
        "funnel": [{"stage": DealStage.QUOTING, "reached": 3}],
        "by_owner": [{"key": "rep1", "leads": 2}],
    }
    assert flat_rows(report) == [
        ["leads_created", "", 4],
        ["ar_aging", "EUR.current", Decimal("10.00")],
        ["ar_aging", "EUR.1_30", Decimal("2.00")],
        ["funnel", "QUOTING.reached", 3],
        ["by_owner", "rep1.leads", 2],
    ]
