"""Members in a real browser: find a member by email, open the 360° page, adjust with a reason,
a double submit applied once, a support user refused above its limit, a viewer's masked email
(issue 15's browser tests; accessible names from API.md Part 2)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Locator, Page, expect

from patron.console.templating import points
from patron.domain.staff import mask_email
from tests.browser.conftest import assert_accessible, assert_fits, shoot, sign_in
from tests.factories import auth
from tests.factories import points as balance

pytestmark = pytest.mark.browser

MEMBERS = "/console/programs/shop/members"
SECTIONS = ("Balances", "Tier", "Activity", "Redemptions", "Referrals", "Consents")


def available(page: Page) -> Locator:
    """The points wallet's available balance in the Balances section (wallets are not in a
    fixed order: PostgreSQL's JSONB sorts the configuration's keys)."""
    points_wallet = page.get_by_role("region", name="Balances").get_by_role(
        "heading", name="Points", exact=True
    )
    return points_wallet.locator(
        "xpath=following-sibling::dl[1]/dt[normalize-space()='Available']/following-sibling::dd[1]"
    )


def adjustments(web: TestClient, shop: dict[str, str], member: str) -> list[dict[str, Any]]:
    answer = web.get(f"/v1/programs/shop/members/{member}/activity", headers=auth(shop["admin"]))
    assert answer.status_code == 200, answer.text
    return [e for e in answer.json()["items"] if e["type"] == "adjust"]


def test_find_a_member_by_email_and_open_their_page(
    desktop: Page, staff: Any, store: dict[str, Any]
) -> None:
    sign_in(desktop, staff("manager"), to=MEMBERS)
    expect(desktop.get_by_role("heading", name="Members", level=1)).to_be_visible()
    expect(desktop.get_by_role("table").get_by_role("row")).to_have_count(1 + len(store))
    assert_accessible(desktop)
    shoot(desktop, "members")

    desktop.get_by_label("Search members").fill("camille.laurent@example.com")
    desktop.get_by_label("Search members").press("Enter")
    rows = desktop.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(2)  # the header and Camille
    expect(rows.nth(1)).to_contain_text("camille.laurent@example.com")

    desktop.get_by_role("link", name="Camille Laurent").click()
    expect(desktop.get_by_role("heading", name="Camille Laurent", level=1)).to_be_visible()
    for name in SECTIONS:
        expect(desktop.get_by_role("heading", name=name, exact=True)).to_be_visible()
    expect(desktop.get_by_role("region", name="Redemptions")).to_contain_text("Mini lipstick")
    assert_accessible(desktop)
    shoot(desktop, "member")


def test_adjust_with_a_reason_shows_the_entry_and_the_new_balance(
    desktop: Page, staff: Any, store: dict[str, Any], web: TestClient, shop: dict[str, str]
) -> None:
    hugo = store["C-1002"]["id"]
    before = balance(web, shop["admin"], program="shop", member=hugo)
    sign_in(desktop, staff("manager"), to=f"{MEMBERS}/{hugo}")
    expect(available(desktop)).to_have_text(points(before))

    desktop.get_by_label("Wallet").select_option("points")
    desktop.get_by_label("Amount").fill("50")
    desktop.get_by_label("Reason", exact=True).fill("Parcel arrived a week late")
    desktop.get_by_role("button", name="Adjust").click()

    expect(desktop.get_by_role("status")).to_contain_text("Reason: Parcel arrived a week late")
    entry = (
        desktop.get_by_role("region", name="Activity")
        .get_by_role("row")
        .filter(has_text="Reason: Parcel arrived a week late")
    )
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("50")
    expect(available(desktop)).to_have_text(points(before + 50))
    assert balance(web, shop["admin"], program="shop", member=hugo) == before + 50


def test_a_form_submitted_twice_applies_once(
    desktop: Page, staff: Any, store: dict[str, Any], web: TestClient, shop: dict[str, str]
) -> None:
    lea = store["C-1003"]["id"]
    before = balance(web, shop["admin"], program="shop", member=lea)
    sign_in(desktop, staff("manager"), to=f"{MEMBERS}/{lea}")
    form = desktop.locator("form").filter(has=desktop.get_by_role("button", name="Adjust"))
    desktop.get_by_label("Wallet").select_option("points")
    desktop.get_by_label("Amount").fill("25")
    desktop.get_by_label("Reason", exact=True).fill("Birthday gesture")
    sent = form.evaluate("f => Object.fromEntries(new FormData(f))")
    action = form.get_attribute("action")
    assert action

    desktop.get_by_role("button", name="Adjust").dblclick()  # an impatient double click
    expect(desktop.get_by_role("status")).to_contain_text("Reason: Birthday gesture")
    again = desktop.request.post(action, form=sent, max_redirects=0)  # the same form, resent
    assert again.status == 303
    assert again.headers["location"].endswith(f"/members/{lea}")

    desktop.reload()
    rows = desktop.get_by_role("region", name="Activity").get_by_role("row")
    expect(rows.filter(has_text="Reason: Birthday gesture")).to_have_count(1)
    assert [e["amount"] for e in adjustments(web, shop, lea)] == [25]
    expect(available(desktop)).to_have_text(points(before + 25))


def test_a_support_user_above_its_limit_is_refused(
    desktop: Page, staff: Any, store: dict[str, Any], web: TestClient, shop: dict[str, str]
) -> None:
    noah = store["C-1004"]["id"]
    before = balance(web, shop["admin"], program="shop", member=noah)
    sign_in(desktop, staff("support", support_limit=50), to=f"{MEMBERS}/{noah}")
    desktop.get_by_label("Wallet").select_option("points")
    desktop.get_by_label("Amount").fill("80")
    desktop.get_by_label("Reason", exact=True).fill("Goodwill")
    with desktop.expect_response(lambda r: r.request.method == "POST") as answer:
        desktop.get_by_role("button", name="Adjust").click()

    assert answer.value.status == 403
    expect(desktop.get_by_text("80 points is above your limit of 50 points")).to_be_visible()
    expect(available(desktop)).to_have_text(points(before))
    assert adjustments(web, shop, noah) == []
    assert_accessible(desktop)


def test_a_viewer_sees_the_email_masked(desktop: Page, staff: Any, store: dict[str, Any]) -> None:
    chloe = store["C-1005"]["id"]
    sign_in(desktop, staff("viewer"), to=MEMBERS)
    masked = mask_email("chloe.petit@example.com")
    assert masked
    expect(desktop.get_by_role("table")).to_contain_text(masked)
    desktop.get_by_role("link", name="Chloé Petit").click()

    expect(desktop.get_by_role("heading", name="Chloé Petit", level=1)).to_be_visible()
    profile = desktop.get_by_role("region", name="Profile")
    expect(profile).to_contain_text(masked)
    assert "chloe.petit@example.com" not in desktop.content()
    expect(desktop.get_by_role("button", name="Adjust")).to_have_count(0)
    assert desktop.url.endswith(f"/members/{chloe}")


def test_member_pages_fit_a_phone(phone: Page, staff: Any, store: dict[str, Any]) -> None:
    sign_in(phone, staff("manager"), to=MEMBERS)
    expect(phone.get_by_label("Search members")).to_be_visible()
    assert_fits(phone)
    phone.goto(f"{MEMBERS}/{store['C-1001']['id']}")
    expect(phone.get_by_role("heading", name="Camille Laurent")).to_be_visible()
    assert_fits(phone)
