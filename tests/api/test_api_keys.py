"""Program management: the programs of the installation for platform keys, a program's API keys
listed (never the key) and revoked, and ``last_used_at`` kept to the minute."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.factories import MutableClock, auth, create_program

KEY_FIELDS = {"id", "name", "role", "prefix", "created_at", "last_used_at", "revoked_at"}


def make_key(client: TestClient, key: str, role: str = "pos", name: str = "till") -> Any:
    answer = client.post(
        "/v1/programs/shop/api-keys", json={"name": name, "role": role}, headers=auth(key)
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def listed(client: TestClient, key: str, **query: str) -> dict[str, Any]:
    answer = client.get("/v1/programs/shop/api-keys", params=query, headers=auth(key))
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_platform_keys_list_every_program_page_by_page(
    client: TestClient, platform: str, shop: dict[str, str]
) -> None:
    for slug in ("alpha", "zulu"):
        create_program(client, platform, slug=slug)
    first = client.get("/v1/programs", params={"limit": "2"}, headers=auth(platform))
    assert first.status_code == 200, first.text
    assert [p["slug"] for p in first.json()["items"]] == ["alpha", "shop"]
    assert set(first.json()["items"][1]) >= {"id", "slug", "name", "currency", "config_version"}
    cursor = first.json()["next_cursor"]
    second = client.get(
        "/v1/programs", params={"limit": "2", "cursor": cursor}, headers=auth(platform)
    )
    assert [p["slug"] for p in second.json()["items"]] == ["zulu"]
    assert second.json()["next_cursor"] is None

    refused = client.get("/v1/programs", headers=auth(shop["admin"]))
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert client.get("/v1/programs").status_code == 401


def test_a_programs_keys_are_listed_without_the_keys(
    client: TestClient, shop: dict[str, str], platform: str
) -> None:
    made = make_key(client, shop["admin"], role="read", name="reports")
    page = listed(client, shop["admin"])
    assert page["next_cursor"] is None
    by_name = {k["name"]: k for k in page["items"]}
    assert {"admin key", "pos key", "partner key", "read key", "reports"} <= set(by_name)
    assert all(set(k) == KEY_FIELDS for k in page["items"])
    assert by_name["reports"]["id"] == made["id"]
    assert by_name["reports"]["prefix"] == made["prefix"]
    assert by_name["reports"]["role"] == "read"
    assert by_name["reports"]["revoked_at"] is None
    assert made["key"] not in str(page)
    assert made["key"].rsplit("_", 1)[1] not in str(page)
    platform_too = listed(client, platform)
    assert {k["id"] for k in platform_too["items"]} == {k["id"] for k in page["items"]}
    # the platform key belongs to no program: no program lists it
    assert platform.rsplit("_", 1)[0] not in {k["prefix"] for k in page["items"]}

    two = listed(client, shop["admin"], limit="2")
    rest = listed(client, shop["admin"], limit="500", cursor=two["next_cursor"])
    assert [k["id"] for k in two["items"] + rest["items"]] == [k["id"] for k in page["items"]]
    assert client.get("/v1/programs/shop/api-keys", headers=auth(shop["pos"])).status_code == 403


def test_a_revoked_key_answers_401_from_then_on(
    client: TestClient, shop: dict[str, str], platform: str
) -> None:
    till = make_key(client, shop["admin"])
    member_list = "/v1/programs/shop/members?email=a@example.com"
    assert client.get(member_list, headers=auth(till["key"])).status_code == 200
    gone = client.delete(f"/v1/programs/shop/api-keys/{till['id']}", headers=auth(shop["admin"]))
    assert gone.status_code == 204
    assert gone.content == b""
    refused = client.get(member_list, headers=auth(till["key"]))
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthenticated"
    shown = {k["id"]: k for k in listed(client, shop["admin"])["items"]}[till["id"]]
    assert shown["revoked_at"] is not None

    again = client.delete(f"/v1/programs/shop/api-keys/{till['id']}", headers=auth(platform))
    assert again.status_code == 204
    assert {k["id"]: k for k in listed(client, platform)["items"]}[till["id"]] == shown
    log = client.get(
        "/v1/programs/shop/audit-log",
        params={"action": "api_key.revoked"},
        headers=auth(shop["admin"]),
    ).json()["items"]
    assert [(r["target"]["id"], r["after"]["prefix"]) for r in log] == [
        (till["id"], till["prefix"])
    ]


def test_unknown_and_foreign_keys_are_not_found(
    client: TestClient, shop: dict[str, str], platform: str
) -> None:
    other = create_program(client, platform, slug="other")
    foreign = client.post(
        "/v1/programs/other/api-keys", json={"name": "x", "role": "pos"}, headers=auth(platform)
    ).json()
    for key_id in (foreign["id"], "nope", other["id"]):
        answer = client.delete(f"/v1/programs/shop/api-keys/{key_id}", headers=auth(shop["admin"]))
        assert answer.status_code == 404, key_id
        assert answer.json()["code"] == "api_key_not_found"
    assert client.get("/v1/programs/other", headers=auth(foreign["key"])).status_code == 200


@pytest.fixture
def key_writes(container: Container) -> Iterator[list[str]]:
    """The UPDATE statements sent to ``api_keys`` while the test runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_KEYS"):
            seen.append(statement)

    sa.event.listen(container.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(container.engine, "before_cursor_execute", record)


def test_last_used_at_is_written_at_most_once_a_minute(
    client: TestClient, shop: dict[str, str], clock: MutableClock, key_writes: list[str]
) -> None:
    till = make_key(client, shop["admin"])

    def last_used() -> Any:
        return {k["id"]: k for k in listed(client, shop["admin"])["items"]}[till["id"]][
            "last_used_at"
        ]

    assert last_used() is None
    key_writes.clear()
    url = "/v1/programs/shop/members?email=a@example.com"
    first_use = clock.now()
    assert client.get(url, headers=auth(till["key"])).status_code == 200
    clock.advance(seconds=59)
    assert client.get(url, headers=auth(till["key"])).status_code == 200
    assert len(key_writes) == 1  # two requests within a minute: one write
    assert last_used() == first_use.isoformat().replace("+00:00", "Z")

    clock.advance(seconds=2)  # a minute and a second after the first use
    assert client.get(url, headers=auth(till["key"])).status_code == 200
    assert len(key_writes) == 2
    assert last_used() == clock.now().isoformat().replace("+00:00", "Z")
