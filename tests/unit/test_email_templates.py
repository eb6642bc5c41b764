"""Admins' wording of customer e-mails: checked before it is kept, rendered in a sandbox."""

from __future__ import annotations

import pytest
from jinja2 import Environment, meta

from adapters.email.mailer import TEMPLATES
from domain.email_templates import (
    CUSTOMER_EMAILS,
    TemplateText,
    check_text,
    customer_email,
    languages_to_try,
    preview,
    render_text,
    split_builtin,
)
from domain.errors import InvalidInput, NotFound

QUOTE = customer_email("quote_sent")


@pytest.mark.parametrize("name", sorted(CUSTOMER_EMAILS))
def test_each_builtin_email_uses_only_the_fields_it_lists(name):
    email = CUSTOMER_EMAILS[name]
    source = (TEMPLATES / f"{name}.txt").read_text()
    used = meta.find_undeclared_variables(Environment().parse(source))
    assert used <= set(email.all_fields)


@pytest.mark.parametrize("name", sorted(CUSTOMER_EMAILS))
def test_each_builtin_email_previews_with_its_sample_data(name):
    text = split_builtin((TEMPLATES / f"{name}.txt").read_text())
    subject, body = preview(CUSTOMER_EMAILS[name], text)
    assert subject and "{{" not in subject and body


def test_a_german_override_renders_its_merge_fields():
    text = TemplateText(
        subject="Ihr Angebot von {{ seller }} (Version {{ quote.version }})",
        body="Guten Tag {{ contact_name }},\n\nGesamt: {{ quote.total }} {{ quote.currency }}\n",
    )
    subject, body = preview(QUOTE, text)
    assert subject == "Ihr Angebot von l2c Demo GmbH (Version 1)"
    assert body == "Guten Tag Erika Mustermann,\n\nGesamt: 1130.50 EUR\n"


def test_an_unknown_merge_field_is_refused_naming_the_part():
    text = TemplateText(subject="Hallo {{ vorname }}", body="x")
    with pytest.raises(InvalidInput) as refused:
        check_text(QUOTE, text)
    assert refused.value.field == ("subject",)
    assert "vorname" in refused.value.message


def test_bad_syntax_is_refused_naming_the_part():
    with pytest.raises(InvalidInput) as refused:
        check_text(QUOTE, TemplateText(subject="ok", body="{% for x in quote.lines %}"))
    assert refused.value.field == ("body",)
    assert "not a valid template" in refused.value.message


def test_an_unknown_attribute_of_a_known_field_is_refused():
    with pytest.raises(InvalidInput) as refused:
        check_text(QUOTE, TemplateText(subject="ok", body="{{ quote.secret_margin }}"))
    assert refused.value.field == ("body",)


def test_the_sandbox_keeps_python_out_of_reach():
    text = TemplateText(subject="ok", body="{{ contact_name.__class__.__mro__ }}")
    with pytest.raises(InvalidInput):
        check_text(QUOTE, text)


def test_a_multi_line_subject_becomes_one_header_line():
    subject, _ = render_text(TemplateText(subject="A\n{{ seller }}", body="b"), {"seller": "S"})
    assert subject == "A S"


def test_the_contacts_language_comes_first_then_the_default():
    assert languages_to_try("de", "en") == ["de", "en"]
    assert languages_to_try(None, "en") == ["en"]
    assert languages_to_try("en", "en") == ["en"]


def test_an_unknown_email_is_not_found():
    with pytest.raises(NotFound):
        customer_email("lead_assigned")  # a staff e-mail: not the admins' to reword here


@pytest.mark.parametrize("body", ["{{ 9**9**9 }}", "{{ 'x' * 1000000000 }}", "{{ 1 / 0 }}"])
def test_text_that_would_exhaust_the_machine_is_refused(body):
    with pytest.raises(InvalidInput):
        check_text(QUOTE, TemplateText(subject="ok", body=body))
