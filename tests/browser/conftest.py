"""Browser tests: a real headless Chromium (Debian's, at /usr/bin/chromium) driven by Playwright
for Python against pytest-django's live server. A missing Chromium FAILS these tests with a clear
message: run `scripts/browser.sh install`. Never `playwright install` (no browser downloads)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API keeps an asyncio loop in this thread; the ORM calls the tests make between
# browser steps are ordinary synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The session's one Chromium (the `browser` fixture) lives in tests/conftest.py: Playwright's
# sync API allows one instance per thread, so every browser test shares it.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "Correct-Horse-42"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def open_as(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """A fresh page logged in (through the log-in form) as `username`, at the given viewport."""
    contexts: list[Any] = []

    def open_page(username: str, viewport: dict[str, int] | None = None) -> Any:
        context = browser.new_context(
            viewport=viewport or DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield open_page
    for context in contexts:
        context.close()


def no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url}: the page is {width}px wide in a {viewport}px viewport"


def screenshot(page: Any, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)
