"""The pro portal in headless Chromium (Debian's `chromium`, driven by Playwright through its executable path)
against a local stack of its own. `make e2e-browser` installs Chromium and runs these tests alone; `make test` runs
them with the rest (`.ci/run` installs Chromium first).

Every page a test visits can be photographed at desktop and phone size (`.local/screenshots/`, not committed) and
checked with axe-core (no serious or critical violation)."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright

from tests.e2e.conftest import RunningStack, local_stack

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".local" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling Google's hosts, which a closed network refuses.
CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=375, height=740)  # a small phone: the counter is often one
SERIOUS = ("serious", "critical")
SESSION_KEY = "passculture-pro-session"  # portal/js/session.js


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with local_stack(tmp_path_factory.mktemp("browser-logs")) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} not found: `make e2e-browser` installs Debian's chromium (or set CHROMIUM=…)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def new_context(browser: Browser, size: ViewportSize) -> BrowserContext:
    phone = size["width"] < 600
    context = browser.new_context(
        viewport=size, locale="fr-FR", timezone_id="Europe/Paris", is_mobile=phone, has_touch=phone
    )
    context.set_default_timeout(20_000)  # a cold function on a busy 2-core machine
    return context


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context = new_context(browser, DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = new_context(browser, PHONE)
    yield context.new_page()
    context.close()


_axe = Axe()


def check_page(page: Page, name: str) -> None:
    """axe-core on the page as it is (no serious or critical violation), then its screenshot, named by page and
    size, for review."""
    page.wait_for_load_state("networkidle")
    results = _axe.run(page)
    serious = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    assert not serious, f"{name}: " + json.dumps(
        [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in serious],
        ensure_ascii=False,
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = "phone" if (page.viewport_size or DESKTOP)["width"] < 600 else "desktop"
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}.png"), full_page=True)


def portal(stack: RunningStack, path: str = "") -> str:
    return f"{stack.url}/pro/#{path}"


def sign_in_with_token(page: Page, stack: RunningStack, email: str, password: str | None = None) -> None:
    """A signed-in pro without going through the sign-in form (that form has its own test): the ID token the local
    login answers, put where the portal keeps it."""
    token = stack.login(email) if password is None else stack.login(email, password)
    page.goto(portal(stack, "/connexion"))
    session = {"idToken": token, "email": email, "expiresAt": int(time.time() * 1000) + 3_000_000}
    page.evaluate("([key, value]) => sessionStorage.setItem(key, value)", [SESSION_KEY, json.dumps(session)])


def wait_for_heading(page: Page, text: str) -> None:
    page.get_by_role("heading", level=1, name=text).wait_for()


REFUSED = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d")


def console_errors(page: Page) -> list[str]:
    """Collects the page's console errors and uncaught exceptions from now on (a test asserts none). Chromium logs
    every 4xx answer as an error: those are the refusals a test provokes on purpose, shown by the page; a 5xx stays."""
    errors: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and not REFUSED.match(message.text):
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
