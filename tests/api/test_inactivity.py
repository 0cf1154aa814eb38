"""Inactivity expiry (``expiry.mode: inactivity``): the Member shows what expires at the
deadline, reminders announce it, activity moves both, and the points are gone at the deadline
whether or not the expiry job has run (docs/ledger.md, "Expiry")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.services import jobs
from tests.factories import MutableClock, auth, create_program, enrol, program_key
from tests.ledger_support import audit

IDLE = "/v1/programs/idle"


def idle_program(client: TestClient, platform: str, months: int) -> str:
    config = {
        "wallets": {
            "points": {"expiry": {"mode": "inactivity", "months": months}, "reminder_days": [7]}
        }
    }
    create_program(client, platform, slug="idle", config=config)  # Europe/Paris
    return program_key(client, platform, program="idle")


def adjust(client: TestClient, key: str, member: str, amount: int) -> Any:
    body = {"wallet": "points", "amount": amount, "reason": "r"}
    return client.post(f"{IDLE}/members/{member}/adjustments", json=body, headers=auth(key))


def points(client: TestClient, key: str, member: str) -> dict[str, Any]:
    found = client.get(f"{IDLE}/members/{member}", headers=auth(key)).json()
    wallet = dict(found["balances"]["points"])
    wallet["expiring"] = [(e["amount"], moment(e["expires_at"])) for e in wallet["expiring"]]
    return wallet


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def reminders(container: Container) -> list[dict[str, Any]]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.outbox.c.payload)
            .where(t.outbox.c.type == "points.expiring")
            .order_by(t.outbox.c.id)
        )
        return [dict(row.payload) for row in rows]


def run_jobs(container: Container, clock: MutableClock, at: datetime) -> dict[str, int]:
    clock.at = at
    return jobs.run_due(container.uow, at).done.get("idle", {})


def test_an_idle_wallet_shows_and_reminds_what_expires_at_its_deadline(
    client: TestClient, container: Container, platform: str, clock: MutableClock
) -> None:
    admin = idle_program(client, platform, months=6)
    ada = enrol(client, admin, program="idle")["id"]
    assert adjust(client, admin, ada, 40).status_code == 201  # 7 March 2026, 11:00 Paris
    first_deadline = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)  # 7 September, 11:00 Paris
    assert points(client, admin, ada)["expiring"] == [(40, first_deadline)]

    assert run_jobs(container, clock, datetime(2026, 8, 31, 12, tzinfo=UTC))["reminders"] == 1
    assert run_jobs(container, clock, datetime(2026, 8, 31, 18, tzinfo=UTC))["reminders"] == 0
    assert reminders(container) == [
        {
            "member_id": ada,
            "wallet": "points",
            "amount": 40,
            "expires_on": "2026-09-07",
            "days_before": 7,
        }
    ]

    clock.at = datetime(2026, 9, 5, 10, tzinfo=UTC)  # activity two days before the deadline
    assert adjust(client, admin, ada, 10).status_code == 201
    second_deadline = datetime(2027, 3, 5, 11, tzinfo=UTC)  # 5 March 2027, 12:00 Paris
    assert points(client, admin, ada)["expiring"] == [(50, second_deadline)]
    assert run_jobs(container, clock, datetime(2026, 9, 8, 12, tzinfo=UTC)).get("expire", 0) == 0
    assert points(client, admin, ada)["available"] == 50

    # The reminder of the old deadline does not stand in for the new one, nor repeat.
    assert run_jobs(container, clock, datetime(2027, 2, 26, 12, tzinfo=UTC))["reminders"] == 1
    assert run_jobs(container, clock, datetime(2027, 2, 26, 13, tzinfo=UTC))["reminders"] == 0
    assert [(r["amount"], r["expires_on"]) for r in reminders(container)] == [
        (40, "2026-09-07"),
        (50, "2027-03-05"),
    ]

    clock.at = second_deadline  # no job has run: the points are gone at the deadline
    assert points(client, admin, ada) == {
        "available": 0,
        "pending": 0,
        "lifetime_earned": 0,  # adjustments are not earnings
        "expiring": [],
    }
    spent = client.post(
        f"{IDLE}/members/{ada}/redemptions",
        json={"wallet": "points", "amount": 1},
        headers=auth(admin),
    )
    assert (spent.status_code, spent.json()["code"]) == (422, "insufficient_balance")
    assert run_jobs(container, clock, second_deadline)["expire"] == 1
    expired = client.get(f"{IDLE}/members/{ada}/activity", headers=auth(admin)).json()["items"][0]
    assert (expired["type"], expired["amount"], expired["reason"]) == ("expire", -50, "inactivity")
    assert moment(expired["occurred_at"]) == second_deadline
    assert points(client, admin, ada)["available"] == 0
    assert audit(container) == []


def test_activity_after_the_deadline_does_not_revive_expired_points(
    client: TestClient, container: Container, platform: str, clock: MutableClock
) -> None:
    admin = idle_program(client, platform, months=6)
    ada = enrol(client, admin, program="idle")["id"]
    assert adjust(client, admin, ada, 40).status_code == 201
    clock.at = datetime(2026, 9, 8, 12, tzinfo=UTC)  # a day past the deadline; no job has run
    assert points(client, admin, ada)["available"] == 0
    assert adjust(client, admin, ada, 10).status_code == 201
    assert points(client, admin, ada)["available"] == 10
    items = client.get(f"{IDLE}/members/{ada}/activity", headers=auth(admin)).json()["items"]
    assert [(e["type"], e["amount"]) for e in items] == [
        ("adjust", 10),
        ("expire", -40),
        ("adjust", 40),
    ]
    assert moment(items[1]["occurred_at"]) == datetime(2026, 9, 7, 9, tzinfo=UTC)
    assert run_jobs(container, clock, clock.now()).get("expire", 0) == 0
    assert points(client, admin, ada)["available"] == 10
    assert audit(container) == []


def test_the_deadline_keeps_the_clock_time_when_the_day_is_clamped(
    client: TestClient, container: Container, platform: str, clock: MutableClock
) -> None:
    """Last active 31 January at 10:00 Paris, one month: the deadline is 28 February at 10:00
    (the day clamped, the time kept), for the Member, the reminder and the job alike."""
    admin = idle_program(client, platform, months=1)
    ada = enrol(client, admin, program="idle")["id"]
    clock.at = datetime(2026, 1, 31, 9, tzinfo=UTC)
    assert adjust(client, admin, ada, 40).status_code == 201
    deadline = datetime(2026, 2, 28, 9, tzinfo=UTC)
    assert points(client, admin, ada)["expiring"] == [(40, deadline)]
    assert run_jobs(container, clock, datetime(2026, 2, 21, 7, tzinfo=UTC))["reminders"] == 1
    assert reminders(container)[0]["expires_on"] == "2026-02-28"
    assert (
        run_jobs(container, clock, datetime(2026, 2, 28, 8, 59, tzinfo=UTC)).get("expire", 0) == 0
    )
    assert points(client, admin, ada)["available"] == 40
    assert run_jobs(container, clock, deadline)["expire"] == 1
    assert points(client, admin, ada)["available"] == 0
    assert audit(container) == []
