"""Breakage and expiry in the analytics summary, and `patron report` against the API.

The example program's points expire twelve months after they are earned, at the end of that
month (Europe/Paris). On Thursday 5 March 2026 Ada earns 560 points (50 for enrolling, 400 for
400.00, 10 for the visit, 100 for a first purchase) and Bo 260 (50 + 100 + 10 + 100); Ada
redeems 300 the next day. On 1 April 2027 (Paris) the 520 points left expire.
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
from tests.factories import MutableClock, auth, buy, enrol
from tests.ledger_support import audit

MARCH_2026 = {"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"}
SPRING_2027 = {"from": "2027-03-01T00:00:00Z", "to": "2027-05-01T00:00:00Z"}
EVERYTHING = {"from": "2026-01-01T00:00:00Z", "to": "2027-05-01T00:00:00Z"}


@pytest.fixture
def history(
    client: TestClient, shop: dict[str, str], clock: MutableClock, container: Container
) -> None:
    pos = shop["pos"]
    clock.at = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    ada = enrol(client, pos, program="shop", email="ada@example.com")["id"]
    bo = enrol(client, pos, program="shop", email="bo@example.com")["id"]
    clock.at = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    buy(client, pos, program="shop", member=ada, external_id="P-1", amount="400.00", at=clock.at)
    buy(client, pos, program="shop", member=bo, external_id="P-2", amount="100.00", at=clock.at)
    buy(client, pos, program="shop", external_id="P-3", amount="35.00", at=clock.at)  # anonymous
    gift = {"code": "gift", "name": "Gift", "kind": "free_item", "value": "GIFT"}
    made = client.post(
        "/v1/programs/shop/rewards",
        json={**gift, "cost": {"wallet": "points", "amount": 300}},
        headers=auth(shop["admin"]),
    )
    assert made.status_code == 201, made.text
    clock.at = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)
    redeemed = client.post(
        f"/v1/programs/shop/members/{ada}/redemptions", json={"reward": "gift"}, headers=auth(pos)
    )
    assert redeemed.status_code == 201, redeemed.text
    assert redeemed.json()["balances"]["points"]["available"] == 260

    # 31 March 2027, 23:30 in Paris: nothing has expired yet
    clock.at = datetime(2027, 3, 31, 21, 30, tzinfo=UTC)
    assert jobs.run_due(container.uow, clock.at).done.get("shop", {}).get("expire", 0) == 0
    clock.at = datetime(2027, 4, 2, 9, 0, tzinfo=UTC)
    assert jobs.run_due(container.uow, clock.at).done["shop"].get("expire") == 2  # two members
    for member in (ada, bo):
        shown = client.get(f"/v1/programs/shop/members/{member}", headers=auth(pos)).json()
        assert shown["balances"]["points"]["available"] == 0
    assert audit(container) == []


def summary(client: TestClient, shop: dict[str, str], window: dict[str, str]) -> Any:
    answer = client.get(
        "/v1/programs/shop/analytics/summary", params=window, headers=auth(shop["read"])
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize(
    ("window", "flows"),
    [
        (
            MARCH_2026,
            {
                "issued": 820,
                "redeemed": 300,
                "expired": 0,
                "redemption_rate": "0.3659",  # 300 / 820
                "breakage": "0.0000",  # nothing expired yet
            },
        ),
        (
            SPRING_2027,
            {
                "issued": 0,
                "redeemed": 0,
                "expired": 520,
                "redemption_rate": None,  # nothing issued in the window
                "breakage": "1.0000",  # all that left the program in the window expired
            },
        ),
        (
            EVERYTHING,
            {
                "issued": 820,
                "redeemed": 300,
                "expired": 520,
                "redemption_rate": "0.3659",
                "breakage": "0.6341",  # 520 / (300 + 520)
            },
        ),
    ],
)
def test_expired_points_make_the_breakage(
    client: TestClient, shop: dict[str, str], window: dict[str, str], flows: dict[str, Any]
) -> None:
    points = summary(client, shop, window)["wallets"]["points"]
    assert {k: points[k] for k in flows} == flows
    assert points["outstanding"] == 0
    assert points["pending"] == 0
    assert points["liability"] == "0.00"


def _cli(db_url: str, window: dict[str, str], *extra: str) -> str:
    args = ["report", "--program", "shop", "--from", window["from"], "--to", window["to"]]
    result = CliRunner(env={"PATRON_DATABASE_URL": db_url}).invoke(app, [*args, *extra])
    assert result.exit_code == 0, result.output
    return result.stdout


def _shown(value: Any) -> str:
    """A figure as the report's table prints it."""
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize("window", [MARCH_2026, SPRING_2027, EVERYTHING])
def test_patron_report_prints_the_figures_of_the_api(
    client: TestClient, shop: dict[str, str], db_url: str, window: dict[str, str]
) -> None:
    served = summary(client, shop, window)

    assert orjson.loads(_cli(db_url, window, "--json")) == served

    rows: dict[str, str] = {}
    printed = _cli(db_url, window)
    # The first table has the summary's figures; the dashboard's tables follow it.
    for line in printed[: printed.index("└")].splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if len(cells) == 2:
            assert cells[0] not in rows, cells[0]
            rows[cells[0]] = cells[1]
    expected = {
        f"{section}.{name}": _shown(value)
        for section in ("members", "sales", "behaviour")
        for name, value in served[section].items()
    }
    for wallet, figures in served["wallets"].items():
        expected.update({f"{wallet}.{name}": _shown(value) for name, value in figures.items()})
    expected["liability"] = f"{served['liability']} {served['currency']}"
    assert rows == expected
    assert rows["points.breakage"] == _shown(served["wallets"]["points"]["breakage"])


def test_patron_report_refuses_a_bad_date(shop: dict[str, str], db_url: str) -> None:
    bad = CliRunner(env={"PATRON_DATABASE_URL": db_url}).invoke(
        app, ["report", "--program", "shop", "--from", "yesterday"]
    )
    assert bad.exit_code == 2
    assert "--from" in bad.output
