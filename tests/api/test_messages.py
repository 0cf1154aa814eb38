"""Messages (SPEC §11) through the API and the worker's message step: templates and their
sandbox, preview, planning facts into messages once, consent per category and channel,
erasure / freeze stopping messages, frequency caps, SMS quiet hours, retries, resend, and
one-click unsubscribe. Transports here record what they are given; tests/integration has the
same pipeline against a real SMTP server."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.services import jobs
from patron.services.ports import Delivery, OutgoingEmail, OutgoingSms
from tests.api.message_support import Recorder, run_messages
from tests.factories import COFFEE, MutableClock, auth, buy, change_config, enrol

P = "/v1/programs/shop"


@pytest.fixture
def mail(container: Container) -> Recorder:
    container.mailer = Recorder()
    return container.mailer


@pytest.fixture
def texts(container: Container) -> Recorder:
    container.sms = Recorder()
    return container.sms


def _log(client: TestClient, key: str, member: str) -> list[dict[str, Any]]:
    response = client.get(f"{P}/members/{member}/messages", headers=auth(key))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _by(log: list[dict[str, Any]], event: str, channel: str) -> dict[str, Any]:
    found = [m for m in log if m["event"] == event and m["channel"] == channel]
    assert len(found) == 1, log
    return found[0]


def _member(client: TestClient, key: str, **fields: Any) -> dict[str, Any]:
    return enrol(client, key, program="shop", **fields)


# --- templates ------------------------------------------------------------------------------


def test_defaults_are_listed_for_every_event_and_channel(
    client: TestClient, shop: dict[str, str]
) -> None:
    response = client.get(f"{P}/message-templates", headers=auth(shop["read"]))
    assert response.status_code == 200
    items = response.json()["items"]
    pairs = {(t["event"], t["channel"]) for t in items}
    assert ("member.enrolled", "email") in pairs
    assert ("portal.sign_in", "sms") in pairs
    assert len(items) == 14
    welcome = next(t for t in items if t["event"] == "member.enrolled" and t["channel"] == "email")
    assert welcome["custom"] is False
    assert welcome["category"] == "marketing"
    assert welcome["subject"] == "Welcome to {{ program_name }}"
    assert "unsubscribe_link" in welcome["variables"]
    redeemed = next(t for t in items if t["event"] == "reward.redeemed" and t["channel"] == "email")
    assert redeemed["category"] == "transactional"


def test_the_program_locale_chooses_the_default_language(
    client: TestClient, shop: dict[str, str]
) -> None:
    change_config(client, shop["admin"], program="shop", locale="fr")
    items = client.get(f"{P}/message-templates", headers=auth(shop["read"])).json()["items"]
    welcome = next(t for t in items if t["event"] == "member.enrolled" and t["channel"] == "email")
    assert welcome["subject"] == "Bienvenue chez {{ program_name }}"


def test_a_saved_template_replaces_the_default_and_is_audited(
    client: TestClient, shop: dict[str, str]
) -> None:
    body = {
        "subject": "Hi {{ first_name }}",
        "body": "You have {{ balance }} points.\n{{ unsubscribe_link }}",
        "category": "marketing",
        "active": True,
    }
    response = client.put(
        f"{P}/message-templates/points.earned/email", json=body, headers=auth(shop["admin"])
    )
    assert response.status_code == 200, response.text
    saved = response.json()
    assert saved["custom"] is True
    assert saved["body"] == body["body"]
    items = client.get(f"{P}/message-templates", headers=auth(shop["read"])).json()["items"]
    earned = next(t for t in items if t["event"] == "points.earned" and t["channel"] == "email")
    assert earned["subject"] == "Hi {{ first_name }}"
    trail = client.get(
        "/v1/programs/shop/audit-log?action=message_template.saved", headers=auth(shop["admin"])
    ).json()["items"]
    assert trail[0]["action"] == "message_template.saved"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello\n{{ pionts }}", "line 2: unknown variable 'pionts'"),
        ("{{ first_name.__class__ }}", "line 1: attribute access is not available"),
        ("{{ first_name.upper() }}", "line 1: calls are not available"),
        ("{% include 'x' %}", "line 1: include is not available"),
        ("ok\n\n{{ points }", "line 3: unexpected '}'"),
        ("{{ points | nosuchfilter }}", "line 1: No filter named 'nosuchfilter'"),
    ],
)
def test_a_template_beyond_its_variables_is_refused_with_its_place(
    client: TestClient, shop: dict[str, str], text: str, expected: str
) -> None:
    response = client.put(
        f"{P}/message-templates/points.earned/sms",
        json={"body": text, "category": "marketing"},
        headers=auth(shop["admin"]),
    )
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert errors[0]["path"] == "body"
    assert errors[0]["message"].startswith(expected)
    items = client.get(f"{P}/message-templates", headers=auth(shop["read"])).json()["items"]
    assert all(not t["custom"] for t in items)


def test_template_refusals(client: TestClient, shop: dict[str, str]) -> None:
    admin = auth(shop["admin"])
    unknown = client.put(
        f"{P}/message-templates/nothing.happened/email",
        json={"subject": "x", "body": "x", "category": "marketing"},
        headers=admin,
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "template_not_found"
    no_subject = client.put(
        f"{P}/message-templates/points.earned/email",
        json={"body": "x", "category": "marketing"},
        headers=admin,
    )
    assert no_subject.status_code == 422
    assert no_subject.json()["errors"][0]["path"] == "subject"
    sms_subject = client.put(
        f"{P}/message-templates/points.earned/sms",
        json={"subject": "x", "body": "x", "category": "marketing"},
        headers=admin,
    )
    assert sms_subject.status_code == 422
    too_long = client.put(
        f"{P}/message-templates/points.earned/sms",
        json={"body": "x" * 1601, "category": "marketing"},
        headers=admin,
    )
    assert too_long.status_code == 422
    read_key = client.put(
        f"{P}/message-templates/points.earned/sms",
        json={"body": "x", "category": "marketing"},
        headers=auth(shop["read"]),
    )
    assert read_key.status_code == 403


def test_preview_with_sample_data_a_member_and_a_draft(
    client: TestClient, shop: dict[str, str]
) -> None:
    sample = client.post(
        f"{P}/message-templates/member.enrolled/email/preview", headers=auth(shop["read"])
    )
    assert sample.status_code == 200, sample.text
    assert "Hello Ada" in sample.json()["body"]
    assert sample.json()["html"].startswith("<!doctype html>")
    member = _member(client, shop["admin"], first_name="Grace", email="grace@example.com")
    real = client.post(
        f"{P}/message-templates/member.enrolled/email/preview",
        json={"member": member["id"]},
        headers=auth(shop["read"]),
    )
    assert "Hello Grace" in real.json()["body"]
    assert member["card_number"] not in real.json()["body"]  # event values stay samples
    draft = client.post(
        f"{P}/message-templates/member.enrolled/sms/preview",
        json={"body": "Hi {{ first_name }}, {{ balance }} points"},
        headers=auth(shop["read"]),
    )
    assert draft.json() == {
        "subject": None,
        "body": "Hi Ada, 1,250 points",
        "html": None,
        "category": "marketing",
    }
    broken = client.post(
        f"{P}/message-templates/member.enrolled/sms/preview",
        json={"body": "Hi {{ nobody }}"},
        headers=auth(shop["read"]),
    )
    assert broken.status_code == 422
    assert "unknown variable 'nobody'" in broken.json()["errors"][0]["message"]


# --- planning and delivery ------------------------------------------------------------------


def test_welcome_email_with_consent_goes_once_with_one_click_unsubscribe(
    client: TestClient, shop: dict[str, str], container: Container, mail: Recorder, texts: Recorder
) -> None:
    member = _member(
        client,
        shop["admin"],
        first_name="Ada",
        email="ada@example.com",
        phone="+33612345678",
        consents={"email": True},
    )
    assert run_messages(container) >= 2
    assert run_messages(container) == 0  # a rerun sends nothing more
    (email,) = mail.to("ada@example.com")
    assert isinstance(email, OutgoingEmail)
    assert email.subject == "Welcome to Shop"
    assert "Hello Ada" in email.text
    assert email.sender_name == "Shop"
    url = email.headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("http://127.0.0.1:8000/unsubscribe/")
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in email.text
    assert texts.sent == []  # no SMS consent
    log = _log(client, shop["read"], member["id"])
    assert _by(log, "member.enrolled", "email")["status"] == "sent"
    assert _by(log, "member.enrolled", "email")["to"] == "ada@example.com"
    skipped = _by(log, "member.enrolled", "sms")
    assert (skipped["status"], skipped["reason"]) == ("skipped", "no_consent")


def test_transactional_messages_need_no_consent_but_a_contact(
    client: TestClient, shop: dict[str, str], container: Container, mail: Recorder, texts: Recorder
) -> None:
    member = _member(client, shop["admin"], first_name="Ada", email="ada@example.com")
    buy(client, shop["pos"], program="shop", external_id="o-1", member=member["id"], amount="500")
    run_messages(container)
    made = client.post(f"{P}/rewards", json=COFFEE, headers=auth(shop["admin"]))
    assert made.status_code == 201, made.text
    redeemed = client.post(
        f"{P}/members/{member['id']}/redemptions",
        json={"reward": "coffee"},
        headers=auth(shop["pos"]),
    )
    assert redeemed.status_code == 201, redeemed.text
    run_messages(container)
    log = _log(client, shop["read"], member["id"])
    email = _by(log, "reward.redeemed", "email")
    assert email["status"] == "sent", email
    assert email["category"] == "transactional"
    assert _by(log, "reward.redeemed", "sms")["reason"] == "no_contact"
    earned = [m for m in log if m["event"] == "points.earned" and m["channel"] == "email"]
    assert len(earned) == 2  # the sign-up bonus and the purchase
    assert {m["reason"] for m in earned} == {"no_consent"}
    (sent,) = mail.to("ada@example.com")
    assert isinstance(sent, OutgoingEmail)
    assert "List-Unsubscribe" not in sent.headers


def test_no_transport_is_recorded_as_skipped_and_never_fails(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    member = _member(client, shop["admin"], email="ada@example.com", consents={"email": True})
    run_messages(container)
    welcome = _by(_log(client, shop["read"], member["id"]), "member.enrolled", "email")
    assert (welcome["status"], welcome["reason"]) == ("skipped", "no_transport")
    assert "Welcome" in welcome["subject"]


def test_two_workers_at_once_send_each_message_once(
    client: TestClient, shop: dict[str, str], container: Container, mail: Recorder
) -> None:
    for n in range(30):
        _member(client, shop["admin"], email=f"m{n}@example.com", consents={"email": True})
    errors: list[BaseException] = []

    def work() -> None:
        try:
            run_messages(container)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run_messages(container)
    assert errors == []
    addresses = sorted(item.to for item in mail.sent)
    assert addresses == sorted(f"m{n}@example.com" for n in range(30))


def test_erasure_freeze_and_closure_stop_messages_at_once(
    client: TestClient, shop: dict[str, str], container: Container, mail: Recorder
) -> None:
    admin = auth(shop["admin"])
    erased = _member(client, shop["admin"], email="e@example.com", consents={"email": True})
    frozen = _member(client, shop["admin"], email="f@example.com", consents={"email": True})
    closed = _member(client, shop["admin"], email="c@example.com", consents={"email": True})
    from patron.services import messages

    messages.plan(container.uow, shop["id"], container.clock.now(), "http://x")
    assert client.post(f"{P}/members/{erased['id']}/erase", headers=admin).status_code == 200
    for member, status in ((frozen, "frozen"), (closed, "closed")):
        patched = client.patch(
            f"{P}/members/{member['id']}", json={"status": status}, headers=admin
        )
        assert patched.status_code == 200, patched.text
    run_messages(container)
    assert mail.sent == []
    log = _log(client, shop["read"], erased["id"])
    welcome = _by(log, "member.enrolled", "email")
    assert (welcome["status"], welcome["reason"]) == ("skipped", "member_erased")
    assert welcome["to"] is None
    assert welcome["body"] is None
    assert welcome["subject"] is None
    reason = _by(_log(client, shop["read"], frozen["id"]), "member.enrolled", "email")["reason"]
    assert reason == "member_frozen"
    reason = _by(_log(client, shop["read"], closed["id"]), "member.enrolled", "email")["reason"]
    assert reason == "member_closed"


def test_frequency_cap_skips_marketing_but_not_expiry_reminders_or_transactional(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    mail: Recorder,
    clock: MutableClock,
) -> None:
    member = _member(client, shop["admin"], email="ada@example.com", consents={"email": True})
    run_messages(container)  # the welcome email: the day's one marketing email
    buy(client, shop["pos"], program="shop", external_id="o-1", member=member["id"], amount="50")
    run_messages(container)
    log = _log(client, shop["read"], member["id"])
    earned = [m for m in log if m["event"] == "points.earned" and m["channel"] == "email"]
    assert len(earned) == 2  # the sign-up bonus and the purchase
    assert {(m["status"], m["reason"]) for m in earned} == {("skipped", "frequency_cap")}
    clock.advance(days=1, seconds=1)
    buy(client, shop["pos"], program="shop", external_id="o-2", member=member["id"], amount="50")
    run_messages(container)
    sent = [m for m in _log(client, shop["read"], member["id"]) if m["status"] == "sent"]
    assert [m["event"] for m in sent] == ["points.earned", "member.enrolled"]


def test_caps_are_configurable_and_can_be_turned_off(
    client: TestClient, shop: dict[str, str], container: Container, mail: Recorder
) -> None:
    change_config(
        client,
        shop["admin"],
        program="shop",
        messages={"frequency_caps": {"email": None}},
    )
    member = _member(client, shop["admin"], email="ada@example.com", consents={"email": True})
    buy(client, shop["pos"], program="shop", external_id="o-1", member=member["id"], amount="50")
    run_messages(container)
    assert len(mail.to("ada@example.com")) == 3  # welcome, sign-up bonus, purchase


def test_sms_quiet_hours_hold_then_release(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    texts: Recorder,
    clock: MutableClock,
) -> None:
    # The example program is in Europe/Paris: 21:30 UTC in March is 22:30 there.
    clock.at = clock.at.replace(hour=21, minute=30)
    member = _member(client, shop["admin"], phone="+33612345678", consents={"sms": True})
    run_messages(container)
    assert texts.sent == []
    held = _by(_log(client, shop["read"], member["id"]), "member.enrolled", "sms")
    assert (held["status"], held["reason"]) == ("queued", "quiet_hours")
    assert held["next_attempt_at"] == "2026-03-08T08:00:00Z"  # 09:00 in Paris
    assert held["attempts"] == 0
    clock.at = clock.at.replace(day=8, hour=7, minute=59)
    run_messages(container)
    assert texts.sent == []
    clock.advance(minutes=1)
    run_messages(container)
    (sms,) = texts.sent
    assert isinstance(sms, OutgoingSms)
    assert sms.to == "+33612345678"
    assert "/unsubscribe/" in sms.text


def test_transient_failures_retry_with_backoff_then_fail(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    mail: Recorder,
    clock: MutableClock,
) -> None:
    mail.script = [Delivery("retry", "451 try later")] * 6
    member = _member(client, shop["admin"], email="ada@example.com", consents={"email": True})
    run_messages(container)
    welcome = _by(_log(client, shop["read"], member["id"]), "member.enrolled", "email")
    assert (welcome["status"], welcome["reason"], welcome["detail"]) == (
        "queued",
        "retrying",
        "451 try later",
    )
    for wait in (1, 5, 30, 120, 480):
        clock.advance(minutes=wait)
        run_messages(container)
    welcome = _by(_log(client, shop["read"], member["id"]), "member.enrolled", "email")
    assert (welcome["status"], welcome["reason"], welcome["attempts"]) == ("failed", "gave_up", 6)
    assert mail.sent == []


def test_a_permanent_failure_is_recorded(
    client: TestClient, shop: dict[str, str], container: Container, mail: Recorder
) -> None:
    mail.script = [Delivery("failed", "550 no such user")]
    member = _member(client, shop["admin"], email="ada@example.com", consents={"email": True})
    run_messages(container)
    welcome = _by(_log(client, shop["read"], member["id"]), "member.enrolled", "email")
    assert (welcome["status"], welcome["reason"], welcome["detail"]) == (
        "failed",
        "rejected",
        "550 no such user",
    )


def test_resend_queues_a_copy_that_goes_through_the_checks(
    client: TestClient, shop: dict[str, str], container: Container, mail: Recorder
) -> None:
    member = _member(client, shop["admin"], email="ada@example.com", consents={"email": True})
    run_messages(container)
    welcome = _by(_log(client, shop["read"], member["id"]), "member.enrolled", "email")
    url = f"{P}/members/{member['id']}/messages/{welcome['id']}/resend"
    headers = {**auth(shop["admin"]), "Idempotency-Key": "resend-1"}
    first = client.post(url, headers=headers)
    again = client.post(url, headers=headers)
    assert first.status_code == 201, first.text
    assert again.json() == first.json()
    assert first.json()["resend_of"] == welcome["id"]
    change_config(
        client, shop["admin"], program="shop", messages={"frequency_caps": {"email": None}}
    )
    run_messages(container)
    assert len(mail.to("ada@example.com")) == 2
    assert client.post(url, headers=auth(shop["read"])).status_code == 403
    missing = client.post(
        f"{P}/members/{member['id']}/messages/nope/resend", headers=auth(shop["admin"])
    )
    assert missing.status_code == 404


def test_stale_facts_send_nothing(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    mail: Recorder,
    clock: MutableClock,
) -> None:
    member = _member(client, shop["admin"], email="ada@example.com", consents={"email": True})
    clock.advance(days=4)
    run_messages(container)
    assert mail.sent == []
    assert _log(client, shop["read"], member["id"]) == []


def test_send_test_needs_a_transport_and_leaves_the_log_alone(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    url = f"{P}/message-templates/member.enrolled/email/test"
    refused = client.post(url, json={"to": "me@example.com"}, headers=auth(shop["admin"]))
    assert refused.status_code == 409
    assert refused.json()["code"] == "no_transport"
    container.mailer = recorder = Recorder()
    sent = client.post(url, json={"to": "me@example.com"}, headers=auth(shop["admin"]))
    assert sent.status_code == 200, sent.text
    assert sent.json() == {"status": "sent", "detail": "250 OK"}
    (email,) = recorder.sent
    assert isinstance(email, OutgoingEmail)
    assert email.subject == "[Test] Welcome to Shop"


# --- one-click unsubscribe ------------------------------------------------------------------


def test_one_click_unsubscribe_post_withdraws_consent_get_does_not(
    client: TestClient, shop: dict[str, str], container: Container, mail: Recorder
) -> None:
    member = _member(client, shop["admin"], email="ada@example.com", consents={"email": True})
    run_messages(container)
    (email,) = mail.sent
    assert isinstance(email, OutgoingEmail)
    path = urlsplit(email.headers["List-Unsubscribe"].strip("<>")).path
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Unsubscribe" in page.text
    assert 'method="post"' in page.text
    profile = client.get(f"{P}/members/{member['id']}", headers=auth(shop["admin"])).json()
    assert profile["consents"]["email"] is True
    done = client.post(
        path,
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200
    assert "no longer receive" in done.text
    profile = client.get(f"{P}/members/{member['id']}", headers=auth(shop["admin"])).json()
    assert profile["consents"]["email"] is False
    export = client.get(f"{P}/members/{member['id']}/export", headers=auth(shop["admin"])).json()
    sources = [c["source"] for c in export["consents"] if c["channel"] == "email"]
    assert sources[-1] == "unsubscribe_link"
    again = client.post(path, content="List-Unsubscribe=One-Click")
    assert again.status_code == 200
    export = client.get(f"{P}/members/{member['id']}/export", headers=auth(shop["admin"])).json()
    assert [c["source"] for c in export["consents"]].count("unsubscribe_link") == 1
    # the next marketing email is not sent: consent is checked at send time
    buy(client, shop["pos"], program="shop", external_id="o-1", member=member["id"], amount="50")
    container.clock.advance(days=2)  # type: ignore[attr-defined]
    run_messages(container)
    assert len(mail.sent) == 1


def test_a_forged_or_altered_unsubscribe_link_is_refused(
    client: TestClient, shop: dict[str, str], container: Container, mail: Recorder
) -> None:
    member = _member(client, shop["admin"], email="ada@example.com", consents={"email": True})
    run_messages(container)
    (email,) = mail.sent
    assert isinstance(email, OutgoingEmail)
    path = urlsplit(email.headers["List-Unsubscribe"].strip("<>")).path
    token = path.rsplit("/", 1)[1]
    payload, mac = token.split(".")
    altered = f"{payload}.{'A' * len(mac)}"
    for bad in (altered, "nonsense", "a.b"):
        assert client.post(f"/unsubscribe/{bad}").status_code == 404
        page = client.get(f"/unsubscribe/{bad}", headers={"Accept": "text/html"})
        assert page.status_code == 404
        assert "not valid" in page.text
    profile = client.get(f"{P}/members/{member['id']}", headers=auth(shop["admin"])).json()
    assert profile["consents"]["email"] is True


def test_message_log_pages_and_isolation(
    client: TestClient, shop: dict[str, str], container: Container, mail: Recorder
) -> None:
    member = _member(client, shop["admin"], email="ada@example.com", phone="+33612345678")
    run_messages(container)
    first = client.get(
        f"{P}/members/{member['id']}/messages?limit=1", headers=auth(shop["read"])
    ).json()
    assert len(first["items"]) == 1
    assert first["next_cursor"]
    rest = client.get(
        f"{P}/members/{member['id']}/messages?limit=1&cursor={first['next_cursor']}",
        headers=auth(shop["read"]),
    ).json()
    assert len(rest["items"]) == 1
    assert rest["items"][0]["id"] != first["items"][0]["id"]
    assert client.get(f"{P}/members/nobody/messages", headers=auth(shop["read"])).status_code == 404
    assert (
        client.get(f"{P}/members/{member['id']}/messages", headers=auth(shop["pos"])).status_code
        == 403
    )


def test_expiry_reminders_render_their_date_and_are_exempt_from_the_cap(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    mail: Recorder,
    clock: MutableClock,
) -> None:
    member = _member(
        client, shop["admin"], first_name="Ada", email="ada@example.com", consents={"email": True}
    )
    buy(client, shop["pos"], program="shop", external_id="o-1", member=member["id"], amount="80")
    run_messages(container)
    # The example's points expire 12 months after earning, at the end of the month (at midnight
    # starting 2027-04-01 in Paris), with reminders 30 and 7 days before: on 2027-03-02 the
    # 30-day reminder is due.
    clock.at = clock.at.replace(year=2027, month=3, day=2, hour=9)
    buy(client, shop["pos"], program="shop", external_id="o-2", member=member["id"], amount="10")
    run_messages(container)  # the day's one marketing email: points earned by o-2
    jobs.run_due(container.uow, clock.now(), program="shop", outlets=container.outlets())
    log = _log(client, shop["read"], member["id"])
    reminder = _by(log, "points.expiring", "email")
    assert reminder["status"] == "sent", reminder
    assert reminder["subject"].endswith("expire on Apr 1, 2027")
    assert "Hello Ada" in reminder["body"]
    earned_today = [m for m in log if m["event"] == "points.earned" and m["status"] == "sent"]
    assert len(earned_today) == 1


def test_a_direct_message_needs_no_fact_and_goes_once(
    client: TestClient, shop: dict[str, str], container: Container, mail: Recorder
) -> None:
    from patron.services import messages
    from patron.services.members import get_member
    from patron.services.programs import get_program
    from patron.services.transactions import run_in_transaction

    made = _member(client, shop["admin"], first_name="Ada", email="ada@example.com")
    run_messages(container)  # the welcome: no consent, skipped

    def queue(uow: Any) -> list[Any]:
        program = get_program(uow, "shop")
        member = get_member(uow, program, made["id"])
        payload = {"link": "https://example.com/portal/shop/sign-in/abc", "valid_minutes": 15}
        now = container.clock.now()
        return messages.queue_direct(
            uow, program, member, "portal.sign_in", "link-1", payload, now, "https://example.com"
        )

    for _ in range(2):  # the same subject twice: one message
        run_in_transaction(container.uow.scoped(shop["id"]), queue)
    run_messages(container)
    (email,) = mail.to("ada@example.com")
    assert isinstance(email, OutgoingEmail)
    assert "https://example.com/portal/shop/sign-in/abc" in email.text
    assert "15 minutes" in email.text
    assert "List-Unsubscribe" not in email.headers  # transactional
