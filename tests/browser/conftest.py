"""Browser tests: the console served for real (uvicorn on a loopback port) and driven by
Debian's Chromium through Playwright's sync API.

**The server.** ``live`` runs ``patron.web.create_app(container)`` under uvicorn in a background
thread, on a free port of 127.0.0.1, against the test database of the ``container`` fixture, so
every browser test runs on SQLite and (with PATRON_TEST_POSTGRES_URL) on PostgreSQL. Data is set
up through the API with the same container (``web``, ``shop`` and tests/factories.py), then the
browser does what a person would.

**The browser.** One Chromium per test process (session scope; each xdist worker has its own),
launched from ``PATRON_CHROMIUM`` (default /usr/bin/chromium: ``scripts/browser`` installs it);
each test gets fresh contexts, so no cookie leaks between tests. Playwright's sync API runs its
own event loop on the test's thread: it works because nothing else runs an asyncio loop there
(TestClient's loop lives in its own thread). Without Chromium the tests are skipped, except in CI
(``CI`` set), where they fail.

**Looking at it.** ``assert_accessible`` injects the vendored axe-core and fails on any serious or
critical violation. ``shoot`` saves a desktop and a phone screenshot of the page into
docs/console/ when PATRON_SCREENSHOTS=1 (docs/console.md embeds them); otherwise it does nothing,
so ordinary runs never rewrite the docs.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from patron.bootstrap import Container
from patron.web import create_app
from tests.console.conftest import PASSWORD, make_staff, shop, web
from tests.factories import buy, enrol

__all__ = ["shop", "web"]  # fixtures shared with the console tests

HERE = Path(__file__).parent
AXE = HERE / "axe-4.14.1.min.js"
DOCS = HERE.parent.parent / "docs" / "console"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
TIMEOUT_MS = 30_000  # generous: CI machines are slow and shared (10 s timed out once under load)
expect.set_options(timeout=TIMEOUT_MS)


@dataclass(frozen=True, slots=True)
class Live:
    """The running console: its base URL and the container behind it."""

    url: str
    box: Container


@pytest.fixture
def live(container: Container) -> Iterator[Live]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(container),
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="console", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the console's server stopped while starting"
        assert time.monotonic() < deadline, "the console did not start within 10 s"
        time.sleep(0.01)
    yield Live(f"http://127.0.0.1:{port}", container)
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    path = os.environ.get("PATRON_CHROMIUM", "/usr/bin/chromium")
    if not os.access(path, os.X_OK):
        problem = f"no Chromium at {path} (scripts/browser installs it; or set PATRON_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@contextmanager
def _context(browser: Browser, live: Live, **options: Any) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live.url, locale="en-GB", **options)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def desktop(browser: Browser, live: Live) -> Iterator[Page]:
    """A page in a fresh desktop-sized context (1280 by 800)."""
    with _context(browser, live, viewport=DESKTOP) as context:
        yield context.new_page()


@pytest.fixture
def phone(browser: Browser, live: Live) -> Iterator[Page]:
    """A page in a fresh phone-sized context (390 by 844, touch)."""
    with _context(browser, live, viewport=PHONE, is_mobile=True, has_touch=True) as context:
        yield context.new_page()


@pytest.fixture
def second(browser: Browser, live: Live) -> Iterator[Page]:
    """Another desktop page with its own cookies: a second staff user at the same time."""
    with _context(browser, live, viewport=DESKTOP) as context:
        yield context.new_page()


def sign_in(page: Page, email: str, password: str = PASSWORD, *, to: str = "/console/") -> None:
    """Sign in through the sign-in page as a person would, asking to land on ``to``."""
    page.goto(f"/console/login?next={to}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.fixture
def staff(live: Live, shop: dict[str, str]) -> Any:
    """``staff("support", support_limit=50)``: the email of a new staff user of ``shop`` with
    that role and the test password."""
    made: list[str] = []

    def make(role: str, **limits: Any) -> str:
        email = f"{role}{len(made)}@staff.example"
        make_staff(live.box, email=email, role=role, program="shop", **limits)
        made.append(email)
        return email

    return make


PEOPLE = (
    ("C-1001", "Camille", "Laurent", "camille.laurent@example.com", ("84.50", "129.00", "46.90")),
    ("C-1002", "Hugo", "Martin", "hugo.martin@example.com", ("39.90", "212.40")),
    ("C-1003", "Léa", "Dubois", "lea.dubois@example.com", ("18.00", "64.00", "27.50", "95.00")),
    ("C-1004", "Noah", "Bernard", "noah.bernard@example.com", ("152.00",)),
    ("C-1005", "Chloé", "Petit", "chloe.petit@example.com", ()),
)


LAST_DAY = datetime(2026, 3, 6, 17, 20, tzinfo=UTC)  # the day before the tests' clock


@pytest.fixture
def store(web: TestClient, shop: dict[str, str]) -> dict[str, dict[str, Any]]:
    """A small shop that looks real: five named members with purchases over the last weeks, a
    reward, and a redemption by Camille. Members by external id."""
    key, found = shop["admin"], {}
    for external_id, first, last, email, amounts in PEOPLE:
        member = enrol(
            web,
            key,
            program="shop",
            external_id=external_id,
            first_name=first,
            last_name=last,
            email=email,
            consents={"email_marketing": external_id != "C-1004"},
            enrolled_at="2026-01-12T09:30:00Z",
        )
        for n, amount in enumerate(amounts):
            at = LAST_DAY - timedelta(days=11 * n + 2 * len(found), hours=3 * n)
            buy(
                web,
                key,
                program="shop",
                member=member["id"],
                external_id=f"{external_id}-{n + 1}",
                amount=amount,
                at=at,
                category="shoes" if n == 1 else "beauty",
            )
        found[external_id] = member
    reward = {
        "code": "lip-mini",
        "name": "Mini lipstick",
        "cost": {"wallet": "points", "amount": 200},
        "kind": "free_item",
        "value": "LIP-MINI",
        "voucher_valid_days": 60,
    }
    headers = {"Authorization": f"Bearer {key}"}
    answer = web.post("/v1/programs/shop/rewards", json=reward, headers=headers)
    assert answer.status_code == 201, answer.text
    camille = found["C-1001"]["id"]
    answer = web.post(
        f"/v1/programs/shop/members/{camille}/redemptions",
        json={"reward": "lip-mini"},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    return found


def assert_accessible(page: Page) -> None:
    """Run axe-core on the page (WCAG 2.x A and AA rules); fail on serious or critical
    violations, listing each with the elements it found."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated, not added as a <script>: the console's CSP allows only its own scripts.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;void 0")
    results = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag',
               values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"""
    )
    bad = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    report = [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in bad
    ]
    assert not report, f"{page.url}: accessibility violations\n{json.dumps(report, indent=2)}"


def assert_fits(page: Page, viewport: dict[str, int] | None = None) -> None:
    """Nothing makes the page wider than its viewport (wide tables scroll inside their box);
    with ``viewport`` (e.g. PHONE), the same page resized to it, then put back."""
    size = page.viewport_size
    assert size
    if viewport is not None:
        page.set_viewport_size(viewport)
    # Against the screen's width, not innerWidth: a phone browser widens its layout viewport
    # to the content, so innerWidth grows with the overflow it should reveal.
    width = (viewport or size)["width"]
    overflow = page.evaluate("() => document.documentElement.scrollWidth") - width
    if viewport is not None:
        page.set_viewport_size(size)
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


def shoot(page: Page, name: str) -> None:
    """docs/console/NAME-desktop.png and NAME-phone.png of the page as it is, when
    PATRON_SCREENSHOTS=1. The phone shot resizes the same page, then puts it back."""
    if os.environ.get("PATRON_SCREENSHOTS") != "1":
        return
    assert re.fullmatch(r"[a-z-]+", name)
    DOCS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or DESKTOP
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(150)  # let charts redraw at the new size
        path = DOCS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")
    page.set_viewport_size(size)
