"""Members through the API: enrolment, identifiers, lookups, updates, consent, status."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.domain.ids import luhn_valid
from tests.conftest import table_counts
from tests.factories import MutableClock, auth, enrol


def test_enrol_returns_the_member_shape(client: TestClient, shop: dict[str, str]) -> None:
    member = enrol(
        client,
        shop["pos"],
        program="shop",
        external_id="C-1",
        email="Ada@Example.com",
        phone="06 12 34 56 78",
        first_name="Ada",
        last_name="L",
        birth_date="1990-05-04",
        attributes={"store": "S1"},
        consents={"email_marketing": True, "sms_marketing": False},
    )
    assert member["external_id"] == "C-1"
    assert member["email"] == "Ada@example.com"  # domain part normalised, local part kept
    assert member["phone"] == "+33612345678"  # read in the program's country (FR), stored E.164
    assert member["status"] == "active"
    assert luhn_valid(member["card_number"])
    assert len(member["card_number"]) == 16
    assert len(member["referral_code"]) == 8
    assert member["consents"] == {"email_marketing": True, "sms_marketing": False}
    assert member["consent_records"]["email_marketing"]["source"].startswith("api_key:")
    assert member["balances"] == {
        "points": {
            "available": 50,  # the example configuration's signup event
            "pending": 0,
            "lifetime_earned": 50,
            "expiring": [{"amount": 50, "expires_at": "2027-03-31T22:00:00Z"}],
        },
        "credit": {
            "available": "0.00",
            "pending": "0.00",
            "lifetime_earned": "0.00",
            "expiring": [],
        },
    }
    # every member starts on the first level of the ladder
    assert member["tier"] == {
        "code": "insider",
        "name": "Insider",
        "since": "2026-03-07T10:00:00Z",
        "until": None,
    }
    assert member["enrolled_at"] == "2026-03-07T10:00:00Z"


def test_a_member_is_found_by_every_identifier(client: TestClient, shop: dict[str, str]) -> None:
    member = enrol(
        client,
        shop["pos"],
        program="shop",
        external_id="C-9",
        email="grace@example.com",
        phone="+14155550123",
    )
    enrol(client, shop["pos"], program="shop", external_id="C-10", email="other@example.com")
    spaced_card = " ".join(member["card_number"][i : i + 4] for i in range(0, 16, 4))
    for query in (
        {"external_id": "C-9"},
        {"email": "GRACE@example.COM"},
        {"phone": "+1 415-555-0123"},
        {"card_number": spaced_card},
        {"referral_code": member["referral_code"].lower()},
    ):
        found = client.get("/v1/programs/shop/members", params=query, headers=auth(shop["read"]))
        assert found.status_code == 200, query
        assert [m["id"] for m in found.json()["items"]] == [member["id"]], query
    single = client.get(f"/v1/programs/shop/members/{member['id']}", headers=auth(shop["read"]))
    assert single.json()["id"] == member["id"]


def test_lookups_that_cannot_match_return_nothing(client: TestClient, shop: dict[str, str]) -> None:
    enrol(client, shop["pos"], program="shop", email="a@example.com")
    for query in (
        {"email": "not-an-email"},
        {"phone": "12"},
        {"card_number": "1234567812345678"},
        {"tier": "vib"},
    ):
        found = client.get("/v1/programs/shop/members", params=query, headers=auth(shop["read"]))
        assert found.json() == {"items": [], "next_cursor": None}, query


@pytest.mark.parametrize(
    ("first", "second", "field"),
    [
        ({"email": "a@example.com"}, {"email": "A@EXAMPLE.com"}, "email"),
        ({"phone": "+33612345678"}, {"phone": "06 12 34 56 78"}, "phone"),
        ({"external_id": "X"}, {"external_id": "X"}, "external_id"),
    ],
)
def test_a_taken_identifier_is_a_conflict(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    first: dict[str, str],
    second: dict[str, str],
    field: str,
) -> None:
    enrol(client, shop["pos"], program="shop", **first)
    before = table_counts(container)
    again = client.post("/v1/programs/shop/members", json=second, headers=auth(shop["pos"]))
    assert again.status_code == 409
    assert again.json()["code"] == "identifier_taken"
    assert again.json()["fields"] == [field]
    assert table_counts(container) == before


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "123"}, "phone"),
        ({"phone": "+1 555"}, "phone"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "yesterday"}, "birth_date"),
        ({"balance": 100}, "balance"),
        ({"tier": "rouge"}, "tier"),
        ({"status": "frozen"}, "status"),
        ({"first_name": 12}, "first_name"),
        ({"consents": {"email_marketing": "yes"}}, "consents.email_marketing"),
        ({"enrolled_at": "2026-03-01T10:00:00"}, "enrolled_at"),
        ({"enrolled_at": "2030-03-01T10:00:00Z"}, "enrolled_at"),
        ({"referred_by": "NOSUCH01"}, "referred_by"),
    ],
)
def test_bad_member_input_is_refused_and_changes_nothing(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    body: dict[str, object],
    path: str,
) -> None:
    before = table_counts(container)
    response = client.post("/v1/programs/shop/members", json=body, headers=auth(shop["admin"]))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert path in {error["path"] for error in response.json()["errors"]}
    assert table_counts(container) == before


def test_referred_by_links_the_referrer(client: TestClient, shop: dict[str, str]) -> None:
    referrer = enrol(client, shop["pos"], program="shop", email="r@example.com")
    referee = enrol(
        client,
        shop["pos"],
        program="shop",
        email="f@example.com",
        referred_by=referrer["referral_code"].lower(),
    )
    assert referee["referred_by"] == referrer["id"]


def test_patch_updates_profile_consent_and_attributes(
    client: TestClient, shop: dict[str, str], clock: MutableClock
) -> None:
    member = enrol(
        client,
        shop["pos"],
        program="shop",
        email="a@example.com",
        attributes={"store": "S1", "shoe_size": 38},
        consents={"email_marketing": True},
    )
    clock.advance(days=1)
    patched = client.patch(
        f"/v1/programs/shop/members/{member['id']}",
        json={
            "first_name": "Ada",
            "phone": "+33612345678",
            "attributes": {"shoe_size": None, "vip": True},
            "consents": {"email_marketing": {"granted": False, "source": "unsubscribe-link"}},
        },
        headers=auth(shop["pos"]),
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["first_name"] == "Ada"
    assert body["phone"] == "+33612345678"
    assert body["attributes"] == {"store": "S1", "vip": True}
    assert body["consents"] == {"email_marketing": False}
    record = body["consent_records"]["email_marketing"]
    assert record == {
        "granted": False,
        "recorded_at": "2026-03-08T10:00:00Z",
        "source": "unsubscribe-link",
    }
    log = client.get(
        "/v1/programs/shop/audit-log",
        params={"target_id": member["id"]},
        headers=auth(shop["admin"]),
    ).json()["items"]
    assert [item["action"] for item in log] == ["member.updated", "member.enrolled"]
    assert log[0]["before"]["first_name"] is None
    assert log[0]["after"]["first_name"] == "Ada"


def test_only_admins_change_status(client: TestClient, shop: dict[str, str]) -> None:
    member = enrol(client, shop["pos"], program="shop", email="a@example.com")
    url = f"/v1/programs/shop/members/{member['id']}"
    refused = client.patch(url, json={"status": "frozen"}, headers=auth(shop["pos"]))
    assert refused.status_code == 403
    frozen = client.patch(url, json={"status": "frozen"}, headers=auth(shop["admin"]))
    assert frozen.json()["status"] == "frozen"
    erased = client.patch(url, json={"status": "erased"}, headers=auth(shop["admin"]))
    assert erased.status_code == 422


def test_patch_to_a_taken_identifier_is_a_conflict(
    client: TestClient, shop: dict[str, str]
) -> None:
    enrol(client, shop["pos"], program="shop", email="a@example.com")
    other = enrol(client, shop["pos"], program="shop", email="b@example.com")
    response = client.patch(
        f"/v1/programs/shop/members/{other['id']}",
        json={"email": "A@example.com"},
        headers=auth(shop["pos"]),
    )
    assert response.status_code == 409
    unchanged = client.get(f"/v1/programs/shop/members/{other['id']}", headers=auth(shop["pos"]))
    assert unchanged.json()["email"] == "b@example.com"


def test_listing_pages_through_every_member_once(client: TestClient, shop: dict[str, str]) -> None:
    ids = {enrol(client, shop["pos"], program="shop", external_id=f"M{i}")["id"] for i in range(7)}
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get(
            "/v1/programs/shop/members", params=params, headers=auth(shop["read"])
        ).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    assert len(seen) == 7


def test_bad_cursor_and_limit_are_refused(client: TestClient, shop: dict[str, str]) -> None:
    for params in ({"cursor": "garbage!"}, {"limit": 0}, {"limit": 501}):
        response = client.get(
            "/v1/programs/shop/members", params=params, headers=auth(shop["read"])
        )
        assert response.status_code == 422, params


def test_an_unknown_member_is_404(client: TestClient, shop: dict[str, str]) -> None:
    response = client.get("/v1/programs/shop/members/nope", headers=auth(shop["read"]))
    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"
