"""Leads: what a valid lead is, and how its score is made up, rule by rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.leads import Lead, LeadSource, score_lead

ADA = {"company": "Acme GmbH", "contact_name": "Ada Lovelace", "email": "ada@acme.example"}


def lead(**fields) -> Lead:
    return Lead.model_validate({**ADA, "source": "other", **fields})


def points(**fields) -> dict[str, int]:
    return {reason.rule: reason.points for reason in score_lead(lead(**fields)).reasons}


# --- scoring, rule by rule ---


def test_a_bare_lead_from_an_unknown_source_scores_nothing():
    assert (score_lead(lead()).score, score_lead(lead()).reasons) == (0, [])


@pytest.mark.parametrize(
    ("fields", "rule", "value"),
    [
        ({"budget_confirmed": True}, "budget confirmed", 20),
        ({"decision_maker": True}, "talking to the decision maker", 20),
        ({"need": "automate invoicing"}, "need described", 15),
    ],
)
def test_each_bant_answer_scores_its_points(fields, rule, value):
    assert points(**fields) == {rule: value}


@pytest.mark.parametrize(
    "fields", [{"budget_confirmed": False}, {"decision_maker": False}, {"need": ""}]
)
def test_a_negative_or_empty_answer_scores_nothing(fields):
    assert points(**fields) == {}


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, {"buying within 90 days": 15}),
        (90, {"buying within 90 days": 15}),
        (91, {"buying within 180 days": 8}),
        (180, {"buying within 180 days": 8}),
        (181, {}),
    ],
)
def test_timeline_bands(days, expected):
    assert points(timeline_days=days) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9999.99", {}),
        ("10000.00", {"estimated value >= 10,000": 8}),
        ("49999.99", {"estimated value >= 10,000": 8}),
        ("50000", {"estimated value >= 50,000": 15}),
    ],
)
def test_estimated_value_bands(value, expected):
    assert points(estimated_value=value, currency="EUR") == expected


@pytest.mark.parametrize(
    ("source", "value"),
    [
        (LeadSource.REFERRAL, 15),
        (LeadSource.PARTNER, 12),
        (LeadSource.TRADE_SHOW, 10),
        (LeadSource.WEB, 8),
        (LeadSource.OUTBOUND, 5),
        (LeadSource.AD_CAMPAIGN, 5),
        (LeadSource.IMPORT, 2),
    ],
)
def test_each_source_scores_its_points(source, value):
    assert points(source=source) == {f"source: {source}": value}


def test_the_best_lead_scores_100():
    best = lead(
        budget_confirmed=True,
        decision_maker=True,
        need="x",
        timeline_days=30,
        source="referral",
        estimated_value="50000",
        currency="EUR",
    )
    assert score_lead(best).score == 100


leads = st.builds(
    lambda source, budget, maker, need, days, value: lead(
        source=source,
        budget_confirmed=budget,
        decision_maker=maker,
        need=need,
        timeline_days=days,
        estimated_value=value,
        currency="EUR" if value is not None else None,
    ),
    st.sampled_from(LeadSource),
    st.none() | st.booleans(),
    st.none() | st.booleans(),
    st.none() | st.text(max_size=5),
    st.none() | st.integers(0, 3650),
    st.none() | st.integers(0, 10**8).map(lambda cents: Decimal(cents).scaleb(-2)),
)


@given(leads)
def test_the_score_is_the_sum_of_its_reasons_from_0_to_100(scored):
    result = score_lead(scored)
    assert 0 <= result.score <= 100
    assert result.score == sum(reason.points for reason in result.reasons)


@given(leads)
def test_every_reason_given_earned_points(scored):
    assert all(reason.points > 0 for reason in score_lead(scored).reasons)


# --- what a valid lead is ---


@pytest.mark.parametrize(
    "email", ["ada", "ada@", "@acme.example", "ada@@acme.example", "a da@x.io"]
)
def test_an_invalid_email_is_refused(email):
    with pytest.raises(ValidationError):
        lead(email=email)


@pytest.mark.parametrize("country", ["de", "DEU", "D", "D1"])
def test_country_is_a_two_letter_upper_case_code(country):
    with pytest.raises(ValidationError):
        lead(country=country)


def test_surrounding_spaces_are_trimmed_before_checking():
    captured = lead(company="  Acme GmbH ", country=" DE ")
    assert (captured.company, captured.country) == ("Acme GmbH", "DE")


def test_an_estimated_value_needs_a_currency():
    with pytest.raises(ValidationError, match="needs a currency"):
        lead(estimated_value="1000")


def test_an_estimated_value_is_money_not_a_float():
    with pytest.raises(ValidationError, match="not floats"):
        lead(estimated_value=1000.5, currency="EUR")


@pytest.mark.parametrize("value", ["-1", "1000.001", "1000000000000.01"])
def test_an_estimated_value_is_non_negative_with_at_most_cents(value):
    with pytest.raises(ValidationError):
        lead(estimated_value=value, currency="EUR")


def test_a_phone_number_has_no_letters():
    with pytest.raises(ValidationError):
        lead(phone="call me maybe")


def test_a_phone_number_may_have_the_usual_punctuation():
    assert lead(phone="+49 (30) 123-456/7").phone == "+49 (30) 123-456/7"


@pytest.mark.parametrize("field", ["company", "contact_name"])
def test_company_and_contact_name_are_required(field):
    with pytest.raises(ValidationError):
        lead(**{field: "  "})


def test_unknown_fields_are_refused():
    with pytest.raises(ValidationError):
        lead(score=100)


def test_unknown_source_is_refused():
    with pytest.raises(ValidationError):
        lead(source="carrier pigeon")


def test_the_email_domain_is_read_in_lower_case():
    assert lead(email="ada@Acme.Example").email_domain == "acme.example"
