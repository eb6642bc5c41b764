"""Which customer a lead belongs to: the same company name, or the same company e-mail domain."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.customers import (
    FREE_MAIL_DOMAINS,
    company_domain,
    company_key,
    contact_key,
    match_customer,
)


@pytest.mark.parametrize(
    "name", ["ACME GmbH.", "Acme", " acme  gmbh", "ACME", "Acme, Inc.", "Acme Ltd", "acme-gmbh"]
)
def test_case_spacing_punctuation_and_legal_form_do_not_make_another_company(name):
    assert company_key(name) == "acme"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Globex Corporation", "globex"),
        ("Initech LLC", "initech"),
        ("Umbrella PLC", "umbrella"),
        ("Nordic Tools AB", "nordic tools"),
        ("Wayne Enterprises Pty Ltd", "wayne enterprises"),
    ],
)
def test_legal_forms_are_left_out_of_the_key(name, key):
    assert company_key(name) == key


def test_words_of_the_name_are_kept_in_order():
    assert company_key("Acme Rocket Works GmbH") != company_key("Rocket Acme Works GmbH")


def test_different_companies_have_different_keys():
    assert company_key("Acme GmbH") != company_key("Acme Rockets GmbH")


def test_company_names_differing_in_an_accented_letter_are_different_companies():
    assert company_key("Müller AG") != company_key("Möller AG")


def test_a_name_that_is_only_a_legal_form_still_has_a_key():
    assert company_key(" GmbH ") == "gmbh"


# Words made of letters that no legal form (GmbH, Ltd, Inc...) uses, so none is one.
words = st.text(alphabet="fjqwxzFJQWXZ0123456789", min_size=1, max_size=8)


@given(
    st.lists(words, min_size=1, max_size=4),
    st.lists(st.sampled_from([" ", "  ", "-", ", ", ". ", " & "]), min_size=4, max_size=4),
    st.sampled_from([str.upper, str.lower, str.title]),
)
def test_case_and_punctuation_between_words_make_no_other_company(name_words, gaps, case):
    written = "".join(word + gap for word, gap in zip(name_words, gaps, strict=False))
    assert company_key(case(written)) == " ".join(name_words).lower()


@pytest.mark.parametrize("domain", sorted(FREE_MAIL_DOMAINS))
def test_a_free_mail_domain_identifies_no_company(domain):
    assert company_domain(domain) is None


def test_free_mail_domains_are_recognised_in_any_case():
    assert company_domain("GMail.COM") is None


def test_a_company_domain_identifies_the_company_in_lower_case():
    assert company_domain("Acme.Example") == "acme.example"


def test_a_lead_belongs_to_the_customer_of_its_company_name_before_its_domain():
    assert match_customer("by name", "by domain") == "by name"


def test_a_lead_of_an_unknown_name_belongs_to_the_customer_of_its_company_domain():
    assert match_customer(None, "by domain") == "by domain"


def test_a_lead_of_an_unknown_name_and_domain_makes_a_new_customer():
    assert match_customer(None, None) is None


def test_one_contact_is_one_address_in_any_letter_case():
    assert contact_key(" Ada@Acme.Example") == contact_key("ada@acme.example")
