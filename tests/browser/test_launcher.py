"""The embeddable launcher on a merchant's page, in a real browser (docs/portal.md, "The
launcher"; issue 17).

The merchant is a tiny site on another port of 127.0.0.1, the same site as Patron for the
browser (a site ignores ports), as a shop on shop.example serving Patron on
loyalty.shop.example would be. It serves docs/portal/launcher-example.html itself, with the
test's Patron address in place of https://loyalty.shop.example, under a strict
Content-Security-Policy (no inline script or style but the page's own style, by hash), and
answers ``POST /loyalty/portal-link`` the way a merchant's backend does: for the shopper it has
signed in (its own ``shop_session`` cookie), it mints a portal link with its POS key through
Patron's API; for anyone else, 204 (no content: no link).

Screenshots go to docs/portal/launcher.png (desktop) and launcher-phone.png when
PATRON_SCREENSHOTS=1."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from babel.numbers import format_decimal
from fastapi.testclient import TestClient
from playwright.sync_api import ConsoleMessage, Frame, Page, expect

from patron.bootstrap import Container
from tests.browser.conftest import DESKTOP, PHONE, Live, assert_accessible
from tests.factories import auth, change_config, platform_key, program_key
from tests.support_example import EXAMPLE_CONFIG

pytestmark = pytest.mark.browser

DOCS = Path(__file__).parent.parent.parent / "docs" / "portal"
EXAMPLE = DOCS / "launcher-example.html"
PATRON_IN_EXAMPLE = "https://loyalty.shop.example"
NAME = "Northwind Rewards"
BRAND = "#8a4b24"


@pytest.fixture
def shop(web: TestClient, container: Container) -> dict[str, str]:
    """The ``shop`` program of the browser tests, named as a shop names its program."""
    key = platform_key(container)
    made = web.post(
        "/v1/programs",
        json={
            "slug": "shop",
            "name": NAME,
            "currency": "EUR",
            "timezone": "Europe/Paris",
            "country": "FR",
            "config": EXAMPLE_CONFIG,
        },
        headers=auth(key),
    )
    assert made.status_code == 201, made.text
    admin = program_key(web, key, program="shop", role="admin")
    return {"id": made.json()["id"], "slug": "shop", "admin": admin, "platform": key}


@dataclass
class Merchant:
    url: str
    shoppers: dict[str, str]  # the shop's session cookie → the member it signed in
    minted: list[str] = field(default_factory=list)  # members a link was minted for


def example_page(patron: str) -> tuple[bytes, str]:
    """The example page pointing at ``patron``, and the CSP a careful merchant sends with it."""
    html = EXAMPLE.read_text(encoding="utf-8").replace(PATRON_IN_EXAMPLE, patron)
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert style
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    policy = (
        f"default-src 'self'; script-src 'self' {patron}; "
        f"style-src 'self' {patron} 'sha256-{digest}'; connect-src 'self' {patron}; "
        f"frame-src {patron}; img-src 'self' data:; object-src 'none'; base-uri 'none'"
    )
    return html.encode(), policy


def serve_merchant(live: Live, pos_key: str, shoppers: dict[str, str]) -> Any:
    page, policy = example_page(live.url)
    merchant = Merchant("", shoppers)

    def mint(member: str) -> dict[str, Any]:
        """What the shop's backend does: ask Patron for a link, with its own key."""
        request = urllib.request.Request(
            f"{live.url}/v1/programs/shop/members/{member}/portal-link",
            data=b"{}",
            headers={**auth(pos_key), "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=20) as answer:
            made: dict[str, Any] = json.load(answer)
        # Patron writes links under PATRON_PUBLIC_URL, where launcher.js is loaded from in
        # production; the test's server listens elsewhere.
        made["url"] = made["url"].replace(live.box.settings.base_url(), live.url, 1)
        merchant.minted.append(member)
        return made

    class Shop(BaseHTTPRequestHandler):
        def shopper(self) -> str | None:
            session = SimpleCookie(self.headers.get("Cookie", "")).get("shop_session")
            return shoppers.get(session.value) if session else None

        def do_GET(self) -> None:
            if self.path == "/favicon.ico":
                self.send_response(204)
                self.end_headers()
                return
            if self.path not in ("/", "/linked"):
                self.send_error(404)
                return
            body = page
            member = self.shopper()
            if self.path == "/linked" and member is not None:
                # the other way: a link minted as the page is made, handed over in data-link
                link = f'data-link="{mint(member)["url"]}"'.encode()
                body = page.replace(b'data-link-endpoint="/loyalty/portal-link"', link)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", policy)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            if self.path != "/loyalty/portal-link":
                self.send_error(404)
                return
            member = self.shopper()
            if member is None:  # nobody signed in to the shop: the panel shows the sign-in page
                self.send_response(204)
                self.end_headers()
                return
            body = json.dumps(mint(member)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    merchant.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="merchant", daemon=True)
    thread.start()
    return merchant, server, thread


@pytest.fixture
def merchant(
    live: Live, web: TestClient, shop: dict[str, str], store: dict[str, dict[str, Any]]
) -> Iterator[Merchant]:
    """The shop's site, listed in the program's ``portal.embed_origins``, with Camille (of the
    store) as the shopper of the session ``camille``."""
    pos = program_key(web, shop["platform"], program="shop", role="pos")
    found, server, thread = serve_merchant(live, pos, {"camille": store["C-1001"]["id"]})
    change_config(
        web,
        shop["admin"],
        program="shop",
        portal={"brand_color": BRAND, "embed_origins": [found.url]},
    )
    yield found
    server.shutdown()
    server.server_close()
    thread.join(10)


def watch(page: Page) -> list[str]:
    """Script errors, CSP refusals and the launcher's warnings on the page, as they come."""
    seen: list[str] = []

    def console(message: ConsoleMessage) -> None:
        # axe-core, evaluated by the test (no URL), sets styles the page's CSP refuses
        by_the_test = message.location.get("url") == ""
        if (message.type == "error" and not by_the_test) or message.text.startswith("Patron"):
            seen.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: seen.append(str(error)))
    return seen


def sign_in_to_the_shop(page: Page, merchant: Merchant) -> None:
    page.context.add_cookies([{"name": "shop_session", "value": "camille", "url": merchant.url}])


def portal_frame(page: Page) -> Frame:
    found = next((f for f in page.frames if "/portal/shop/" in f.url), None)
    assert found is not None, [f.url for f in page.frames]
    return found


def available_points(web: TestClient, shop: dict[str, str], member: str) -> str:
    found = web.get(f"/v1/programs/shop/members/{member}", headers=auth(shop["admin"]))
    return format_decimal(found.json()["balances"]["points"]["available"], locale="en_US")


def shoot(page: Page, name: str) -> None:
    """docs/portal/NAME.png of the page as it is (viewport only), when PATRON_SCREENSHOTS=1."""
    if os.environ.get("PATRON_SCREENSHOTS") != "1":
        return
    page.screenshot(path=str(DOCS / f"{name}.png"), animations="disabled")


def test_the_panel_opens_the_portal_signed_in_by_a_link_minted_on_demand(
    desktop: Page,
    web: TestClient,
    shop: dict[str, str],
    store: dict[str, dict[str, Any]],
    merchant: Merchant,
) -> None:
    page = desktop
    problems = watch(page)
    sign_in_to_the_shop(page, merchant)
    page.goto(merchant.url)
    launcher = page.get_by_role("button", name=NAME)
    expect(launcher).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    color = page.evaluate(
        "() => getComputedStyle(document.querySelector('[data-patron-launcher]')"
        ".shadowRoot.querySelector('.launcher')).backgroundColor"
    )
    assert color == "rgb(138, 75, 36)"  # the program's colour, from launcher.json
    assert merchant.minted == []  # nothing minted until the shopper asks
    shoot(page, "launcher-button")

    launcher.click()
    panel = page.get_by_role("dialog", name=NAME)
    expect(panel).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("button", name="Close")).to_be_focused()
    frame = page.frame_locator(f"iframe[title='{NAME}: your account']")
    expect(frame.get_by_role("heading", name="Hello, Camille")).to_be_visible()
    expect(frame.get_by_role("heading", name="Balance")).to_be_visible()
    points = available_points(web, shop, store["C-1001"]["id"])
    expect(frame.locator(".figure").first).to_have_text(re.compile(rf"{points}\s+points"))
    assert merchant.minted == [store["C-1001"]["id"]]
    assert_accessible(page)
    assert_accessible(portal_frame(page))
    shoot(page, "launcher")

    # Escape pressed inside the portal closes the panel, and focus is back on the button
    frame.get_by_role("link", name="See the rewards").focus()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")

    # opened again: the same session, nothing minted; Escape on the panel's own button
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()
    expect(frame.get_by_role("heading", name="Hello, Camille")).to_be_visible()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()

    # the page's own link opens it too, and focus returns to that link
    link = page.get_by_role("link", name="See my points and rewards")
    link.click()
    expect(panel).to_be_visible()
    page.get_by_role("button", name="Close").click()
    expect(panel).to_be_hidden()
    expect(link).to_be_focused()
    assert merchant.minted == [store["C-1001"]["id"]]
    assert page.url == f"{merchant.url}/"
    assert problems == [], problems  # no CSP refusal, script error or launcher warning


def test_a_link_minted_with_the_page_is_used_once_and_the_panel_keeps_its_session(
    desktop: Page, store: dict[str, dict[str, Any]], merchant: Merchant
) -> None:
    problems = watch(desktop)
    sign_in_to_the_shop(desktop, merchant)
    desktop.goto(f"{merchant.url}/linked")
    assert merchant.minted == [store["C-1001"]["id"]]
    launcher = desktop.get_by_role("button", name=NAME)
    frame = desktop.frame_locator(f"iframe[title='{NAME}: your account']")
    for _ in range(2):  # the second opening shows the same session, not the spent link
        launcher.click()
        expect(frame.get_by_role("heading", name="Hello, Camille")).to_be_visible()
        desktop.keyboard.press("Escape")
        expect(desktop.get_by_role("dialog", name=NAME)).to_be_hidden()
    assert len(merchant.minted) == 1
    assert problems == [], problems


def test_without_a_signed_in_shopper_the_panel_shows_the_sign_in_page(
    desktop: Page, merchant: Merchant
) -> None:
    problems = watch(desktop)
    desktop.goto(merchant.url)
    desktop.get_by_role("button", name=NAME).click()
    frame = desktop.frame_locator(f"iframe[title='{NAME}: your account']")
    expect(frame.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(frame.get_by_label("Email")).to_be_visible()
    assert merchant.minted == []
    assert problems == []


def test_on_a_phone_the_panel_fills_the_screen(
    phone: Page, web: TestClient, store: dict[str, dict[str, Any]], merchant: Merchant
) -> None:
    sign_in_to_the_shop(phone, merchant)
    phone.goto(merchant.url)
    phone.get_by_role("button", name=NAME).click()
    frame = phone.frame_locator(f"iframe[title='{NAME}: your account']")
    expect(frame.get_by_role("heading", name="Hello, Camille")).to_be_visible()
    box = phone.get_by_role("dialog", name=NAME).bounding_box()
    assert box == {"x": 0, "y": 0, "width": PHONE["width"], "height": PHONE["height"]}
    # the portal's tabs work inside the panel
    frame.get_by_role("navigation", name="Portal sections").get_by_role(
        "link", name="Rewards"
    ).click()
    expect(frame.get_by_role("heading", name="Rewards", level=1)).to_be_visible()
    frame.get_by_role("navigation", name="Portal sections").get_by_role(
        "link", name="Balance"
    ).click()
    expect(frame.get_by_role("heading", name="Hello, Camille")).to_be_visible()
    shoot(phone, "launcher-phone")
    phone.get_by_role("button", name="Close").click()
    expect(phone.get_by_role("dialog", name=NAME)).to_be_hidden()


def test_a_site_the_program_does_not_list_opens_the_portal_in_a_new_tab(
    desktop: Page, web: TestClient, shop: dict[str, str], merchant: Merchant
) -> None:
    change_config(web, shop["admin"], program="shop", portal={"brand_color": BRAND})
    problems = watch(desktop)
    sign_in_to_the_shop(desktop, merchant)
    desktop.goto(merchant.url)
    with desktop.expect_popup() as opened:
        desktop.get_by_role("button", name=NAME).click()
    tab = opened.value
    expect(tab.get_by_role("heading", name="Hello, Camille")).to_be_visible()
    assert tab.url.startswith(f"{desktop.context.pages[0].url.split('/')[0]}")
    expect(desktop.get_by_role("dialog")).to_have_count(0)
    assert len(merchant.minted) == 1
    assert [p for p in problems if "embed_origins" in p], problems  # the merchant is told why
    assert DESKTOP  # the page kept its size
