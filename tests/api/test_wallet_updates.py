"""Passes stay current (SPEC §10): Apple's PassKit web service (register with the pass's token,
401 without it; the serials changed since a tag, 204 when none; the latest pass, 304 when not
modified; unregister; the log) and the wallet job: a balance change pushes exactly once to each
device holding the member's pass (APNs stand-in on loopback) and patches the member's Google
loyalty object (Google stand-in: token exchange, then PATCH)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.adapters.wallet_clients import HttpApnsPusher, HttpGoogleWalletClient
from patron.bootstrap import Container
from patron.services import jobs
from tests import wallet_servers
from tests.factories import MutableClock, auth, create_program, enrol
from tests.wallet_support import ISSUER_ID, PASS_TYPE_ID, wallet_body

P = "/v1/programs/shop"


@pytest.fixture
def stand() -> Iterator[wallet_servers.Stand]:
    yield from wallet_servers.serve()


@pytest.fixture
def wired(container: Container, stand: wallet_servers.Stand) -> Container:
    container.pusher = HttpApnsPusher(stand.url)
    container.google_wallet = HttpGoogleWalletClient(stand.url, token_url=f"{stand.url}/token")
    return container


@pytest.fixture
def card(client: TestClient, shop: dict[str, str]) -> dict[str, Any]:
    """A member of a program with Apple and Google passes, and the member's pass.json."""
    assert (
        client.put(f"{P}/wallet", json=wallet_body(), headers=auth(shop["admin"])).status_code
        == 200
    )
    member = enrol(client, shop["pos"], program="shop", first_name="Ada")
    got = client.get(f"{P}/members/{member['id']}/card.pkpass", headers=auth(shop["pos"]))
    assert got.status_code == 200, got.text
    document = json.loads(zipfile.ZipFile(io.BytesIO(got.content)).read("pass.json"))
    base = document["webServiceURL"].split("://", 1)[1].split("/", 1)[1]
    return {"member": member, "pass": document, "base": "/" + base}


def _registration(card: dict[str, Any], device: str = "device-1") -> str:
    return f"{card['base']}/v1/devices/{device}/registrations/{PASS_TYPE_ID}/{card['member']['id']}"


def _apple(card: dict[str, Any], token: str | None = None) -> dict[str, str]:
    return {"Authorization": f"ApplePass {token or card['pass']['authenticationToken']}"}


def _adjust(client: TestClient, shop: dict[str, str], member: str, amount: int) -> None:
    response = client.post(
        f"{P}/members/{member}/adjustments",
        json={"wallet": "points", "amount": amount, "reason": "goodwill"},
        headers=auth(shop["admin"]),
    )
    assert response.status_code == 201, response.text


def test_the_pass_names_the_programs_web_service(
    card: dict[str, Any], shop: dict[str, str]
) -> None:
    assert card["base"] == f"/wallet/apple/{shop['id']}"


def test_registering_needs_the_passs_token(client: TestClient, card: dict[str, Any]) -> None:
    url = _registration(card)
    body = {"pushToken": "push-1"}
    assert client.post(url, json=body).status_code == 401
    assert client.post(url, json=body, headers=_apple(card, "x" * 40)).status_code == 401
    assert client.post(url, json=body, headers={"Authorization": "Bearer x"}).status_code == 401
    assert client.post(url, json=body, headers=_apple(card)).status_code == 201
    assert client.post(url, json=body, headers=_apple(card)).status_code == 200
    wrong_type = url.replace(PASS_TYPE_ID, "pass.com.example.other")
    assert client.post(wrong_type, json=body, headers=_apple(card)).status_code == 401


def test_another_programs_path_does_not_know_the_pass(
    client: TestClient, platform: str, card: dict[str, Any]
) -> None:
    other = create_program(client, platform, slug="other")
    url = _registration(card).replace(card["base"], f"/wallet/apple/{other['id']}")
    answer = client.post(url, json={"pushToken": "p"}, headers=_apple(card))
    assert answer.status_code in (401, 404)
    assert (
        client.post(
            _registration(card).replace(card["base"], "/wallet/apple/shop"),
            json={"pushToken": "p"},
            headers=_apple(card),
        ).status_code
        == 404
    )


def test_changed_serials_and_the_latest_pass(
    client: TestClient,
    wired: Container,
    clock: MutableClock,
    shop: dict[str, str],
    card: dict[str, Any],
) -> None:
    member = card["member"]["id"]
    assert (
        client.post(
            _registration(card), json={"pushToken": "push-1"}, headers=_apple(card)
        ).status_code
        == 201
    )
    listing = f"{card['base']}/v1/devices/device-1/registrations/{PASS_TYPE_ID}"
    first = client.get(listing)
    assert first.status_code == 200, first.text
    assert first.json()["serialNumbers"] == [member]
    tag = first.json()["lastUpdated"]
    assert client.get(listing, params={"passesUpdatedSince": tag}).status_code == 204
    assert (
        client.get(f"{card['base']}/v1/devices/device-2/registrations/{PASS_TYPE_ID}").status_code
        == 204
    )

    latest = f"{card['base']}/v1/passes/{PASS_TYPE_ID}/{member}"
    assert client.get(latest).status_code == 401
    got = client.get(latest, headers=_apple(card))
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/vnd.apple.pkpass"
    modified = got.headers["last-modified"]
    again = client.get(latest, headers={**_apple(card), "If-Modified-Since": modified})
    assert again.status_code == 304

    clock.advance(minutes=5)
    jobs.run_wallet(wired.uow, wired.wallet(), clock.now())
    _adjust(client, shop, member, 70)
    jobs.run_wallet(wired.uow, wired.wallet(), clock.now())
    assert client.get(listing, params={"passesUpdatedSince": tag}).json()["serialNumbers"] == [
        member
    ]
    fresh = client.get(latest, headers={**_apple(card), "If-Modified-Since": modified})
    assert fresh.status_code == 200
    assert parsedate_to_datetime(fresh.headers["last-modified"]) > parsedate_to_datetime(modified)
    document = json.loads(zipfile.ZipFile(io.BytesIO(fresh.content)).read("pass.json"))
    before = card["pass"]["storeCard"]["headerFields"][0]["value"]
    assert document["storeCard"]["headerFields"][0]["value"] == before + 70


def test_a_balance_change_pushes_exactly_once_per_device_and_patches_google(
    client: TestClient,
    wired: Container,
    clock: MutableClock,
    stand: wallet_servers.Stand,
    shop: dict[str, str],
    card: dict[str, Any],
) -> None:
    member = card["member"]["id"]
    for device, push in (("device-1", "push-1"), ("device-2", "push-2")):
        answer = client.post(
            _registration(card, device), json={"pushToken": push}, headers=_apple(card)
        )
        assert answer.status_code == 201
    bystander = enrol(client, shop["pos"], program="shop", first_name="Bo")
    jobs.run_wallet(wired.uow, wired.wallet(), clock.now())  # the enrolments' facts
    stand.clear()

    clock.advance(minutes=1)
    _adjust(client, shop, member, 25)
    jobs.run_wallet(wired.uow, wired.wallet(), clock.now())
    jobs.run_wallet(wired.uow, wired.wallet(), clock.now())  # nothing new: nothing sent

    pushes = stand.of("POST", "/3/device/")
    assert sorted(c.path for c in pushes) == ["/3/device/push-1", "/3/device/push-2"]
    assert {c.headers["apns-topic"] for c in pushes} == {PASS_TYPE_ID}
    assert all(c.json == {"aps": {}} for c in pushes)
    patches = stand.of("PATCH", "/loyaltyObject/")
    assert [c.path for c in patches] == [f"/loyaltyObject/{ISSUER_ID}.{member}"]
    assert patches[0].headers["authorization"] == "Bearer ya29.test"
    assert (
        patches[0].json["loyaltyPoints"]["balance"]["int"]
        == card["pass"]["storeCard"]["headerFields"][0]["value"] + 25
    )
    assert stand.of("POST", "/token") == []  # the access token of the first run is reused

    stand.clear()
    clock.advance(minutes=1)
    _adjust(client, shop, bystander["id"], 5)  # no device holds this member's pass
    jobs.run_wallet(wired.uow, wired.wallet(), clock.now())
    assert stand.of("POST", "/3/device/") == []


def test_an_unregistered_device_hears_nothing(
    client: TestClient,
    wired: Container,
    clock: MutableClock,
    stand: wallet_servers.Stand,
    shop: dict[str, str],
    card: dict[str, Any],
) -> None:
    url = _registration(card)
    assert client.post(url, json={"pushToken": "push-1"}, headers=_apple(card)).status_code == 201
    assert client.delete(url).status_code == 401
    assert client.delete(url, headers=_apple(card)).status_code == 200
    jobs.run_wallet(wired.uow, wired.wallet(), clock.now())
    stand.clear()
    _adjust(client, shop, card["member"]["id"], 5)
    jobs.run_wallet(wired.uow, wired.wallet(), clock.now())
    assert stand.of("POST", "/3/device/") == []


def test_without_clients_the_job_still_marks_passes_changed(
    client: TestClient,
    container: Container,
    clock: MutableClock,
    shop: dict[str, str],
    card: dict[str, Any],
) -> None:
    assert (
        client.post(
            _registration(card), json={"pushToken": "push-1"}, headers=_apple(card)
        ).status_code
        == 201
    )
    listing = f"{card['base']}/v1/devices/device-1/registrations/{PASS_TYPE_ID}"
    tag = client.get(listing).json()["lastUpdated"]
    clock.advance(minutes=1)
    _adjust(client, shop, card["member"]["id"], 5)
    report = jobs.run_due(container.uow, clock.now(), program="shop", wallet=container.wallet())
    assert report.done["shop"]["wallet"] == 0  # nothing to push through
    assert client.get(listing, params={"passesUpdatedSince": tag}).status_code == 200


def test_the_device_log_is_accepted(client: TestClient, card: dict[str, Any]) -> None:
    answer = client.post(f"{card['base']}/v1/log", json={"logs": ["signature invalid"]})
    assert answer.status_code == 200


def test_erasing_the_member_forgets_the_devices(
    client: TestClient,
    wired: Container,
    clock: MutableClock,
    stand: wallet_servers.Stand,
    shop: dict[str, str],
    card: dict[str, Any],
) -> None:
    url = _registration(card)
    assert client.post(url, json={"pushToken": "push-1"}, headers=_apple(card)).status_code == 201
    member = card["member"]["id"]
    erased = client.post(f"{P}/members/{member}/erase", headers=auth(shop["admin"]))
    assert erased.status_code == 200, erased.text
    listing = f"{card['base']}/v1/devices/device-1/registrations/{PASS_TYPE_ID}"
    assert client.get(listing).status_code == 204
    stand.clear()
    jobs.run_wallet(wired.uow, wired.wallet(), clock.now())
    assert stand.of("POST", "/3/device/") == []


def test_a_token_apns_says_is_gone_is_forgotten(
    client: TestClient,
    wired: Container,
    clock: MutableClock,
    stand: wallet_servers.Stand,
    shop: dict[str, str],
    card: dict[str, Any],
) -> None:
    for device, push in (("device-1", "push-1"), ("device-2", "push-2")):
        answer = client.post(
            _registration(card, device), json={"pushToken": push}, headers=_apple(card)
        )
        assert answer.status_code == 201
    jobs.run_wallet(wired.uow, wired.wallet(), clock.now())
    stand.gone_tokens.add("push-1")
    _adjust(client, shop, card["member"]["id"], 5)
    assert jobs.run_wallet(wired.uow, wired.wallet(), clock.now()) >= 1
    stand.clear()
    _adjust(client, shop, card["member"]["id"], 5)
    jobs.run_wallet(wired.uow, wired.wallet(), clock.now())
    assert [c.path for c in stand.of("POST", "/3/device/")] == ["/3/device/push-2"]
    listing = f"{card['base']}/v1/devices/device-1/registrations/{PASS_TYPE_ID}"
    assert client.get(listing).status_code == 204
