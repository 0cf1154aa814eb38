"""Tier windows (``rolling_12_months``, ``lifetime``) and downgrade policies (``end_of_period``,
``never``) with worked dates (SPEC §4), the tier job run on the days that matter.

The ladder is the example's (Europe/Paris): insider 0, vib 350, rouge 1000, on spend. The tier
job writes the member's held tier and its history; ``GET .../tier`` computes it afresh, so both
are checked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.services import jobs
from patron.services.demo import EXAMPLE_CONFIG
from tests.factories import MutableClock, auth, buy, change_config, enrol, tier
from tests.ledger_support import audit

REACHED = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Paris


def with_tiers(client: TestClient, shop: dict[str, str], **policy: str) -> None:
    change_config(
        client, shop["admin"], program="shop", tiers={**EXAMPLE_CONFIG["tiers"], **policy}
    )


def run_jobs(container: Container, clock: MutableClock, at: datetime) -> int:
    """Every job due at ``at``, as the worker runs them; the number of tiers re-evaluated."""
    clock.at = at
    return jobs.run_due(container.uow, at).done["shop"]["tiers"]


def spend(
    client: TestClient,
    shop: dict[str, str],
    member: str,
    external_id: str,
    amount: str,
    at: datetime,
) -> None:
    buy(
        client,
        shop["pos"],
        program="shop",
        member=member,
        external_id=external_id,
        amount=amount,
        at=at,
    )


def held(client: TestClient, shop: dict[str, str], member: str) -> str:
    """The tier stored on the member (what the job and the use cases wrote)."""
    found = client.get(f"/v1/programs/shop/members/{member}", headers=auth(shop["read"]))
    code: str = found.json()["tier"]["code"]
    return code


def current(client: TestClient, shop: dict[str, str], member: str) -> dict[str, Any]:
    got: dict[str, Any] = tier(client, shop["read"], program="shop", member=member)["current"]
    return got


def history(client: TestClient, shop: dict[str, str], member: str) -> list[tuple[str, str, str]]:
    return [
        (h["to"], h["cause"], h["at"][:10])
        for h in tier(client, shop["read"], program="shop", member=member)["history"]
    ]


def test_rolling_12_months_keeps_the_tier_while_the_window_holds_the_spend(
    client: TestClient, shop: dict[str, str], clock: MutableClock, container: Container
) -> None:
    with_tiers(client, shop, period="rolling_12_months")
    clock.at = REACHED
    lapsing = enrol(client, shop["pos"], program="shop")["id"]
    renewed = enrol(client, shop["pos"], program="shop")["id"]
    for n, member in enumerate((lapsing, renewed)):
        spend(client, shop, member, f"A-{n}", "400.00", REACHED)
    assert current(client, shop, lapsing) == {
        **current(client, shop, lapsing),
        "code": "vib",
        "until": None,  # a rolling window gives no end date
        "cause": "qualified",
    }
    assert tier(client, shop["read"], program="shop", member=lapsing)["period_end"] is None
    clock.at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    spend(client, shop, lapsing, "B-0", "100.00", clock.at)
    clock.at = datetime(2027, 1, 14, 10, 0, tzinfo=UTC)
    spend(client, shop, renewed, "B-1", "350.00", clock.at)

    # No calendar: the new year changes nothing.
    run_jobs(container, clock, datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    # 9 March 2027: the window (since 9 March 2026) still holds the 400.00 of 10 March.
    assert run_jobs(container, clock, datetime(2027, 3, 9, 12, 0, tzinfo=UTC)) == 2
    assert held(client, shop, lapsing) == held(client, shop, renewed) == "vib"
    # 10 March 2027, 09:00 UTC: the window opens at 10:00 Paris a year back, the purchase of
    # 11:00 Paris is still in it.
    run_jobs(container, clock, datetime(2027, 3, 10, 9, 0, tzinfo=UTC))
    assert held(client, shop, lapsing) == "vib"
    # 12:00 UTC the same day: the window opens at 13:00 Paris; only the 100.00 of December
    # is left, short of 350.
    run_jobs(container, clock, datetime(2027, 3, 10, 12, 0, tzinfo=UTC))
    assert held(client, shop, lapsing) == "insider"
    assert current(client, shop, lapsing)["code"] == "insider"
    assert history(client, shop, lapsing) == [
        ("vib", "purchase", "2026-03-10"),
        ("insider", "job", "2027-03-10"),
    ]
    # 350.00 bought in January keeps the other member's tier until January 2028.
    assert held(client, shop, renewed) == "vib"
    run_jobs(container, clock, datetime(2028, 1, 13, 12, 0, tzinfo=UTC))
    assert held(client, shop, renewed) == "vib"
    run_jobs(container, clock, datetime(2028, 1, 15, 12, 0, tzinfo=UTC))
    assert held(client, shop, renewed) == "insider"
    assert [h[:2] for h in history(client, shop, renewed)] == [
        ("vib", "purchase"),
        ("insider", "job"),
    ]
    assert audit(container) == []


def test_lifetime_adds_up_every_year_and_never_lapses(
    client: TestClient, shop: dict[str, str], clock: MutableClock, container: Container
) -> None:
    with_tiers(client, shop, period="lifetime")
    clock.at = REACHED
    member = enrol(client, shop["pos"], program="shop")["id"]
    spend(client, shop, member, "L-1", "200.00", REACHED)
    assert held(client, shop, member) == "insider"
    clock.at = datetime(2028, 6, 1, 10, 0, tzinfo=UTC)  # two years on: 200 + 200
    spend(client, shop, member, "L-2", "200.00", clock.at)
    progress = tier(client, shop["read"], program="shop", member=member)
    assert progress["current"]["code"] == "vib"
    assert progress["current"]["until"] is None
    assert progress["progress"] == "400.00"
    assert progress["period_end"] is None
    run_jobs(container, clock, datetime(2029, 1, 1, 12, 0, tzinfo=UTC))
    run_jobs(container, clock, datetime(2035, 6, 1, 12, 0, tzinfo=UTC))
    assert held(client, shop, member) == "vib"
    assert history(client, shop, member) == [("vib", "purchase", "2028-06-01")]
    # A refund lowers the lifetime metric like any other.
    refund = client.post(
        "/v1/programs/shop/purchases/L-1/refunds",
        json={"external_id": "F-1"},
        headers=auth(shop["pos"]),
    )
    assert refund.status_code == 201, refund.text
    assert held(client, shop, member) == "insider"
    assert history(client, shop, member)[-1] == ("insider", "refund", "2035-06-01")
    assert audit(container) == []


def test_end_of_period_keeps_a_tier_to_the_end_of_its_year_without_grace(
    client: TestClient, shop: dict[str, str], clock: MutableClock, container: Container
) -> None:
    with_tiers(client, shop, downgrade="end_of_period")
    clock.at = REACHED
    member = enrol(client, shop["pos"], program="shop")["id"]
    spend(client, shop, member, "E-1", "400.00", REACHED)
    reached = current(client, shop, member)
    assert (reached["code"], reached["until"]) == ("vib", "2026-12-31T23:00:00Z")
    # 31 December, 23:30 in Paris: still 2026 there.
    run_jobs(container, clock, datetime(2026, 12, 31, 22, 30, tzinfo=UTC))
    assert held(client, shop, member) == "vib"
    # Midnight in Paris: the year it was reached in is over, and no grace year follows.
    assert run_jobs(container, clock, datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == 1
    assert held(client, shop, member) == "insider"
    assert current(client, shop, member)["code"] == "insider"
    assert history(client, shop, member) == [
        ("vib", "purchase", "2026-03-10"),
        ("insider", "job", "2026-12-31"),
    ]
    # Reached again in 2027: kept to the end of 2027 only.
    clock.at = datetime(2027, 5, 4, 10, 0, tzinfo=UTC)
    spend(client, shop, member, "E-2", "350.00", clock.at)
    again = current(client, shop, member)
    assert (again["code"], again["until"]) == ("vib", "2027-12-31T23:00:00Z")
    run_jobs(container, clock, datetime(2028, 1, 2, 12, 0, tzinfo=UTC))
    assert held(client, shop, member) == "insider"
    assert audit(container) == []


def test_the_default_grace_year_for_comparison(
    client: TestClient, shop: dict[str, str], clock: MutableClock, container: Container
) -> None:
    """The same dates under ``end_of_next_period``: the tier outlives its year by one."""
    clock.at = REACHED
    member = enrol(client, shop["pos"], program="shop")["id"]
    spend(client, shop, member, "G-1", "400.00", REACHED)
    run_jobs(container, clock, datetime(2026, 12, 31, 23, 0, tzinfo=UTC))
    assert held(client, shop, member) == "vib"
    assert current(client, shop, member)["cause"] == "grace"


def test_never_keeps_the_best_tier_ever_reached(
    client: TestClient, shop: dict[str, str], clock: MutableClock, container: Container
) -> None:
    with_tiers(client, shop, downgrade="never")
    clock.at = REACHED
    member = enrol(client, shop["pos"], program="shop")["id"]
    spend(client, shop, member, "N-1", "400.00", REACHED)
    reached = current(client, shop, member)
    assert (reached["code"], reached["until"]) == ("vib", None)
    for year in (2027, 2028, 2031):
        run_jobs(container, clock, datetime(year, 1, 2, 12, 0, tzinfo=UTC))
        assert held(client, shop, member) == "vib", year
    kept = current(client, shop, member)
    assert (kept["code"], kept["until"], kept["cause"]) == ("vib", None, "best_ever")
    # Higher still in 2031 (1000 in that year alone), then nothing for years: rouge for good.
    clock.at = datetime(2031, 2, 4, 10, 0, tzinfo=UTC)
    spend(client, shop, member, "N-2", "1000.00", clock.at)
    run_jobs(container, clock, datetime(2040, 1, 2, 12, 0, tzinfo=UTC))
    assert held(client, shop, member) == "rouge"
    assert current(client, shop, member)["code"] == "rouge"
    assert [h[:2] for h in history(client, shop, member)] == [
        ("vib", "purchase"),
        ("rouge", "purchase"),
    ]
    assert audit(container) == []


def test_never_with_a_rolling_window_keeps_the_tier_after_the_spend_leaves_it(
    client: TestClient, shop: dict[str, str], clock: MutableClock, container: Container
) -> None:
    with_tiers(client, shop, period="rolling_12_months", downgrade="never")
    clock.at = REACHED
    member = enrol(client, shop["pos"], program="shop")["id"]
    spend(client, shop, member, "R-1", "400.00", REACHED)
    run_jobs(container, clock, datetime(2027, 6, 1, 12, 0, tzinfo=UTC))  # the window is empty
    assert held(client, shop, member) == "vib"
    progress = tier(client, shop["read"], program="shop", member=member)
    assert progress["progress"] == "0.00"
    assert (progress["current"]["code"], progress["current"]["cause"]) == ("vib", "best_ever")
    assert history(client, shop, member) == [("vib", "purchase", "2026-03-10")]
