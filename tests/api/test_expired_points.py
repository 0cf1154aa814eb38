"""Expired points cannot be spent, through the API, before the expiry job has run: the Member's
balances, the catalogue's eligibility and every debit treat a lot past its date as gone, as
vouchers are refused the moment they expire. The job then finds nothing left to do."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.services import jobs
from tests.conftest import table_counts
from tests.factories import MutableClock, auth, create_program, enrol, program_key
from tests.ledger_support import audit

MONTHLY = {"wallets": {"points": {"expiry": {"mode": "after_earn", "months": 1}}}}
LAPSE = "/v1/programs/lapse"


def test_points_past_their_date_are_gone_before_the_job_runs(
    client: TestClient, container: Container, platform: str, clock: MutableClock
) -> None:
    create_program(client, platform, slug="lapse", config=MONTHLY)
    admin = program_key(client, platform, program="lapse")
    headers = auth(admin)
    ada = enrol(client, admin, program="lapse")["id"]
    grace = enrol(client, admin, program="lapse")["id"]

    def post(path: str, body: dict[str, Any]) -> Any:
        return client.post(f"{LAPSE}{path}", json=body, headers=headers)

    def points() -> dict[str, Any]:
        found = client.get(f"{LAPSE}/members/{ada}", headers=headers).json()
        return dict(found["balances"]["points"])

    for days, amount in ((0, 100), (20, 30)):
        clock.advance(days=days)
        body = {"wallet": "points", "amount": amount, "reason": "r"}
        assert post(f"/members/{ada}/adjustments", body).status_code == 201
    reward = {"code": "tote", "name": "Tote", "cost": {"wallet": "points", "amount": 50}}
    assert post("/rewards", {**reward, "kind": "perk"}).status_code == 201
    shown = points()
    assert shown["available"] == 130
    first, second = (e["expires_at"] for e in shown["expiring"])
    assert [e["amount"] for e in shown["expiring"]] == [100, 30]

    clock.advance(days=11)  # 31 days after the first lot: past its date; no job has run
    assert points()["available"] == 30
    assert points()["expiring"] == [{"amount": 30, "expires_at": second}]
    offers = client.get(f"{LAPSE}/rewards?member={ada}", headers=headers).json()["items"]
    assert (offers[0]["eligible"], offers[0]["reason"]) == (False, "insufficient_balance")
    before = table_counts(container)
    for path, body in (
        (f"/members/{ada}/redemptions", {"wallet": "points", "amount": 31}),
        (f"/members/{ada}/redemptions", {"reward": "tote"}),
        (f"/members/{ada}/transfers", {"to": grace, "wallet": "points", "amount": 31}),
        (f"/members/{ada}/adjustments", {"wallet": "points", "amount": -31, "reason": "r"}),
    ):
        refused = post(path, body)
        assert refused.status_code == 422, (path, refused.text)
        assert refused.json()["code"] == "insufficient_balance", path
        assert refused.json()["available"] == 30, path
    assert table_counts(container) == before

    spent = post(f"/members/{ada}/redemptions", {"wallet": "points", "amount": 30})
    assert spent.status_code == 201, spent.text
    assert spent.json()["balances"]["points"]["available"] == 0
    activity = client.get(f"{LAPSE}/members/{ada}/activity", headers=headers).json()["items"]
    assert [(e["type"], e["amount"]) for e in activity[:2]] == [("redeem", -30), ("expire", -100)]
    assert activity[1]["occurred_at"].replace("+00:00", "Z") == first.replace("+00:00", "Z")
    assert jobs.run_due(container.uow, clock.now()).done.get("lapse", {}).get("expire", 0) == 0
    assert points()["available"] == 0
    assert audit(container) == []
