"""Debian's Chromium driven by Playwright (never `playwright install`: the system binary)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Where the browser test saves its screenshots: docs/screenshots only when asked
# (`SERAPHIM_SCREENSHOTS=docs/screenshots`), so a test run leaves the checkout as it was.
SCREENSHOTS_ENV = "SERAPHIM_SCREENSHOTS"


def screenshots_dir(tmp_path: Path) -> Path:
    chosen = os.environ.get(SCREENSHOTS_ENV)
    path = Path(chosen) if chosen else tmp_path / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def chromium():
    """A headless Chromium browser (skips the test when the binary is missing)."""
    import pytest
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(browser, url: str, name: str, password: str):
    """A fresh context and page signed in as ``name`` (on the overview)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("#login-button")
    page.wait_for_url(f"{url}/", timeout=15_000)
    return context, page
