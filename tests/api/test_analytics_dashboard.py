"""The dashboard's figures (expiry forecast, tier migration, top rules and rewards, order value
by kind of buyer) and the series, on a small history whose every number is known.

The example program (Europe/Paris; points expire twelve months after they are earned, at the
end of that month; 2 % cash-back in ``credit``) plus a ``stars`` wallet that expires after six
months without activity. On Thursday 5 March 2026 Ada, Bo, Cy and Dee enrol (50 points each)
and Ada buys for 400.00 (400 + 10 for the visit + 100 welcome = 510 points, 8.00 credit; her
tier goes insider -> vib), Bo for 100.00 (210 points, 2.00), Cy for 60.00 (170 points, 1.20),
and two anonymous purchases come to 35.00 and 25.00. On 6 March Ada redeems a gift (300), Bo a
mini twice (2 x 100), staff put Ada back to insider (down) and Bo up to rouge (up), and Ada is
given 100 stars. Points left: Ada 260, Bo 60, Cy 220, Dee 50 = 590, all expiring on
1 April 2027 00:00 Paris (31 March 22:00 UTC). The stars lapse on 6 September 2026 11:00 Paris.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from patron.bootstrap import Container
from patron.cli.main import app
from patron.services import jobs
from tests.factories import MutableClock, auth, buy, change_config, enrol

SHOP = "/v1/programs/shop"
MARCH = {"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"}


@pytest.fixture
def history(
    client: TestClient, shop: dict[str, str], clock: MutableClock, container: Container
) -> dict[str, str]:
    pos, admin = shop["pos"], shop["admin"]
    config = client.get(f"{SHOP}/config", headers=auth(admin)).json()["config"]
    stars = {"expiry": {"mode": "inactivity", "months": 6}}
    change_config(client, admin, program="shop", wallets={**config["wallets"], "stars": stars})
    for code, name, cost in (("gift", "Gift", 300), ("mini", "Mini", 100)):
        body = {"code": code, "name": name, "kind": "free_item", "value": code.upper()}
        made = client.post(
            f"{SHOP}/rewards",
            json={**body, "cost": {"wallet": "points", "amount": cost}},
            headers=auth(admin),
        )
        assert made.status_code == 201, made.text
    clock.at = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    who = {
        name: enrol(client, pos, program="shop", email=f"{name}@example.com")["id"]
        for name in ("ada", "bo", "cy", "dee")
    }
    clock.at = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    bought = [("ada", "400.00"), ("bo", "100.00"), ("cy", "60.00"), (None, "35.00")]
    for n, (name, amount) in enumerate([*bought, (None, "25.00")]):
        member = who[name] if name else None
        buy(client, pos, program="shop", member=member, external_id=f"P-{n}", amount=amount)

    clock.at = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)
    for member, reward in ((who["ada"], "gift"), (who["bo"], "mini"), (who["bo"], "mini")):
        redeemed = client.post(
            f"{SHOP}/members/{member}/redemptions", json={"reward": reward}, headers=auth(pos)
        )
        assert redeemed.status_code == 201, redeemed.text
    for member, code in ((who["ada"], "insider"), (who["bo"], "rouge")):
        granted = client.post(
            f"{SHOP}/members/{member}/tier",
            json={"code": code, "reason": "service"},
            headers=auth(admin),
        )
        assert granted.status_code == 200, granted.text
    adjusted = client.post(
        f"{SHOP}/members/{who['ada']}/adjustments",
        json={"wallet": "stars", "amount": 100, "reason": "welcome"},
        headers=auth(admin),
    )
    assert adjusted.status_code == 201, adjusted.text
    return who


def get(client: TestClient, key: str, what: str, **query: str) -> Any:
    answer = client.get(f"{SHOP}/analytics/{what}", params=query, headers=auth(key))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_dashboard_figures_of_march(
    client: TestClient, shop: dict[str, str], history: dict[str, str]
) -> None:
    figures = get(client, shop["read"], "summary", **MARCH)

    assert figures["top_rules"] == [
        {"rule_id": "base", "name": "1 point per 1.00", "issued": 560, "awards": 3},
        {"rule_id": "welcome", "name": None, "issued": 300, "awards": 3},
        {"rule_id": "signup", "name": None, "issued": 200, "awards": 4},
        {"rule_id": "visit", "name": None, "issued": 30, "awards": 3},
    ]
    assert figures["top_rewards"] == [
        {"code": "mini", "name": "Mini", "wallet": "points", "redemptions": 2, "spent": 200},
        {"code": "gift", "name": "Gift", "wallet": "points", "redemptions": 1, "spent": 300},
    ]
    # Redeemers: Ada and Bo (500.00 in 2 orders); Cy did not redeem; two anonymous orders.
    assert figures["average_order_value"] == {
        "redeemers": {"sales": "500.00", "orders": 2, "average_order_value": "250.00"},
        "non_redeemers": {"sales": "60.00", "orders": 1, "average_order_value": "60.00"},
        "non_members": {"sales": "60.00", "orders": 2, "average_order_value": "30.00"},
    }
    migration = figures["tier_migration"]
    assert (migration["up"], migration["down"]) == (2, 1)
    moves = {(c["from"], c["to"]): (c["direction"], c["changes"]) for c in migration["changes"]}
    assert moves[("insider", "vib")] == ("up", 1)
    assert moves[("vib", "insider")] == ("down", 1)
    assert moves[("insider", "rouge")] == ("up", 1)
    assert {k: v for k, v in moves.items() if k[0] is not None} == {
        ("insider", "vib"): ("up", 1),
        ("vib", "insider"): ("down", 1),
        ("insider", "rouge"): ("up", 1),
    }
    # Nothing expires within 90 days of 1 April 2026 (the points in 2027, the stars in September).
    zero = {"amount": 0, "value": "0.00"}
    assert figures["expiry_forecast"] == {
        "points": {"next_30_days": zero, "next_60_days": zero, "next_90_days": zero},
        "stars": {"next_30_days": zero, "next_60_days": zero, "next_90_days": zero},
    }
    assert figures["behaviour"]["repeat_purchase_rate"] == "0.0000"  # one order each


@pytest.mark.parametrize(
    ("to", "points", "stars"),
    [
        # The stars lapse on 6 September 2026 at 09:00 UTC: 36 days after 1 August.
        ("2026-08-01T00:00:00Z", (0, 0, 0), (0, 100, 100)),
        ("2026-09-06T08:59:59Z", (0, 0, 0), (100, 100, 100)),
        ("2026-09-06T09:00:00Z", (0, 0, 0), (100, 100, 100)),
        ("2026-09-06T09:00:01Z", (0, 0, 0), (0, 0, 0)),  # already lapsed: not forecast
        # The points expire on 31 March 2027 at 22:00 UTC: 30 days and 22 hours after 1 March.
        ("2027-03-01T00:00:00Z", (0, 590, 590), (0, 0, 0)),
        ("2027-03-02T00:00:00Z", (590, 590, 590), (0, 0, 0)),
    ],
)
def test_the_expiry_forecast(
    client: TestClient,
    shop: dict[str, str],
    history: dict[str, str],
    to: str,
    points: tuple[int, int, int],
    stars: tuple[int, int, int],
) -> None:
    forecast = get(client, shop["read"], "summary", to=to)["expiry_forecast"]
    for wallet, expected in (("points", points), ("stars", stars)):
        horizons = forecast[wallet]
        assert [horizons[f"next_{d}_days"]["amount"] for d in (30, 60, 90)] == list(expected)
        assert [horizons[f"next_{d}_days"]["value"] for d in (30, 60, 90)] == [
            f"{n / 100:.2f}" for n in expected
        ]
    assert "credit" not in forecast  # it never expires


def test_the_series_of_a_week(
    client: TestClient, shop: dict[str, str], history: dict[str, str]
) -> None:
    # Monday 2 to Sunday 8 March 2026 in Paris (UTC+1): the default bucket is the day.
    week = {"from": "2026-03-01T23:00:00Z", "to": "2026-03-08T23:00:00Z"}
    series = get(client, shop["read"], "series", **week)
    assert (series["bucket"], series["timezone"]) == ("day", "Europe/Paris")
    rows = series["buckets"]
    assert [r["start"] for r in rows] == [f"2026-03-0{d}T23:00:00Z" for d in range(1, 8)]
    assert rows[-1]["end"] == "2026-03-08T23:00:00Z"
    by_day = {r["start"][:10]: r for r in rows}
    thursday, friday = by_day["2026-03-04"], by_day["2026-03-05"]
    assert thursday == {
        "start": "2026-03-04T23:00:00Z",
        "end": "2026-03-05T23:00:00Z",
        "points_issued": 1090,  # 4 x 50 + 510 + 210 + 170
        "points_redeemed": 0,
        "points_expired": 0,
        "points_owed": 1090,
        "members_new": 4,
        "members_active": 3,
        "liability": "22.10",  # 10.90 of points + 11.20 of credit
    }
    assert friday["points_issued"] == 0  # stars are not points
    assert friday["points_redeemed"] == 500
    assert friday["points_owed"] == 590
    assert friday["liability"] == "18.10"  # 5.90 + 11.20 + 1.00 of stars
    assert (friday["members_new"], friday["members_active"]) == (0, 0)
    monday = by_day["2026-03-01"]  # a bucket with nothing in it
    assert {k: v for k, v in monday.items() if k not in ("start", "end")} == {
        "points_issued": 0,
        "points_redeemed": 0,
        "points_expired": 0,
        "points_owed": 0,
        "members_new": 0,
        "members_active": 0,
        "liability": "0.00",
    }
    assert by_day["2026-03-07"]["liability"] == "18.10"
    # The buckets add up to the summary of the same window, and end at its liability (now).
    figures = get(client, shop["read"], "summary", **week)
    for name in ("issued", "redeemed", "expired"):
        assert sum(r[f"points_{name}"] for r in rows) == figures["points"][name]
    assert sum(r["members_new"] for r in rows) == figures["members"]["new"]
    assert rows[-1]["liability"] == figures["liability"]


def test_the_series_sees_the_points_expire(
    client: TestClient,
    shop: dict[str, str],
    history: dict[str, str],
    clock: MutableClock,
    container: Container,
) -> None:
    clock.at = datetime(2027, 4, 2, 9, 0, tzinfo=UTC)
    jobs.run_due(container.uow, clock.at)
    span = {"from": "2027-03-29T22:00:00Z", "to": "2027-04-02T22:00:00Z", "bucket": "day"}
    rows = get(client, shop["read"], "series", **span)["buckets"]
    assert [r["points_expired"] for r in rows] == [0, 0, 590, 0]
    assert [r["points_owed"] for r in rows] == [590, 590, 0, 0]
    assert [r["liability"] for r in rows] == ["17.10", "17.10", "11.20", "11.20"]
    # The stars lapsed in September 2026: in that month's bucket of a yearly series.
    year = get(
        client,
        shop["read"],
        "series",
        **{"from": "2026-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z"},
    )
    assert year["bucket"] == "month"
    months = {r["start"][:7]: r for r in year["buckets"]}
    assert months["2026-02"]["liability"] == "18.10"  # March 2026 (Paris) begins 28 Feb 23:00Z
    assert months["2026-08"]["liability"] == "17.10"  # September: the stars' 1.00 is gone
    forecast = get(client, shop["read"], "summary", to="2027-04-02T09:00:00Z")["expiry_forecast"]
    assert forecast["points"]["next_90_days"]["amount"] == 0


def test_weeks_start_on_monday_and_months_on_the_first(
    client: TestClient, shop: dict[str, str], history: dict[str, str]
) -> None:
    weeks = get(
        client,
        shop["read"],
        "series",
        **{"from": "2026-03-04T12:00:00Z", "to": "2026-03-20T00:00:00Z", "bucket": "week"},
    )["buckets"]
    assert [(r["start"], r["end"]) for r in weeks] == [
        ("2026-03-04T12:00:00Z", "2026-03-08T23:00:00Z"),  # cut to the window's start
        ("2026-03-08T23:00:00Z", "2026-03-15T23:00:00Z"),
        ("2026-03-15T23:00:00Z", "2026-03-20T00:00:00Z"),
    ]
    assert weeks[0]["points_issued"] == 1090
    months = get(
        client,
        shop["read"],
        "series",
        **{"from": "2026-02-15T00:00:00Z", "to": "2026-04-15T00:00:00Z", "bucket": "month"},
    )["buckets"]
    # 29 March 2026: Paris moves to summer time, so April begins at 22:00 UTC.
    assert [r["start"] for r in months] == [
        "2026-02-15T00:00:00Z",
        "2026-02-28T23:00:00Z",
        "2026-03-31T22:00:00Z",
    ]


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ({"bucket": "year"}, "bucket"),
        ({"from": "2000-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "bucket": "day"}, "bucket"),
        ({"from": "2026-03-08T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "from"),
    ],
)
def test_a_bad_series_is_refused(
    client: TestClient, shop: dict[str, str], query: dict[str, str], path: str
) -> None:
    answer = client.get(f"{SHOP}/analytics/series", params=query, headers=auth(shop["admin"]))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["errors"][0]["path"] == path


def test_series_roles(client: TestClient, shop: dict[str, str]) -> None:
    for role, status in (("admin", 200), ("read", 200), ("pos", 403), ("partner", 403)):
        answer = client.get(f"{SHOP}/analytics/series", headers=auth(shop[role]))
        assert answer.status_code == status, role


def _cli(db_url: str, *args: str) -> str:
    result = CliRunner(env={"PATRON_DATABASE_URL": db_url}).invoke(app, ["report", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_patron_report_gives_the_api_figures(
    client: TestClient, shop: dict[str, str], history: dict[str, str], db_url: str
) -> None:
    window = ["--program", "shop", "--from", MARCH["from"], "--to", MARCH["to"]]
    assert orjson.loads(_cli(db_url, *window, "--json")) == get(
        client, shop["read"], "summary", **MARCH
    )
    assert orjson.loads(_cli(db_url, *window, "--json", "--series", "--bucket", "week")) == get(
        client, shop["read"], "series", **MARCH, bucket="week"
    )
    printed = _cli(db_url, *window)
    for shown in ("Top earning rules", "1 point per 1.00", "Mini", "250.00", "insider", "vib"):
        assert shown in printed
    assert "2026-03-04T23:00:00Z" in _cli(db_url, *window, "--series")
