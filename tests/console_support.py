"""What the console's browser tests share: Debian's Chromium driven by Playwright, a fresh
browser context per test (nobody signed in), and signing in through the development issuer."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
DIST_INDEX = ROOT / "console" / "dist" / "index.html"
DOCS = ROOT / "docs"
VIEWPORT: ViewportSize = {"width": 1440, "height": 900}


def screenshot_dir(tmp_path: Path) -> Path:
    """Where a test's screenshots go: its temporary folder, or docs/ (the README and
    docs/analyst-console.md show them) with UPDATE_SCREENSHOTS=1."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        return DOCS
    return tmp_path


def require_built_console() -> None:
    if not DIST_INDEX.is_file():
        pytest.fail("console/dist/ is not built: run `make console`")


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@contextlib.contextmanager
def fresh_page(browser: Browser) -> Iterator[Page]:
    """A new browser context: nobody is signed in (sessionStorage is empty)."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="UTC")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def sign_in(page: Page, origin: str, as_user: str) -> None:
    page.goto(origin + "/")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name=f"Sign in as {as_user}").click()
    expect(page.get_by_role("heading", name="Alert queue")).to_be_visible()
    expect(page.get_by_text(f"{as_user}@example.com")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
