"""Each of the eleven segment filters of ``domain/segments.py``, with members inside and outside
it, on the bounds where the comparison matters (SPEC §2).

The program earns one point per 1.00 and nothing else, so a member's balance is their spend.
On 7 March 2026 (the clock):

=====  ======  =======  =========  =====  ===========================================
who    tier    balance  purchases  spend  last purchase
=====  ======  =======  =========  =====  ===========================================
ada    vib     400      1          400    5 March (2 days), born in May, lives in Oslo
bo     insider 40       2          40     20 February (15 days), lives in Rome
cy     insider 0        0          0      never
dee    insider 100      1          100    1 December 2025 (96 days)
eve    insider 120      2 (3 - 1)  120    3 March (4 days); one of three refunded
=====  ======  =======  =========  =====  ===========================================
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import MutableClock, auth, buy, change_config, enrol

NOW = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)


@pytest.fixture
def cohort(client: TestClient, shop: dict[str, str], clock: MutableClock) -> dict[str, str]:
    pos = shop["pos"]
    change_config(
        client,
        shop["admin"],
        program="shop",
        rules=[{"id": "base", "kind": "spend", "points": 1, "per": "1.00"}],
    )
    clock.at = datetime(2025, 11, 1, 10, 0, tzinfo=UTC)
    people = {
        "ada": enrol(
            client, pos, program="shop", birth_date="1990-05-04", attributes={"city": "Oslo"}
        ),
        "bo": enrol(client, pos, program="shop", attributes={"city": "Rome"}),
        "cy": enrol(client, pos, program="shop"),
        "dee": enrol(client, pos, program="shop", birth_date="1985-12-24"),
        "eve": enrol(client, pos, program="shop"),
    }
    ids = {name: str(member["id"]) for name, member in people.items()}
    clock.at = NOW
    for external_id, who, amount, at in [
        ("A-1", "ada", "400.00", "2026-03-05T10:00:00Z"),
        ("B-1", "bo", "20.00", "2026-01-15T10:00:00Z"),
        ("B-2", "bo", "20.00", "2026-02-20T10:00:00Z"),
        ("D-1", "dee", "100.00", "2025-12-01T10:00:00Z"),
        ("E-1", "eve", "60.00", "2026-03-01T10:00:00Z"),
        ("E-2", "eve", "60.00", "2026-03-02T10:00:00Z"),
        ("E-3", "eve", "60.00", "2026-03-03T10:00:00Z"),
    ]:
        buy(
            client,
            pos,
            program="shop",
            external_id=external_id,
            member=ids[who],
            amount=amount,
            at=at,
        )
    refund = client.post(
        "/v1/programs/shop/purchases/E-1/refunds", json={"external_id": "F-1"}, headers=auth(pos)
    )
    assert refund.status_code == 201, refund.text
    # the table above, as the API shows it
    shown = {
        name: client.get(f"/v1/programs/shop/members/{m}", headers=auth(shop["read"])).json()
        for name, m in ids.items()
    }
    assert {n: m["balances"]["points"]["available"] for n, m in shown.items()} == {
        "ada": 400,
        "bo": 40,
        "cy": 0,
        "dee": 100,
        "eve": 120,
    }
    assert {n: m["tier"]["code"] for n, m in shown.items()} == {
        "ada": "vib",
        "bo": "insider",
        "cy": "insider",
        "dee": "insider",
        "eve": "insider",
    }
    return ids


def members_of(client: TestClient, shop: dict[str, str], rule: dict[str, Any]) -> list[str]:
    made = client.post(
        "/v1/programs/shop/segments",
        json={"code": "probe", "name": "Probe", "filter": rule},
        headers=auth(shop["admin"]),
    )
    assert made.status_code == 201, made.text
    listed = client.get("/v1/programs/shop/segments/probe/members", headers=auth(shop["read"]))
    assert listed.status_code == 200, listed.text
    return [m["id"] for m in listed.json()["items"]]


@pytest.mark.parametrize(
    ("rule", "inside"),
    [
        ({"tiers": ["vib"]}, {"ada"}),
        ({"tiers": ["insider", "rouge"]}, {"bo", "cy", "dee", "eve"}),
        ({"min_balance": 120}, {"ada", "eve"}),  # 120 is in, 100 is not
        ({"max_balance": 40}, {"bo", "cy"}),
        # "idle": who has not bought for 30 days, and who never bought
        ({"min_days_since_last_purchase": 30}, {"cy", "dee"}),
        ({"min_days_since_last_purchase": 96}, {"cy", "dee"}),
        ({"min_days_since_last_purchase": 97}, {"cy"}),
        ({"max_days_since_last_purchase": 15}, {"ada", "bo", "eve"}),  # never bought: out
        ({"max_days_since_last_purchase": 14}, {"ada", "eve"}),
        ({"min_purchases": 2}, {"bo", "eve"}),  # eve's refunded purchase does not count
        ({"max_purchases": 1}, {"ada", "cy", "dee"}),
        ({"min_spend": "120"}, {"ada", "eve"}),  # net of the refund
        ({"max_spend": "40.00"}, {"bo", "cy"}),
        ({"birthday_month": 5}, {"ada"}),
        ({"birthday_month": 12}, {"dee"}),
        ({"attributes": {"city": "Oslo"}}, {"ada"}),
        ({"attributes": {"city": "Oslo", "vip": True}}, set()),
        # conditions together: every one must hold
        ({"min_purchases": 1, "max_spend": "150"}, {"bo", "dee", "eve"}),
        ({"min_balance": 1, "min_days_since_last_purchase": 30}, {"dee"}),
        ({}, {"ada", "bo", "cy", "dee", "eve"}),
    ],
)
def test_a_filter_holds_its_members_and_no_one_else(
    client: TestClient,
    shop: dict[str, str],
    cohort: dict[str, str],
    rule: dict[str, Any],
    inside: set[str],
) -> None:
    found = members_of(client, shop, rule)
    assert len(found) == len(set(found))
    names = {id_: name for name, id_ in cohort.items()}
    assert {names[m] for m in found} == inside


def test_idle_follows_the_clock(
    client: TestClient, shop: dict[str, str], cohort: dict[str, str], clock: MutableClock
) -> None:
    """Ada bought on 5 March: she joins the idle segment on 4 April, 30 days later."""
    assert cohort["ada"] not in members_of(client, shop, {"min_days_since_last_purchase": 30})
    clock.at = datetime(2026, 4, 4, 9, 59, tzinfo=UTC)
    url = "/v1/programs/shop/segments/probe/members"
    listed = client.get(url, headers=auth(shop["read"])).json()["items"]
    assert cohort["ada"] not in {m["id"] for m in listed}  # 29 days, 23 hours
    clock.at = datetime(2026, 4, 4, 10, 0, tzinfo=UTC)
    listed = client.get(url, headers=auth(shop["read"])).json()["items"]
    assert cohort["ada"] in {m["id"] for m in listed}
