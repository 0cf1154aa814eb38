"""Programs and their versioned configuration through the API."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.conftest import table_counts
from tests.factories import auth, create_program
from tests.support_example import EXAMPLE_CONFIG


def test_create_and_read_a_program(client: TestClient, platform: str) -> None:
    created = create_program(client, platform, slug="beauty", config=EXAMPLE_CONFIG)
    assert created["slug"] == "beauty"
    assert created["config_version"] == 1
    assert created["currency"] == "EUR"
    for ref in ("beauty", created["id"]):
        got = client.get(f"/v1/programs/{ref}", headers=auth(platform))
        assert got.status_code == 200
        assert got.json() == created


def test_the_example_configuration_round_trips(client: TestClient, platform: str) -> None:
    create_program(client, platform, slug="beauty", config=EXAMPLE_CONFIG)
    config = client.get("/v1/programs/beauty/config", headers=auth(platform)).json()
    assert config["version"] == 1
    assert [rule["id"] for rule in config["config"]["rules"]] == [
        r["id"] for r in EXAMPLE_CONFIG["rules"]
    ]
    assert config["config"]["tiers"]["levels"][1]["code"] == "vib"


def test_each_put_makes_a_new_immutable_version(client: TestClient, platform: str) -> None:
    create_program(client, platform, slug="beauty")
    changed = copy.deepcopy(EXAMPLE_CONFIG)
    for expected in (2, 3):
        put = client.put("/v1/programs/beauty/config", json=changed, headers=auth(platform))
        assert put.status_code == 200, put.text
        assert put.json()["version"] == expected
        changed["rules"][0]["points"] = expected
    current = client.get("/v1/programs/beauty/config", headers=auth(platform)).json()
    assert current["version"] == 3
    assert current["config"]["rules"][0]["points"] == 2
    program = client.get("/v1/programs/beauty", headers=auth(platform)).json()
    assert program["config_version"] == 3


def broken_example() -> dict[str, Any]:
    broken = copy.deepcopy(EXAMPLE_CONFIG)
    broken["rules"][4]["applies_to"] = ["nope"]
    broken["rules"][7]["wallet"] = "cash"
    broken["tiers"]["levels"][1]["threshold"] = "-5"
    broken["surprise"] = True
    return broken


def test_a_broken_configuration_is_refused_with_every_path(
    client: TestClient, platform: str, container: Container
) -> None:
    create_program(client, platform, slug="beauty", config=EXAMPLE_CONFIG)
    before = table_counts(container)
    put = client.put("/v1/programs/beauty/config", json=broken_example(), headers=auth(platform))
    assert put.status_code == 422
    assert put.headers["content-type"] == "application/problem+json"
    body = put.json()
    assert body["code"] == "validation_error"
    paths = {error["path"] for error in body["errors"]}
    assert {
        "rules[4].applies_to",
        "rules[7].wallet",
        "tiers.levels[1].threshold",
        "surprise",
    } <= paths
    assert table_counts(container) == before
    assert client.get("/v1/programs/beauty/config", headers=auth(platform)).json()["version"] == 1


def test_validate_says_what_is_wrong_and_saves_nothing(
    client: TestClient, platform: str, container: Container
) -> None:
    create_program(client, platform, slug="beauty")
    before = table_counts(container)
    good = client.post(
        "/v1/programs/beauty/config/validate", json=EXAMPLE_CONFIG, headers=auth(platform)
    )
    assert good.json() == {"valid": True, "errors": []}
    bad = client.post(
        "/v1/programs/beauty/config/validate", json=broken_example(), headers=auth(platform)
    )
    assert bad.status_code == 200
    assert bad.json()["valid"] is False
    assert "rules[4].applies_to" in {error["path"] for error in bad.json()["errors"]}
    assert table_counts(container) == before


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("currency", "XXY", "currency"),
        ("currency", "eur", "currency"),
        ("timezone", "Mars/Olympus", "timezone"),
        ("slug", "Has Spaces", "slug"),
        ("country", "France", "country"),
    ],
)
def test_bad_program_fields_are_refused(
    client: TestClient, platform: str, container: Container, field: str, value: str, path: str
) -> None:
    body = {"slug": "ok", "name": "Ok", "currency": "EUR", "timezone": "UTC", field: value}
    before = table_counts(container)
    response = client.post("/v1/programs", json=body, headers=auth(platform))
    assert response.status_code == 422
    assert path in {error["path"] for error in response.json()["errors"]}
    assert table_counts(container) == before


def test_config_errors_at_creation_are_prefixed(client: TestClient, platform: str) -> None:
    body = {
        "slug": "ok",
        "name": "Ok",
        "currency": "EUR",
        "timezone": "UTC",
        "config": {"wallets": {}},
    }
    response = client.post("/v1/programs", json=body, headers=auth(platform))
    assert response.status_code == 422
    assert all(e["path"].startswith("config.") for e in response.json()["errors"])


def test_a_duplicate_slug_is_a_conflict(
    client: TestClient, platform: str, container: Container
) -> None:
    create_program(client, platform, slug="beauty")
    before = table_counts(container)
    again = client.post(
        "/v1/programs",
        json={"slug": "beauty", "name": "Other", "currency": "USD", "timezone": "UTC"},
        headers=auth(platform),
    )
    assert again.status_code == 409
    assert again.json()["code"] == "program_slug_taken"
    assert table_counts(container) == before


def test_program_and_config_writes_are_audited(client: TestClient, platform: str) -> None:
    create_program(client, platform, slug="beauty")
    client.put("/v1/programs/beauty/config", json=EXAMPLE_CONFIG, headers=auth(platform))
    log = client.get("/v1/programs/beauty/audit-log", headers=auth(platform)).json()
    actions = [item["action"] for item in log["items"]]
    assert actions == ["program.config_replaced", "program.created"]
    assert log["items"][0]["actor"]["kind"] == "api_key"
    assert log["items"][0]["after"] == {"config_version": 2}
