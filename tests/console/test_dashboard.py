"""The console dashboard shows the analytics API's figures for the same window, and its CSVs the
same rows.

The example program (Europe/Paris, EUR; points expire twelve months after they are earned, at
the end of that month). On 5 March 2026 Ada and Bo enrol and buy (400.00 and 100.00), with an
anonymous purchase beside them. On 10 March 2027 Bo buys again and Cy enrols: the previous
period of the default view. On 2 April 2027 the job expires Ada's and Bo's 2026 points. In April
2027 Dee enrols and buys twice, Cy buys, a shopper buys without a card, Dee redeems a mini and
staff move Cy up to rouge. The dashboard is opened on 25 April 2027, so "30 days" is 27 March to
25 April (Paris), across the clock change of 28 March.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.console import templating
from patron.services import jobs
from patron.services.analytics_tables import FIGURES
from tests.console.conftest import make_staff, sign_in
from tests.factories import MutableClock, auth, buy, create_program, enrol

SHOP = "/v1/programs/shop"
HOME = "/console/programs/shop/"
CSV = "/console/programs/shop/dashboard.csv"
PARIS = ZoneInfo("Europe/Paris")
CARD_IDS = {
    ".".join(path): "figure-" + ".".join(path).replace(".", "-").replace("_", "-")
    for _, path in FIGURES
}


def window(first: date, last: date) -> dict[str, str]:
    """The API window of local days ``first`` to ``last`` (included) in Paris."""

    def midnight(day: date) -> str:
        return datetime.combine(day, time(), PARIS).astimezone(UTC).isoformat()

    return {"from": midnight(first), "to": midnight(last + timedelta(days=1))}


@pytest.fixture
def history(
    web: TestClient, shop: dict[str, str], clock: MutableClock, container: Container
) -> dict[str, str]:
    admin = shop["admin"]
    for code, cost in (("gift", 300), ("mini", 100)):
        body = {"code": code, "name": code.title(), "kind": "free_item", "value": code.upper()}
        made = web.post(
            f"{SHOP}/rewards",
            json={**body, "cost": {"wallet": "points", "amount": cost}},
            headers=auth(admin),
        )
        assert made.status_code == 201, made.text

    def at(when: datetime) -> datetime:
        clock.at = when
        return when

    at(datetime(2026, 3, 5, 10, 0, tzinfo=UTC))
    who = {n: enrol(web, admin, program="shop", email=f"{n}@example.com")["id"] for n in "ab"}
    buy(web, admin, program="shop", member=who["a"], external_id="P-1", amount="400.00")
    buy(web, admin, program="shop", member=who["b"], external_id="P-2", amount="100.00")
    buy(web, admin, program="shop", external_id="P-3", amount="35.00")

    when = at(datetime(2027, 3, 10, 10, 0, tzinfo=UTC))
    buy(web, admin, program="shop", member=who["b"], external_id="P-4", amount="50.00", at=when)
    who["c"] = enrol(web, admin, program="shop", email="c@example.com")["id"]

    at(datetime(2027, 4, 2, 9, 0, tzinfo=UTC))
    assert jobs.run_due(container.uow, clock.at).done["shop"].get("expire") == 2

    when = at(datetime(2027, 4, 5, 10, 0, tzinfo=UTC))
    who["d"] = enrol(web, admin, program="shop", email="d@example.com")["id"]
    buy(web, admin, program="shop", member=who["d"], external_id="P-5", amount="60.00", at=when)
    buy(web, admin, program="shop", member=who["c"], external_id="P-6", amount="30.00", at=when)
    buy(web, admin, program="shop", external_id="P-7", amount="20.00", at=when)
    when = at(datetime(2027, 4, 12, 10, 0, tzinfo=UTC))
    buy(web, admin, program="shop", member=who["d"], external_id="P-8", amount="80.00", at=when)
    redeemed = web.post(
        f"{SHOP}/members/{who['d']}/redemptions", json={"reward": "mini"}, headers=auth(admin)
    )
    assert redeemed.status_code == 201, redeemed.text
    moved = web.post(
        f"{SHOP}/members/{who['c']}/tier",
        json={"code": "rouge", "reason": "service"},
        headers=auth(admin),
    )
    assert moved.status_code == 200, moved.text
    at(datetime(2027, 4, 25, 10, 0, tzinfo=UTC))
    return who


def summary(web: TestClient, shop: dict[str, str], bounds: dict[str, str]) -> Any:
    answer = web.get(f"{SHOP}/analytics/summary", params=bounds, headers=auth(shop["admin"]))
    assert answer.status_code == 200, answer.text
    return answer.json()


def pick(figures: Any, key: str) -> Any:
    for part in key.split("."):
        figures = figures.get(part) if isinstance(figures, dict) else None
    return figures


def shown(value: Any, key: str) -> str:
    """An API figure written the way the dashboard writes it."""
    if value is None:
        return "—"
    if key in ("liability", "sales.total", "sales.average_order_value"):
        return templating.money(value, "EUR")
    if key.endswith(("rate", "breakage", "share")):
        return templating.percent(value)
    if key.endswith("cycle_days"):
        return f"{value} days"
    return templating.points(value)


def card(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert found, f"no {element_id} on the page"
    return found.group(1).strip()


def rows(answer: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(answer.text)))


@pytest.mark.usefixtures("history")
def test_the_figures_are_the_api_summary_of_the_same_days(
    web: TestClient, shop: dict[str, str], as_role: Any
) -> None:
    page = as_role("manager").get(HOME)
    assert page.status_code == 200, page.text
    assert "<h1>Dashboard</h1>" in page.text
    assert "27 Mar \u2013 25 Apr 2027" in page.text
    assert "25 Feb \u2013 26 Mar 2027" in page.text  # the previous 30 days
    now = summary(web, shop, window(date(2027, 3, 27), date(2027, 4, 25)))
    before = summary(web, shop, window(date(2027, 2, 25), date(2027, 3, 26)))
    # the history shows in the window: something moved in every flow
    assert now["points"]["expired"] > 0
    assert now["points"]["redeemed"] == 100
    assert now["members"]["new"] == before["members"]["new"] == 1
    assert now["tier_migration"]["up"] >= 1
    for key, element in CARD_IDS.items():
        assert card(page.text, element) == shown(pick(now, key), key), key
        assert card(page.text, element + "-previous") == shown(pick(before, key), key), key
    assert "No purchases in this period" not in page.text


@pytest.mark.usefixtures("history")
def test_the_figures_csv_has_both_periods_as_the_api_gives_them(
    web: TestClient, shop: dict[str, str], as_role: Any
) -> None:
    answer = as_role("viewer").get(CSV, params={"table": "figures"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == (
        'attachment; filename="shop-figures-2027-03-27-to-2027-04-25.csv"'
    )
    table = rows(answer)
    assert table[0] == ["figure", "value", "previous period", "change", "change %"]
    now = summary(web, shop, window(date(2027, 3, 27), date(2027, 4, 25)))
    before = summary(web, shop, window(date(2027, 2, 25), date(2027, 3, 26)))
    assert [row[0] for row in table[1:]] == [label for label, _ in FIGURES]
    for row, (_, path) in zip(table[1:], FIGURES, strict=True):
        key = ".".join(path)
        for cell, figures in ((row[1], now), (row[2], before)):
            value = pick(figures, key)
            assert cell == ("" if value is None else str(value)), key


@pytest.mark.usefixtures("history")
def test_every_table_csv_is_the_api_rows(
    web: TestClient, shop: dict[str, str], as_role: Any
) -> None:
    client = as_role("marketer")
    bounds = window(date(2027, 4, 1), date(2027, 4, 20))
    query = {"period": "custom", "from": "2027-04-01", "to": "2027-04-20"}
    now = summary(web, shop, bounds)

    def table(name: str) -> list[list[str]]:
        answer = client.get(CSV, params={**query, "table": name})
        assert answer.status_code == 200, answer.text
        expected = f"shop-{name.replace('_', '-')}-2027-04-01-to-2027-04-20.csv"
        assert expected in answer.headers["content-disposition"]
        return rows(answer)

    assert table("top_rewards") == [
        ["reward", "name", "wallet", "redemptions", "spent"],
        ["mini", "Mini", "points", "1", "100"],
    ]
    assert table("top_rules")[1:] == [
        [r["rule_id"], r["name"] or "", str(r["issued"]), str(r["awards"])]
        for r in now["top_rules"]
    ]
    assert table("average_order_value")[1:] == [
        [group.replace("_", "-"), v["sales"], str(v["orders"]), v["average_order_value"] or ""]
        for group, v in now["average_order_value"].items()
    ]
    assert table("tiers")[1:] == [[k, str(n)] for k, n in now["members"]["tiers"].items()]
    assert ["insider", "rouge", "up", "1"] in table("tier_migration")
    assert len(table("expiry_forecast")) == 1 + 3 * len(now["expiry_forecast"])
    series = web.get(f"{SHOP}/analytics/series", params=bounds, headers=auth(shop["admin"])).json()
    got = table("series")
    assert got[0][:3] == ["start", "end", "points_issued"]
    assert len(got) == 1 + 20  # by day
    assert [row[2:5] for row in got[1:]] == [
        [str(b["points_issued"]), str(b["points_redeemed"]), str(b["points_expired"])]
        for b in series["buckets"]
    ]


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize(
    ("query", "first", "last", "bucket"),
    [
        ({"period": "7d"}, date(2027, 4, 19), date(2027, 4, 25), "day"),
        ({"period": "90d"}, date(2027, 1, 26), date(2027, 4, 25), "week"),
        ({"period": "12m"}, date(2026, 4, 26), date(2027, 4, 25), "month"),
        (
            {"period": "custom", "from": "2026-03-01", "to": "2026-03-31"},
            date(2026, 3, 1),
            date(2026, 3, 31),
            "day",
        ),
    ],
)
def test_the_period_picker(
    web: TestClient,
    shop: dict[str, str],
    as_role: Any,
    query: dict[str, str],
    first: date,
    last: date,
    bucket: str,
) -> None:
    page = as_role("owner").get(HOME, params=query)
    assert page.status_code == 200, page.text
    assert f'<time datetime="{first.isoformat()}">' in page.text
    assert f"Over time, by {bucket}" in page.text
    assert re.search(r'aria-current="true">[^<]*</a>|button--primary">Show custom', page.text)
    now = summary(web, shop, window(first, last))
    days = (last - first).days + 1
    before = summary(web, shop, window(first - timedelta(days=days), first - timedelta(days=1)))
    for key in ("points.issued", "members.new", "sales.total", "liability"):
        assert card(page.text, CARD_IDS[key]) == shown(pick(now, key), key), key
        previous = card(page.text, CARD_IDS[key] + "-previous")
        assert previous == shown(pick(before, key), key), key


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"from": "2027-04-10", "to": "2027-04-01"}, "to", "must be the same as or after"),
        ({"from": "2027-02-30", "to": "2027-04-01"}, "from", "must be a real date"),
        ({"from": "", "to": "2027-04-01"}, "from", "Enter the start date"),
        ({"from": "2027-04-01", "to": "junk"}, "to", "must be a real date"),
        ({"from": "0001-01-01", "to": "2027-04-01"}, "from", "between 1970 and 2999"),
        ({"from": "1990-01-01", "to": "2027-04-01"}, "from", "at most ten years"),
    ],
)
def test_a_bad_custom_period_is_told_at_its_field(
    as_role: Any, query: dict[str, str], field: str, message: str
) -> None:
    client = as_role("manager")
    page = client.get(HOME, params={"period": "custom", **query})
    assert page.status_code == 422
    error = re.search(rf'id="f-{field}-error">(.*?)</p>', page.text, re.S)
    assert error, page.text
    assert message in error.group(1)
    assert 'aria-invalid="true"' in page.text
    answer = client.get(CSV, params={"period": "custom", **query})
    assert answer.status_code == 400
    assert message in answer.text


def test_an_empty_program_says_how_to_get_data_in(as_role: Any) -> None:
    client = as_role("viewer")
    page = client.get(HOME)
    assert page.status_code == 200
    assert "No purchases in this period yet — record one through the API" in page.text
    assert card(page.text, CARD_IDS["members.total"]) == "0"
    assert card(page.text, CARD_IDS["points.redemption_rate"]) == "—"
    assert card(page.text, CARD_IDS["sales.average_order_value"]) == "—"
    assert "No reward was redeemed in this period." in page.text
    assert rows(client.get(CSV, params={"table": "top_rewards"}))[1:] == []


def test_support_goes_to_the_members_and_cannot_download(as_role: Any) -> None:
    client = as_role("support")
    home = client.get(HOME, follow_redirects=False)
    assert home.status_code == 303
    assert home.headers["location"] == "/console/programs/shop/members"
    assert client.get(CSV, follow_redirects=False).status_code == 403


def test_another_programs_staff_sees_nothing(
    web: TestClient, container: Container, shop: dict[str, str]
) -> None:
    create_program(web, shop["platform"], slug="other")
    make_staff(container, email="owner@other.example", role="owner", program="other")
    assert sign_in(web, "owner@other.example").status_code == 303
    assert web.get("/console/programs/other/", follow_redirects=False).status_code == 200
    for path in (HOME, CSV, "/console/programs/nowhere/"):
        assert web.get(path, follow_redirects=False).status_code == 404, path


def test_an_unknown_table_is_not_found(as_role: Any) -> None:
    answer = as_role("manager").get(CSV, params={"table": "secrets"})
    assert answer.status_code == 404
    assert "top_rewards" in answer.text


@pytest.mark.usefixtures("history")
def test_tiers_are_shown_by_their_names(as_role: Any) -> None:
    page = as_role("viewer").get(HOME)
    section = page.text[page.text.index('id="table-tiers"') :]
    section = section[: section.index("</section>")]
    assert "Insider" in section
    assert "insider" not in section.replace("Insider", "")
