"""Messages against a real SMTP server (aiosmtpd on loopback) and real worker processes: the
welcome email with valid one-click unsubscribe headers, two workers and a rerun sending each
message once, a worker SIGKILLed between the server's acceptance and the record sending that
one message twice and no other, an erased member getting nothing, a refused recipient."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from patron.adapters.messaging.smtp import SmtpTransport
from patron.bootstrap import Container
from patron.services import messages
from tests import message_crash
from tests.api.message_support import run_messages
from tests.factories import MutableClock, auth, enrol
from tests.smtp_sink import Sink, serve

PATRON = [sys.executable, "-c", "from patron.cli.main import main; main()"]
ROOT = Path(__file__).resolve().parents[2]
P = "/v1/programs/shop"


@pytest.fixture
def sink() -> Iterator[Sink]:
    yield from serve()


@pytest.fixture
def smtp(container: Container, sink: Sink) -> Container:
    container.mailer = SmtpTransport(sink.url, "Shop <club@example.com>")
    return container


def _env(db_url: str, sink: Sink) -> dict[str, str]:
    return {
        **os.environ,
        "PATRON_DATABASE_URL": db_url,
        "PATRON_AUTO_UPGRADE": "false",
        "PATRON_SMTP_URL": sink.url,
        "PATRON_MAIL_FROM": "Shop <club@example.com>",
    }


def test_the_welcome_email_arrives_with_one_click_unsubscribe_that_works(
    client: TestClient, shop: dict[str, str], smtp: Container, sink: Sink
) -> None:
    member = enrol(
        client,
        shop["admin"],
        program="shop",
        first_name="Ada",
        email="ada@example.com",
        consents={"email": True},
    )
    run_messages(smtp)
    (mail,) = sink.to("ada@example.com")
    assert mail["Subject"] == "Welcome to Shop"
    assert mail["From"].addresses[0].display_name == "Shop"
    assert mail["Message-ID"].startswith("<")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = mail["List-Unsubscribe"].strip("<>")
    assert urlsplit(url).path.startswith("/unsubscribe/")
    assert mail.is_multipart()
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert text is not None
    assert "Hello Ada" in text.get_content()
    assert html is not None
    assert url in html.get_content()
    assert client.get(urlsplit(url).path).status_code == 200
    profile = client.get(f"{P}/members/{member['id']}", headers=auth(shop["admin"])).json()
    assert profile["consents"]["email"] is True
    answer = client.post(
        urlsplit(url).path,
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200
    profile = client.get(f"{P}/members/{member['id']}", headers=auth(shop["admin"])).json()
    assert profile["consents"]["email"] is False


def test_consent_is_honoured_per_category_and_channel(
    client: TestClient, shop: dict[str, str], smtp: Container, sink: Sink
) -> None:
    enrol(client, shop["admin"], program="shop", email="yes@example.com", consents={"email": True})
    enrol(client, shop["admin"], program="shop", email="no@example.com", consents={"sms": True})
    enrol(client, shop["admin"], program="shop", email="none@example.com")
    run_messages(smtp)
    assert len(sink.to("yes@example.com")) == 1
    assert sink.to("no@example.com") == []
    assert sink.to("none@example.com") == []


def test_an_erased_member_gets_nothing(
    client: TestClient, shop: dict[str, str], smtp: Container, sink: Sink
) -> None:
    member = enrol(
        client, shop["admin"], program="shop", email="gone@example.com", consents={"email": True}
    )
    messages.plan(smtp.uow, shop["id"], smtp.clock.now(), "http://x")  # queued, not yet sent
    erased = client.post(f"{P}/members/{member['id']}/erase", headers=auth(shop["admin"]))
    assert erased.status_code == 200
    run_messages(smtp)
    assert sink.messages == []


def test_a_refused_recipient_is_recorded_as_failed(
    client: TestClient, shop: dict[str, str], smtp: Container, sink: Sink
) -> None:
    sink.refuse["bounce@example.com"] = "550 5.1.1 No such user"
    member = enrol(
        client, shop["admin"], program="shop", email="bounce@example.com", consents={"email": True}
    )
    run_messages(smtp)
    log = client.get(f"{P}/members/{member['id']}/messages", headers=auth(shop["read"])).json()
    welcome = next(
        m for m in log["items"] if m["channel"] == "email" and m["event"] == "member.enrolled"
    )
    assert (welcome["status"], welcome["reason"]) == ("failed", "rejected")
    assert "550" in welcome["detail"]


def test_two_worker_processes_and_a_rerun_send_each_message_once(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    sink: Sink,
    db_url: str,
    clock: MutableClock,
) -> None:
    addresses = [f"m{n}@example.com" for n in range(20)]
    for address in addresses:
        enrol(client, shop["admin"], program="shop", email=address, consents={"email": True})
    now = clock.now().isoformat()
    command = [*PATRON, "jobs", "run", "--program", "shop", "--now", now]
    env = _env(db_url, sink)
    workers = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL) for _ in range(2)]
    for worker in workers:
        assert worker.wait(120) == 0
    assert subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=False).returncode == 0
    assert sorted(m["To"] for m in sink.messages) == sorted(addresses)


def test_a_worker_killed_after_acceptance_sends_that_one_message_twice(
    client: TestClient,
    shop: dict[str, str],
    smtp: Container,
    sink: Sink,
    db_url: str,
    clock: MutableClock,
) -> None:
    addresses = [f"k{n}@example.com" for n in range(5)]
    for address in addresses:
        enrol(client, shop["admin"], program="shop", email=address, consents={"email": True})
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.message_crash", "2", clock.now().isoformat()],
        env=_env(db_url, sink),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().decode().strip() == message_crash.MARK
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(10)
    accepted = [m["To"] for m in sink.messages]
    assert len(accepted) == 2
    assert run_messages(smtp) == 0  # the dead worker's lease still holds
    clock.advance(seconds=messages.LEASE.total_seconds() + 1)
    run_messages(smtp)
    received = [m["To"] for m in sink.messages]
    twice = [a for a in addresses if received.count(a) == 2]
    assert twice == [accepted[1]]  # the one accepted before the record: sent again
    assert sorted(set(received)) == sorted(addresses)
    assert len(received) == len(addresses) + 1
