"""The dashboard and the audit log in a real browser: figures, a chart drawn by the vendored
Chart.js under the strict CSP, and staff actions in the log with the staff user as actor."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, assert_accessible, assert_fits, shoot, sign_in

pytestmark = pytest.mark.browser

PAINTED = """canvas => {
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) painted++; }
  return painted;
}"""


def test_the_dashboard_shows_its_figures_and_charts(
    desktop: Page, staff: Any, store: dict[str, Any]
) -> None:
    errors: list[str] = []
    desktop.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(desktop, staff("manager"))  # the console's front door is the program's dashboard

    expect(desktop).to_have_url(re.compile(r"/console/programs/shop/$"))
    expect(desktop.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    values = desktop.locator(".figure .value")
    expect(values.first).to_be_visible()
    assert any(re.search(r"[1-9]", text) for text in values.all_inner_texts())
    chart = desktop.locator("canvas[data-chart]").first
    expect(chart).to_have_attribute("data-drawn", "1")
    assert chart.evaluate(PAINTED) > 0, "the chart's canvas is blank"
    expect(desktop.get_by_role("link", name=re.compile("CSV")).first).to_be_visible()
    assert errors == []  # no CSP refusal or script error in the browser's console
    assert_accessible(desktop)
    shoot(desktop, "dashboard")


def test_the_dashboard_fits_a_phone(phone: Page, staff: Any, store: dict[str, Any]) -> None:
    sign_in(phone, staff("viewer"))
    expect(phone.get_by_role("heading", name="Dashboard")).to_be_visible()
    assert_fits(phone)


def test_the_audit_log_shows_staff_actions_with_the_staff_user_as_actor(
    desktop: Page, staff: Any, store: dict[str, Any]
) -> None:
    email = staff("manager")
    hugo = store["C-1002"]["id"]
    sign_in(desktop, email, to=f"/console/programs/shop/members/{hugo}")
    desktop.get_by_label("Wallet").select_option("points")
    desktop.get_by_label("Amount").fill("-15")
    desktop.get_by_label("Reason", exact=True).fill("Points given twice by mistake")
    desktop.get_by_role("button", name="Adjust").click()
    expect(desktop.get_by_role("status")).to_contain_text("Points given twice by mistake")

    desktop.get_by_role("link", name="Audit log").click()
    expect(desktop.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    mine = desktop.get_by_role("row").filter(has_text=email)
    expect(mine.filter(has_text="member.adjust")).to_have_count(1)
    assert_accessible(desktop)
    shoot(desktop, "audit-log")
    assert_fits(desktop, PHONE)
