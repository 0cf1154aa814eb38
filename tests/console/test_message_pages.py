"""The console's Messages area and the member page's Messages section (issue 16): the templates
list, the editor (save, a refused template with its line at the field, the live preview
fragment, test send with and without a transport), the member's messages in plain words with
the address masked for viewers, and resend (SQLite and PostgreSQL, through the real pages)."""

from __future__ import annotations

import html as markup
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.console.message_log import status_text
from patron.domain.staff import mask_email, mask_phone
from patron.services.ports import Message
from tests.api.message_support import Recorder, run_messages
from tests.console.conftest import form_token
from tests.factories import auth, buy, enrol

P = "/v1/programs/shop"
T = "/console/programs/shop/messages"
EARNED = f"{T}/points.earned/email"
SKIPPED = (  # the status as a pill, the reason under it ("Skipped: no consent" when read)
    '<span class="status status--muted">Skipped</span><span class="visually-hidden">:</span> '
    '<br><span class="small">{}</span>'
)
M = "/console/programs/shop/members"


def post(client: TestClient, url: str, body: dict[str, str], **headers: str) -> Any:
    token = form_token(client.get("/console/account").text)
    return client.post(url, data={**body, "token": token}, headers=headers, follow_redirects=False)


def slot(html: str, field: str) -> str:
    """The text of the error slot under a field."""
    found = re.search(
        rf'<div class="error-slot" id="f-{field}-errors"[^>]*>(.*?)</div>', html, re.S
    )
    assert found, f"no error slot for {field}"
    return markup.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


DRAFT = {
    "subject": "Hi {{ first_name }}",
    "body": "You earned {{ points }} points.\r\n\r\n{{ unsubscribe_link }}",
    "category": "marketing",
    "active": "on",
}


# --- templates -------------------------------------------------------------------------------


def test_the_list_shows_every_event_and_channel(as_role: Any, shop: dict[str, str]) -> None:
    page = as_role("manager").get(T)
    assert page.status_code == 200
    assert "<h1>Message templates</h1>" in page.text
    assert page.text.count('<th scope="row"') == 14
    assert 'aria-current="page">Messages</a>' in page.text
    assert "Points earned" in page.text
    assert "Portal sign-in link" in page.text
    assert ">Transactional<" in page.text
    assert ">Marketing<" in page.text
    assert page.text.count(">Default<") == 14
    assert 'Edit<span class="visually-hidden"> Points earned email</span>' in page.text
    viewer = as_role("viewer").get(T).text
    assert 'View<span class="visually-hidden"> Points earned SMS</span>' in viewer
    assert as_role("support").get(T).status_code == 403


def test_a_marketer_edits_and_saves_once_however_often_the_form_is_sent(
    as_role: Any, web: TestClient, shop: dict[str, str]
) -> None:
    client = as_role("marketer")
    editor = client.get(EARNED).text
    assert "<h1>Points earned email</h1>" in editor
    assert "Patron&#39;s default text" in editor
    for variable in ("points", "wallet", "first_name", "unsubscribe_link"):
        assert f"{{{{ {variable} }}}}" in editor, variable
    assert "the points earned, formatted" in editor.lower()
    token = form_token(editor)
    first = client.post(EARNED, data={**DRAFT, "token": token}, follow_redirects=False)
    again = client.post(EARNED, data={**DRAFT, "token": token}, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == EARNED
    shown = client.get(EARNED).text
    assert "Saved the Points earned email template." in shown
    assert "Your program&#39;s own text" in shown

    saved = web.get(f"{P}/message-templates", headers=auth(shop["admin"])).json()["items"]
    earned = next(t for t in saved if (t["event"], t["channel"]) == ("points.earned", "email"))
    assert earned["custom"] is True
    assert earned["body"] == "You earned {{ points }} points.\n\n{{ unsubscribe_link }}"
    assert earned["updated_by"].startswith("user:")
    trail = web.get(
        f"{P}/audit-log?action=message_template.saved", headers=auth(shop["admin"])
    ).json()["items"]
    assert len(trail) == 1
    listed = client.get(T).text
    assert listed.count(">Custom<") == 1
    assert re.search(r'<span class="small muted">marketer\d+@staff\.example</span>', listed)


def test_a_refused_template_shows_its_line_at_the_field(
    as_role: Any, web: TestClient, shop: dict[str, str]
) -> None:
    client = as_role("manager")
    bad = {**DRAFT, "body": "Hello\r\n{{ pionts }}", "subject": "{{ first_name.upper() }}"}
    answer = post(client, EARNED, bad)
    assert answer.status_code == 422
    assert "The template was not saved" in answer.text
    assert slot(answer.text, "body").startswith("Error: line 2: unknown variable 'pionts'")
    assert "line 1: calls are not available" in slot(answer.text, "subject")
    assert "{{ pionts }}</textarea>" in markup.unescape(answer.text)  # the draft is kept
    saved = web.get(f"{P}/message-templates", headers=auth(shop["admin"])).json()["items"]
    assert not any(t["custom"] for t in saved)


def test_the_preview_fragment_renders_the_draft_or_its_errors(
    as_role: Any, shop: dict[str, str]
) -> None:
    client = as_role("viewer")  # a read: viewers preview too
    fragment = post(client, f"{EARNED}/preview", DRAFT, **{"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<h1>" not in fragment.text
    assert "Subject:</span> Hi Ada" in fragment.text
    assert "You earned 120 points." in fragment.text
    assert slot(fragment.text, "body") == ""
    assert 'hx-swap-oob="true"' in fragment.text

    bad = post(
        client,
        f"{EARNED}/preview",
        {**DRAFT, "body": "ok\n\n{{ points }"},
        **{"HX-Request": "true"},
    )
    assert "The draft cannot be shown yet" in bad.text
    assert slot(bad.text, "body") == "Error: line 3: unexpected '}'"

    whole = post(client, f"{EARNED}/preview", DRAFT)  # no JavaScript: the Preview button
    assert whole.status_code == 200
    assert "<h1>Points earned email</h1>" in whole.text
    assert "You earned 120 points." in whole.text


def test_restore_the_default_text_fills_the_editor_without_saving(
    as_role: Any, shop: dict[str, str]
) -> None:
    client = as_role("manager")
    assert post(client, EARNED, {**DRAFT, "subject": "Mine"}).status_code == 303
    page = client.get(f"{EARNED}?default=true").text
    assert "The editor holds Patron's default text" in page
    assert 'value="Mine"' not in page
    assert 'value="Mine"' in client.get(EARNED).text


def test_a_test_send_goes_through_the_transport(
    as_role: Any, container: Container, shop: dict[str, str]
) -> None:
    mail = Recorder()
    container.mailer = mail
    client = as_role("marketer")
    answer = post(client, f"{EARNED}/test", {**DRAFT, "to": "qa@example.com"})
    assert answer.status_code == 200
    assert "Test sent to qa@example.com." in answer.text
    [sent] = mail.to("qa@example.com")
    assert getattr(sent, "subject", None) == "[Test] Hi Ada"
    assert "You earned 120 points." in getattr(sent, "text", "")


def test_a_test_send_without_a_transport_says_where_to_look(
    as_role: Any, shop: dict[str, str]
) -> None:
    client = as_role("manager")
    page = client.get(EARNED).text
    assert "No email transport is configured — see docs/messages.md" in page
    answer = post(client, f"{EARNED}/test", {**DRAFT, "to": "qa@example.com"})
    assert answer.status_code == 409
    assert "No email transport is configured — see docs/messages.md" in answer.text
    sms = post(client, f"{T}/points.earned/sms/test", {"body": "{{ points }}", "to": "+1415"})
    assert "No SMS transport is configured" in sms.text


def test_support_cannot_edit_templates_and_a_marketer_cannot_resend(
    as_role: Any, web: TestClient, container: Container, shop: dict[str, str]
) -> None:
    support = as_role("support")
    assert support.get(EARNED).status_code == 403
    assert post(support, EARNED, DRAFT).status_code == 403
    member, log = _with_messages(web, container, shop)
    marketer = as_role("marketer")
    page = marketer.get(f"{M}/{member}").text
    assert ">Messages</h2>" in page
    assert "/resend" not in page
    refused = post(marketer, f"{M}/{member}/messages/{log[0]['id']}/resend", {})
    assert refused.status_code == 403


# --- the member's messages ------------------------------------------------------------------


def _with_messages(
    web: TestClient,
    container: Container,
    shop: dict[str, str],
    purchases: int = 1,
    sms: bool = False,
) -> tuple[str, list[dict[str, Any]]]:
    """Ada: email with consent, a phone (with consent if ``sms``); her emails sent by a
    recording transport, her SMS skipped (no consent, or no SMS transport)."""
    container.mailer = Recorder()
    ada = enrol(
        web,
        shop["admin"],
        program="shop",
        first_name="Ada",
        email="ada@example.com",
        phone="+14155550123",
        consents={"email": True, "sms": sms},
    )
    for n in range(purchases):
        buy(web, shop["admin"], program="shop", member=ada["id"], external_id=f"A-{n}")
    run_messages(container)
    log = web.get(f"{P}/members/{ada['id']}/messages?limit=100", headers=auth(shop["admin"]))
    return ada["id"], log.json()["items"]


def section(html: str) -> str:
    found = re.search(r'aria-labelledby="messages">(.*?)</section>', html, re.S)
    assert found, "no Messages section"
    return found.group(1)


def test_the_member_page_shows_sent_and_skipped_messages(
    as_role: Any, web: TestClient, container: Container, shop: dict[str, str]
) -> None:
    member, log = _with_messages(web, container, shop)
    assert {m["status"] for m in log} >= {"sent", "skipped"}
    html = section(as_role("support").get(f"{M}/{member}").text)
    assert "Welcome · Email" in html
    assert "Points earned · SMS" in html
    assert 'status--ok">Sent</span>' in html
    assert SKIPPED.format("no consent") in html
    assert "ada@example.com" in html
    assert SKIPPED.format("frequency cap reached") in html
    assert "Resend<span" in html
    assert '<summary class="small">Text</summary>' in html


def test_a_viewer_sees_masked_addresses_and_no_text(
    as_role: Any, web: TestClient, container: Container, shop: dict[str, str]
) -> None:
    member, _ = _with_messages(web, container, shop, sms=True)
    page = as_role("viewer").get(f"{M}/{member}").text
    html = section(page)
    assert SKIPPED.format("no SMS transport configured") in html
    assert mask_email("ada@example.com") in html
    assert mask_phone("+14155550123") in html
    assert "ada@example.com" not in page
    assert "+14155550123" not in page
    assert "/resend" not in html
    assert "<details>" not in html


def test_resend_by_support_applies_once_on_a_double_submit(
    as_role: Any, web: TestClient, container: Container, shop: dict[str, str]
) -> None:
    member, log = _with_messages(web, container, shop)
    original = next(m for m in log if m["status"] == "sent")
    client = as_role("support")
    token = form_token(client.get(f"{M}/{member}").text)
    url = f"{M}/{member}/messages/{original['id']}/resend"
    first = client.post(url, data={"token": token}, follow_redirects=False)
    again = client.post(url, data={"token": token}, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == f"{M}/{member}#messages"
    after = web.get(f"{P}/members/{member}/messages?limit=100", headers=auth(shop["admin"]))
    copies = [m for m in after.json()["items"] if m["resend_of"] == original["id"]]
    assert len(copies) == 1
    assert copies[0]["status"] == "queued"
    page = client.get(f"{M}/{member}").text
    assert "A copy of the message is queued" in page
    assert "resent copy" in section(page)
    assert 'status--warn">Queued</span>' in section(page)


def test_a_skipped_message_without_text_has_no_resend(
    as_role: Any, web: TestClient, container: Container, shop: dict[str, str]
) -> None:
    member, log = _with_messages(web, container, shop)
    empty = next(m for m in log if m["body"] is None)
    answer = post(as_role("manager"), f"{M}/{member}/messages/{empty['id']}/resend", {})
    assert answer.status_code == 422
    assert "no content to send again" in answer.text


def test_many_messages_link_to_the_full_list(
    as_role: Any, web: TestClient, container: Container, shop: dict[str, str]
) -> None:
    member, log = _with_messages(web, container, shop, purchases=11)
    assert len(log) > 20
    client = as_role("manager")
    html = section(client.get(f"{M}/{member}").text)
    assert html.count("<tr>") == 1 + 20
    assert f'href="{M}/{member}/messages">Every message</a>' in html
    full = client.get(f"{M}/{member}/messages").text
    assert "<h1>Messages to Ada</h1>" in full
    assert full.count("<tr>") == 1 + len(log)


# --- plain words ----------------------------------------------------------------------------

NOW = datetime(2026, 3, 7, 23, 30, tzinfo=UTC)


def _message(**fields: Any) -> Message:
    base: dict[str, Any] = {
        "id": "m1",
        "program_id": "p",
        "member_id": "a",
        "event": "points.earned",
        "channel": "sms",
        "category": "marketing",
        "subject_key": "k",
        "event_id": None,
        "status": "queued",
        "reason": None,
        "to_address": "+14155550123",
        "subject": None,
        "body": "x",
        "attempts": 0,
        "next_attempt_at": None,
        "last_attempt_at": None,
        "sent_at": None,
        "created_at": NOW,
    }
    return Message(**{**base, **fields})


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"status": "sent"}, "Sent"),
        (
            {"reason": "quiet_hours", "next_attempt_at": datetime(2026, 3, 8, 9, tzinfo=UTC)},
            "Held: quiet hours until 8 Mar, 09:00",
        ),
        (
            {"reason": "quiet_hours", "next_attempt_at": datetime(2026, 3, 7, 23, 45, tzinfo=UTC)},
            "Held: quiet hours until 23:45",
        ),
        ({"status": "skipped", "reason": "no_consent"}, "Skipped: no consent"),
        (
            {
                "reason": "retrying",
                "next_attempt_at": datetime(2026, 3, 7, 23, 35, tzinfo=UTC),
                "detail": "SMTPServerDisconnected: gone",
            },
            "Retrying: next try at 23:35 (SMTPServerDisconnected: gone)",
        ),
        ({"status": "skipped", "reason": "no_contact"}, "Skipped: no phone number"),
        ({"status": "skipped", "reason": "no_transport"}, "Skipped: no SMS transport configured"),
        (
            {"status": "failed", "reason": "rejected", "detail": "550 mailbox unavailable"},
            "Failed: rejected (550 mailbox unavailable)",
        ),
    ],
)
def test_statuses_in_plain_words(fields: dict[str, Any], expected: str) -> None:
    assert status_text(_message(**fields), NOW, "UTC") == expected
