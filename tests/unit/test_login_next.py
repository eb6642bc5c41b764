"""Where login sends you back to: a page of this UI only, never another site."""

from __future__ import annotations

import pytest

from api.routes.ui import HOME, safe_next


@pytest.mark.parametrize("target", ["/ui/deals/abc123", "/ui/inbox", "/ui/deals?stage=QUOTING"])
def test_a_page_of_the_ui_is_where_login_goes_back_to(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "//evil.example/ui/x",
        "https://evil.example/ui/x",
        "/ui//evil.example",
        "/ui/../portal/x",
        "/ui\\evil",
        "/deals/abc",
        "/ui/deals/a b",
        "javascript:alert(1)",
    ],
)
def test_anything_else_goes_home(target: str | None) -> None:
    assert safe_next(target) == HOME
