"""Messages in a real browser (issue 16): the templates screen, the editor's live preview as
you type (htmx under the strict CSP), an error shown at its field with its line, saving; and a
member's Messages section with a support user's resend."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.api.message_support import Recorder, run_messages
from tests.browser.conftest import PHONE, Live, assert_accessible, assert_fits, shoot, sign_in

pytestmark = pytest.mark.browser

TEMPLATES = "/console/programs/shop/messages"


def test_edit_a_template_with_a_live_preview_and_save(
    desktop: Page, staff: Any, store: dict[str, Any]
) -> None:
    errors: list[str] = []
    desktop.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(desktop, staff("manager"), to=TEMPLATES)
    expect(desktop.get_by_role("heading", name="Message templates", level=1)).to_be_visible()
    expect(desktop.get_by_role("table").get_by_role("row")).to_have_count(1 + 14)
    assert_accessible(desktop)
    assert_fits(desktop, PHONE)
    shoot(desktop, "message-templates")

    desktop.get_by_role("link", name="Edit Points earned email").click()
    expect(desktop.get_by_role("heading", name="Points earned email", level=1)).to_be_visible()
    preview = desktop.get_by_role("region", name="Preview")
    expect(preview).to_contain_text("120")  # the default text with sample values

    body = desktop.get_by_label("Body")
    body.fill("Hi {{ first_name }}, you earned {{ points }} points!\n\n{{ unsubscribe_link }}")
    expect(preview).to_contain_text("Hi Ada, you earned 120 points!")  # no click: live
    desktop.get_by_label("Subject").fill("{{ points }} points for you, {{ first_name }}")
    expect(preview).to_contain_text("Subject: 120 points for you, Ada")

    body.fill("Hi {{ first_name }}\n{{ pionts }}")
    field_error = desktop.locator("#f-body-errors")
    expect(field_error).to_contain_text("line 2: unknown variable 'pionts'")
    expect(preview).to_contain_text("The draft cannot be shown yet")
    assert_accessible(desktop)

    body.fill(
        "Hi {{ first_name }}, you earned {{ points }} points!\n"
        "Your balance is now {{ balance }} points.\n\n"
        "See what you can redeem: {{ portal_link }}\n\n"
        "Unsubscribe: {{ unsubscribe_link }}"
    )
    expect(field_error).to_have_text("")
    expect(preview).to_contain_text("Your balance is now 1,250 points.")
    desktop.get_by_role("button", name="Save template").click()
    expect(desktop.get_by_role("status").first).to_contain_text(
        "Saved the Points earned email template."
    )
    expect(desktop.get_by_text("Your program's own text")).to_be_visible()
    expect(preview).to_contain_text("Hi Ada, you earned 120 points!")
    assert_accessible(desktop)
    assert_fits(desktop, PHONE)
    shoot(desktop, "message-template")

    desktop.get_by_role("link", name="Message templates").click()
    row = desktop.get_by_role("row").filter(has_text="Points earned").filter(has_text="Email")
    expect(row).to_contain_text("Custom")
    assert errors == []  # no CSP refusal or script error in the browser's console


def test_the_editor_works_without_javascript(
    browser: Any, live: Live, staff: Any, store: dict[str, Any]
) -> None:
    context = browser.new_context(base_url=live.url, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, staff("marketer"), to=f"{TEMPLATES}/points.earned/sms")
        page.get_by_label("Body").fill("{{ points }} points, {{ first_name }}!")
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_role("region", name="Preview")).to_contain_text("120 points, Ada!")
        page.get_by_role("button", name="Send test").click()
        expect(page.get_by_role("alert")).to_contain_text("Write the phone number")
        page.get_by_label("Test phone number").fill("+14155550100")
        page.get_by_role("button", name="Send test").click()
        expect(page.get_by_role("alert")).to_contain_text(
            "No SMS transport is configured — see docs/messages.md"
        )
        page.get_by_role("button", name="Save template").click()
        expect(page.get_by_role("status").first).to_contain_text("Saved the Points earned SMS")
    finally:
        context.close()


def test_support_resends_a_message_from_the_member_page(
    desktop: Page, live: Live, staff: Any, store: dict[str, Any]
) -> None:
    live.box.mailer = Recorder()
    run_messages(live.box)  # Camille's voucher email (transactional) goes out
    camille = store["C-1001"]["id"]
    sign_in(desktop, staff("support"), to=f"/console/programs/shop/members/{camille}")
    section = desktop.get_by_role("region", name="Messages")
    sent = section.get_by_role("row").filter(has_text="Reward redeemed · Email")
    expect(sent).to_contain_text("Sent")
    expect(sent).to_contain_text("camille.laurent@example.com")
    expect(section).to_contain_text("Skipped: no consent")
    sent.get_by_role("button", name=re.compile("^Resend")).click()
    expect(desktop.get_by_role("status").first).to_contain_text("A copy of the message is queued")
    copy = section.get_by_role("row").filter(has_text="resent copy")
    expect(copy).to_have_count(1)
    expect(copy).to_contain_text("Queued")
    assert_accessible(desktop)
    assert_fits(desktop, PHONE)
    desktop.goto(f"/console/programs/shop/members/{camille}/messages")
    expect(desktop.get_by_role("heading", name="Messages to Camille Laurent")).to_be_visible()
    assert_accessible(desktop)
    shoot(desktop, "member-messages")
