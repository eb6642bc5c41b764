"""Headless Chromium (Debian's, at /usr/bin/chromium) driven by Playwright against the live
API's web UI. Each test gets a browser with a fresh profile; screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Playwright, expect, sync_playwright

from tests.conftest import PASSWORD, Live

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WAIT_MS = 30_000  # a click that runs a workflow update may take a few seconds


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def page(playwright: Playwright, tmp_path: Path) -> Iterator[Page]:
    """A browser of its own (fresh user-data-dir, so no cookie from another test)."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=str(CHROMIUM),
        args=ARGS,
        headless=True,
        viewport={"width": 1440, "height": 900},
    )
    context.set_default_timeout(WAIT_MS)
    browser_page = context.pages[0] if context.pages else context.new_page()
    yield browser_page
    context.close()


@pytest.fixture
def log_in(live: Live, page: Page) -> Callable[[str], Page]:
    """Log `username` in through the login form; the page is then on the pipeline board."""

    def login(username: str) -> Page:
        page.goto(f"{live.base_url}/ui/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{live.base_url}/ui/board")
        return page

    return login


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
