"""Webhooks: endpoints, Standard Webhooks signatures verified by a real local receiver, retries
with backoff, rotation, the delivery log, target refusal, work sharing between workers, and
workers SIGKILLed at each crash point (mid-delivery, inside a fan-out transaction, after a
successful POST before its result is recorded): no fact is lost, none is fanned out twice, and
a redelivery carries the same webhook-id."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from patron.adapters.db import tables as t
from patron.adapters.webhooks import HttpWebhookSender
from patron.bootstrap import Container
from patron.cli.worker import JobLoop
from patron.domain import webhooks as rules
from patron.domain.timestamps import rfc3339
from patron.services import jobs, outbox, webhooks
from tests import webhook_crash as crash
from tests.factories import MutableClock, auth, enrol
from tests.ledger_support import audit
from tests.webhook_receiver import HANG, Receiver, serve

PATRON = [sys.executable, "-c", "from patron.cli.main import main; main()"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve()


@pytest.fixture
def local(container: Container) -> Container:
    """The container, allowed to send to loopback receivers (a development setting)."""
    container.webhooks = HttpWebhookSender(allow_private=True, timeout=5)
    return container


def subscribe(
    client: TestClient, shop: dict[str, str], receiver: Receiver, events: list[str]
) -> dict[str, Any]:
    answer = client.post(
        "/v1/programs/shop/webhooks",
        json={"url": receiver.url, "events": events},
        headers=auth(shop["admin"]),
    )
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    receiver.secrets = [made["secret"]]
    return made


def deliver(container: Container) -> int:
    return jobs.run_webhooks(container.uow, container.webhooks, container.clock.now())


def log(client: TestClient, shop: dict[str, str], endpoint: str, **query: str) -> list[Any]:
    answer = client.get(
        f"/v1/programs/shop/webhooks/{endpoint}/deliveries",
        params=query,
        headers=auth(shop["admin"]),
    )
    assert answer.status_code == 200, answer.text
    items: list[Any] = answer.json()["items"]
    return items


def test_facts_arrive_signed_with_the_fact_id(
    client: TestClient, shop: dict[str, str], local: Container, receiver: Receiver
) -> None:
    endpoint = subscribe(client, shop, receiver, ["member.enrolled", "points.earned"])
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["events"] == ["member.enrolled", "points.earned"]
    member = enrol(client, shop["pos"], program="shop", email="ada@example.com")
    client.patch(
        f"/v1/programs/shop/members/{member['id']}",
        json={"first_name": "Ada"},
        headers=auth(shop["pos"]),
    )  # member.updated: not subscribed

    assert deliver(local) == 2
    assert sorted(r.json["type"] for r in receiver.received) == ["member.enrolled", "points.earned"]
    for got in receiver.received:
        assert got.verified_by == [endpoint["secret"]]
        assert got.json["data"]["member_id"] == member["id"]
        assert got.headers["content-type"] == "application/json"
    earned = next(r for r in receiver.received if r.json["type"] == "points.earned")
    assert earned.json["data"]["amount"] == 50

    entries = log(client, shop, endpoint["id"])
    assert {e["event_id"] for e in entries} == set(receiver.ids())
    assert all(e["status"] == "delivered" and e["response_code"] == 200 for e in entries)
    assert all(e["attempts"] == 1 and len(e["log"]) == 1 for e in entries)
    assert deliver(local) == 0  # nothing twice
    assert len(receiver.received) == 2
    assert audit(local) == []


def test_a_failed_delivery_is_retried_with_backoff_and_the_same_id(
    client: TestClient,
    shop: dict[str, str],
    local: Container,
    receiver: Receiver,
    clock: MutableClock,
) -> None:
    endpoint = subscribe(client, shop, receiver, ["member.enrolled"])
    receiver.plan = [500, 503]
    enrol(client, shop["pos"], program="shop", email="bo@example.com")

    assert deliver(local) == 1
    [entry] = log(client, shop, endpoint["id"])
    assert (entry["status"], entry["attempts"], entry["response_code"]) == ("pending", 1, 500)
    assert entry["next_attempt_at"] == rfc3339(clock.now() + rules.RETRY_DELAYS[0])
    assert deliver(local) == 0  # not due yet: the same `now` sends nothing again

    clock.advance(seconds=5)
    assert deliver(local) == 1
    clock.advance(minutes=5)
    assert deliver(local) == 1

    assert len(set(receiver.ids())) == 1  # three attempts, one webhook-id
    assert len(receiver.received) == 3
    assert all(r.verified_by for r in receiver.received)
    assert receiver.received[0].body == receiver.received[2].body
    [entry] = log(client, shop, endpoint["id"])
    assert entry["status"] == "delivered"
    assert [a["response_code"] for a in entry["log"]] == [500, 503, 200]


def test_a_delivery_is_given_up_after_the_last_retry_and_can_be_retried_by_hand(
    client: TestClient,
    shop: dict[str, str],
    local: Container,
    receiver: Receiver,
    clock: MutableClock,
) -> None:
    endpoint = subscribe(client, shop, receiver, ["member.enrolled"])
    receiver.plan = [500] * rules.MAX_ATTEMPTS
    enrol(client, shop["pos"], program="shop", email="cy@example.com")
    start = clock.now()
    for delay in (timedelta(0), *rules.RETRY_DELAYS):
        clock.at = clock.at + delay
        assert deliver(local) == 1
    assert clock.now() - start > timedelta(days=3)  # "over days"
    [entry] = log(client, shop, endpoint["id"], status="failed")
    assert entry["attempts"] == rules.MAX_ATTEMPTS
    assert entry["next_attempt_at"] is None
    clock.advance(days=30)
    assert deliver(local) == 0

    retried = client.post(
        f"/v1/programs/shop/webhooks/{endpoint['id']}/deliveries/{entry['id']}/retry",
        headers=auth(shop["admin"]),
    )
    assert retried.status_code == 202
    assert deliver(local) == 1
    [entry] = log(client, shop, endpoint["id"])
    assert entry["status"] == "delivered"
    assert len(entry["log"]) == rules.MAX_ATTEMPTS + 1
    assert len(set(receiver.ids())) == 1


def test_gone_disables_the_endpoint(
    client: TestClient, shop: dict[str, str], local: Container, receiver: Receiver
) -> None:
    endpoint = subscribe(client, shop, receiver, ["member.enrolled"])
    receiver.plan = [410]
    enrol(client, shop["pos"], program="shop", email="di@example.com")
    deliver(local)
    got = client.get(f"/v1/programs/shop/webhooks/{endpoint['id']}", headers=auth(shop["admin"]))
    assert got.json()["status"] == "disabled"
    assert "secret" not in got.json()
    assert [e["status"] for e in log(client, shop, endpoint["id"])] == ["failed"]

    enrol(client, shop["pos"], program="shop", email="eve@example.com")
    assert deliver(local) == 0  # a disabled endpoint is not subscribed to anything
    client.patch(
        f"/v1/programs/shop/webhooks/{endpoint['id']}",
        json={"status": "active"},
        headers=auth(shop["admin"]),
    )
    enrol(client, shop["pos"], program="shop", external_id="fay")
    assert deliver(local) == 1
    assert receiver.received[-1].json["data"]["external_id"] == "fay"


def test_a_rotated_secret_signs_beside_the_previous_one_until_the_overlap_ends(
    client: TestClient,
    shop: dict[str, str],
    local: Container,
    receiver: Receiver,
    clock: MutableClock,
) -> None:
    endpoint = subscribe(client, shop, receiver, ["member.enrolled"])
    old = endpoint["secret"]
    rotated = client.post(
        f"/v1/programs/shop/webhooks/{endpoint['id']}/rotate-secret",
        json={"overlap_hours": 2},
        headers=auth(shop["admin"]),
    )
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new != old
    assert new.startswith("whsec_")
    receiver.secrets = [old, new]

    enrol(client, shop["pos"], program="shop", email="ed@example.com")
    deliver(local)
    assert receiver.received[-1].verified_by == [old, new]
    assert len(receiver.received[-1].headers["webhook-signature"].split(" ")) == 2

    clock.advance(hours=3)
    enrol(client, shop["pos"], program="shop", email="fi@example.com")
    deliver(local)
    assert receiver.received[-1].verified_by == [new]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:9/hook", "loopback"),
        ("http://localhost:9/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::1]/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("ftp://example.com/hook", "http or https"),
        ("https://user:pw@example.com/hook", "credentials"),
        ("not a url", "http or https"),
    ],
)
def test_private_and_malformed_targets_are_refused(
    client: TestClient, shop: dict[str, str], container: Container, url: str, reason: str
) -> None:
    answer = client.post(
        "/v1/programs/shop/webhooks",
        json={"url": url, "events": ["*"]},
        headers=auth(shop["admin"]),
    )
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["path"] == "url"
    assert reason in error["message"]
    listed = client.get("/v1/programs/shop/webhooks", headers=auth(shop["admin"]))
    assert listed.json()["items"] == []


def test_the_guard_also_holds_at_delivery_time(receiver: Receiver) -> None:
    """An endpoint whose name later resolves to a private address (DNS rebinding) is refused
    when connecting, not only when saved."""
    sender = HttpWebhookSender(allow_private=False, timeout=2)
    result = sender.send(receiver.url, "msg", b"{}", [webhooks.new_secret()])
    assert result.status_code is None
    assert result.error is not None
    assert "loopback" in result.error
    assert receiver.received == []


def test_bad_subscriptions_and_roles_are_refused(
    client: TestClient, shop: dict[str, str], local: Container, receiver: Receiver
) -> None:
    unknown = client.post(
        "/v1/programs/shop/webhooks",
        json={"url": receiver.url, "events": ["points.stolen"]},
        headers=auth(shop["admin"]),
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["path"] == "events"
    for role in ("pos", "partner", "read"):
        answer = client.post(
            "/v1/programs/shop/webhooks",
            json={"url": receiver.url, "events": ["*"]},
            headers=auth(shop[role]),
        )
        assert answer.status_code == 403, role
    missing = client.get("/v1/programs/shop/webhooks/nope/deliveries", headers=auth(shop["admin"]))
    assert missing.status_code == 404


def test_a_fact_from_a_rolled_back_transaction_is_never_delivered(
    client: TestClient, shop: dict[str, str], local: Container, receiver: Receiver
) -> None:
    subscribe(client, shop, receiver, ["*"])

    def write(kind: str) -> None:
        with local.uow(write=True) as uow:
            outbox.record(
                uow, shop["id"], local.clock.now(), "points.adjusted", kind, {"member_id": kind}
            )
            if kind == "committed":
                uow.commit()
            # otherwise leaving the block rolls back, as a failed use case does

    write("rolled-back")
    write("committed")
    deliver(local)
    assert [r.json["data"]["member_id"] for r in receiver.received] == ["committed"]


def test_several_workers_share_deliveries_without_sending_any_twice(
    client: TestClient, shop: dict[str, str], local: Container, receiver: Receiver
) -> None:
    subscribe(client, shop, receiver, ["*"])
    for n in range(30):
        enrol(client, shop["pos"], program="shop", email=f"w{n}@example.com")
    now = local.clock.now()
    webhooks.fan_out(local.uow, shop["id"], now)
    barrier = threading.Barrier(3)

    def worker() -> None:
        barrier.wait()
        webhooks.deliver_due(local.uow, local.webhooks, shop["id"], now, batch=5)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(receiver.received) == 60  # enrolled + earned for each member
    assert len(set(receiver.ids())) == 60


def test_a_worker_killed_mid_delivery_is_followed_by_a_redelivery_with_the_same_id(
    client: TestClient,
    shop: dict[str, str],
    local: Container,
    receiver: Receiver,
    db_url: str,
    clock: MutableClock,
) -> None:
    subscribe(client, shop, receiver, ["member.enrolled"])
    enrol(client, shop["pos"], program="shop", email="kim@example.com")
    receiver.plan = [HANG]
    env = {
        **os.environ,
        "PATRON_DATABASE_URL": db_url,
        "PATRON_AUTO_UPGRADE": "false",
        "PATRON_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true",
    }
    now = clock.now().isoformat()
    worker = subprocess.Popen(
        [*PATRON, "jobs", "run", "--program", "shop", "--now", now],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        receiver.wait_for(1)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(10)
    first = receiver.received[0]

    assert deliver(local) == 0  # the dead worker's lease still holds
    clock.advance(seconds=rules.LEASE.total_seconds() + 1)
    assert deliver(local) == 1
    assert receiver.ids() == [first.id, first.id]
    assert receiver.received[1].body == first.body
    assert all(r.verified_by for r in receiver.received)
    assert audit(local) == []


def test_old_idempotency_keys_are_forgotten(
    client: TestClient, shop: dict[str, str], container: Container, clock: MutableClock
) -> None:
    headers = {**auth(shop["pos"]), "Idempotency-Key": "enrol-1"}
    body = {"email": "ida@example.com"}
    first = client.post("/v1/programs/shop/members", json=body, headers=headers)
    assert client.post("/v1/programs/shop/members", json=body, headers=headers).headers.get(
        "Idempotent-Replayed"
    )
    report = jobs.run_due(container.uow, clock.now() + timedelta(days=6))
    assert report.done[jobs.PLATFORM]["idempotency_keys"] == 0
    report = jobs.run_due(container.uow, clock.now() + jobs.IDEMPOTENCY_RETENTION * 2)
    assert report.done[jobs.PLATFORM]["idempotency_keys"] >= 1
    again = client.post("/v1/programs/shop/members", json=body, headers=headers)
    assert again.status_code == 409  # the key is gone, the email is still taken
    assert first.status_code == 201


def test_the_job_loop_delivers_between_full_runs(
    client: TestClient, shop: dict[str, str], local: Container, receiver: Receiver
) -> None:
    """`patron serve` and `patron worker`: facts go out within the short webhook interval,
    long before the next full job run."""
    subscribe(client, shop, receiver, ["member.enrolled"])

    class Watched(JobLoop):
        """Counts the full runs and the deliveries between them."""

        def __init__(self) -> None:
            super().__init__(local, interval=3600, webhook_interval=0.05)
            self.full_runs = 0
            self.first_run = threading.Event()
            self.delivered = 0

        def tick(self) -> jobs.Report | None:
            report = super().tick()
            self.full_runs += 1
            self.first_run.set()
            return report

        def deliver(self) -> int:
            sent = super().deliver()
            self.delivered += sent
            return sent

    loop = Watched()
    loop.start()
    try:
        # The fact is written after the first full run: only a delivery between full runs
        # can send it.
        assert loop.first_run.wait(10)
        enrol(client, shop["pos"], program="shop", external_id="quick")
        receiver.wait_for(1, timeout=10)
    finally:
        loop.stop()
    assert loop.full_runs == 1
    assert loop.delivered == 1
    assert receiver.received[0].json["data"]["external_id"] == "quick"


def crash_worker(db_url: str, point: str, now: datetime) -> None:
    """Run a worker tick that stops dead at ``point`` (tests/webhook_crash.py), then SIGKILL it
    there."""
    env = {
        **os.environ,
        "PATRON_DATABASE_URL": db_url,
        "PATRON_AUTO_UPGRADE": "false",
        "PATRON_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.webhook_crash", point, now.isoformat()],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert worker.stdout is not None
    try:
        ready, _, _ = select.select([worker.stdout], [], [], 60)
        assert ready, f"the worker never reached {point}"
        assert worker.stdout.readline().decode().strip() == crash.MARK
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait(10)
        worker.stdout.close()
    assert worker.returncode == -signal.SIGKILL


def published(container: Container) -> int:
    with container.engine.connect() as conn:
        found = conn.execute(
            sa.select(sa.func.count()).where(t.outbox.c.published_at.is_not(None))
        ).scalar_one()
    return int(found)


@pytest.mark.parametrize("batch", [1, 3])
def test_a_worker_killed_during_fan_out_loses_no_fact_and_doubles_none(
    client: TestClient,
    shop: dict[str, str],
    local: Container,
    receiver: Receiver,
    db_url: str,
    clock: MutableClock,
    batch: int,
) -> None:
    endpoint = subscribe(client, shop, receiver, ["member.enrolled"])
    for n in range(12):  # 24 facts (enrolled + earned), fanned out 5 at a time by the worker
        enrol(client, shop["pos"], program="shop", external_id=f"k{n}")

    crash_worker(db_url, f"fan-out:{batch}", clock.now())
    # The batches before the crash point are committed; the one it died in is not.
    assert published(local) == crash.BATCH * (batch - 1)
    assert receiver.received == []

    assert deliver(local) == 12
    with local.engine.connect() as conn:
        enrolled = set(
            conn.execute(
                sa.select(t.outbox.c.id).where(t.outbox.c.type == "member.enrolled")
            ).scalars()
        )
    assert len(enrolled) == 12
    assert sorted(receiver.ids()) == sorted(enrolled)  # every fact once, none lost
    assert published(local) == 24
    entries = log(client, shop, endpoint["id"], limit="100")
    assert len(entries) == 12
    assert all(e["status"] == "delivered" and e["attempts"] == 1 for e in entries)
    assert deliver(local) == 0


def test_a_worker_killed_after_the_post_before_recording_it_redelivers_the_same_id(
    client: TestClient,
    shop: dict[str, str],
    local: Container,
    receiver: Receiver,
    db_url: str,
    clock: MutableClock,
) -> None:
    endpoint = subscribe(client, shop, receiver, ["member.enrolled"])
    enrol(client, shop["pos"], program="shop", email="lee@example.com")

    crash_worker(db_url, "after-post", clock.now())
    [first] = receiver.received  # the receiver has it and said 200 ...
    [entry] = log(client, shop, endpoint["id"])
    assert (entry["status"], entry["log"]) == ("pending", [])  # ... but nothing recorded it

    assert deliver(local) == 0  # the dead worker's lease still holds
    clock.advance(seconds=rules.LEASE.total_seconds() + 1)
    assert deliver(local) == 1
    assert receiver.ids() == [first.id, first.id]  # at least once, with the same webhook-id
    assert receiver.received[1].body == first.body
    assert all(r.verified_by for r in receiver.received)
    [entry] = log(client, shop, endpoint["id"])
    assert entry["status"] == "delivered"
    assert [a["response_code"] for a in entry["log"]] == [200]
    assert deliver(local) == 0
    assert audit(local) == []
