"""Customer-portal tokens: signed, expiring, for one deal, action and version; else None."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.portal_tokens import PortalTokens, portal_tokens
from domain.messages import PortalAction

NOW = datetime(2030, 1, 15, 9, 30, tzinfo=UTC)
LIFETIME = timedelta(days=7)
TOKENS = PortalTokens("app-secret", LIFETIME)
URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


def issued(deal_id: str = "D-1", action: PortalAction = "quote", version: int = 2) -> str:
    return TOKENS.issue(deal_id, action, version, now=NOW)


def reencoded(token: str, **changes) -> str:
    """The token with its claim changed and its old signature kept."""
    body, _, signature = token.partition(".")
    claim = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**claim, **changes}).encode()).rstrip(b"=")
    return f"{forged.decode()}.{signature}"


@given(
    st.text(min_size=1, max_size=40),
    st.sampled_from(["quote", "contract"]),
    st.integers(1, 10_000),
)
def test_a_token_gives_back_its_deal_action_and_version(deal_id, action, version):
    claim = TOKENS.verify(TOKENS.issue(deal_id, action, version, now=NOW), now=NOW)
    assert claim is not None
    assert (claim.deal_id, claim.action, claim.version) == (deal_id, action, version)


def test_a_token_is_made_of_url_safe_characters():
    assert set(issued()) <= set(URL_SAFE)


def test_a_token_is_valid_until_just_before_its_lifetime_ends():
    assert TOKENS.verify(issued(), now=NOW + LIFETIME - timedelta(seconds=1)) is not None


def test_an_expired_token_is_refused():
    assert TOKENS.verify(issued(), now=NOW + LIFETIME) is None


def test_the_lifetime_is_given_in_days():
    tokens = portal_tokens("app-secret", lifetime_days=2)
    token = tokens.issue("D-1", "quote", 1, now=NOW)
    assert tokens.verify(token, now=NOW + timedelta(days=2, seconds=-1)) is not None
    assert tokens.verify(token, now=NOW + timedelta(days=2)) is None


@pytest.mark.parametrize(
    "change",
    [{"deal_id": "D-2"}, {"action": "contract"}, {"version": 3}, {"expires": 4_102_444_800}],
    ids=lambda change: next(iter(change)),
)
def test_a_token_with_a_changed_claim_is_refused(change):
    assert TOKENS.verify(reencoded(issued(), **change), now=NOW) is None


def test_a_token_with_a_changed_signature_is_refused():
    body, _, signature = issued().partition(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert TOKENS.verify(f"{body}.{flipped}", now=NOW) is None


def test_a_token_signed_with_another_secret_is_refused():
    other = PortalTokens("another-secret", LIFETIME).issue("D-1", "quote", 2, now=NOW)
    assert TOKENS.verify(other, now=NOW) is None


@pytest.mark.parametrize("token", ["", ".", "abc", "abc.", ".abc", "a.b.c"])
def test_a_malformed_token_is_refused(token):
    assert TOKENS.verify(token, now=NOW) is None


def test_a_token_with_a_non_ascii_signature_is_refused():
    body, _, signature = issued().partition(".")
    assert TOKENS.verify(f"{body}.{signature[:-1]}é", now=NOW) is None


@given(st.text(alphabet=URL_SAFE, max_size=120))
def test_no_made_up_token_is_accepted(token):
    assert TOKENS.verify(token, now=NOW) is None


def test_a_link_lapses_with_what_it_points_at_if_that_comes_first():
    tokens = portal_tokens("s" * 40, 60)
    now = datetime(2030, 1, 1, tzinfo=UTC)
    token = tokens.issue("d1", "quote", 1, now=now, expires_at=now + timedelta(days=2))
    assert tokens.verify(token, now=now + timedelta(days=1)) is not None
    assert tokens.verify(token, now=now + timedelta(days=3)) is None


def test_a_link_says_where_it_was_sent():
    tokens = portal_tokens("s" * 40, 60)
    claim = tokens.verify(tokens.issue("d1", "contract", 2, sent_to="ada@acme.example"))
    assert claim is not None and claim.sent_to == "ada@acme.example"
