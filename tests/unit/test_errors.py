"""Domain errors: the HTTP status each maps to, and rebuilt intact after crossing Temporal."""

from __future__ import annotations

import pytest

from domain.errors import (
    ERRORS,
    Conflict,
    DomainError,
    InvalidInput,
    NotAllowed,
    NotApprover,
    NotFound,
    PaymentRefused,
    QuoteInvalid,
    WrongStage,
    error_from_details,
)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (DomainError, 400),
        (InvalidInput, 422),
        (QuoteInvalid, 422),
        (PaymentRefused, 422),
        (WrongStage, 409),
        (Conflict, 409),
        (NotAllowed, 403),
        (NotApprover, 403),
        (NotFound, 404),
    ],
)
def test_each_error_maps_to_its_http_status(error, status):
    assert error.status == status


@pytest.mark.parametrize("error", list(ERRORS.values()))
def test_an_error_is_rebuilt_from_its_details_with_type_message_and_field(error):
    original = error("it went wrong", field=("lines", 0, "sku"))
    rebuilt = error_from_details(original.details())
    assert (type(rebuilt), rebuilt.message, rebuilt.field) == (
        error,
        "it went wrong",
        ("lines", 0, "sku"),
    )


def test_a_field_carried_as_a_json_list_comes_back_as_a_tuple():
    rebuilt = error_from_details({"type": "QuoteInvalid", "message": "m", "field": ["lines", 1]})
    assert rebuilt.field == ("lines", 1)


def test_an_unknown_error_type_comes_back_as_a_plain_domain_error():
    rebuilt = error_from_details({"type": "SomethingElse", "message": "m"})
    assert (type(rebuilt), rebuilt.message, rebuilt.field) == (DomainError, "m", None)


def test_details_name_the_type_message_and_field():
    assert WrongStage("not now").details() == {
        "type": "WrongStage",
        "message": "not now",
        "field": None,
    }
