"""Abuse limits through the API: rate limits (429 + Retry-After), the body cap (413), list caps
(422) and the entropy of voucher codes. The limits here are tiny so the tests stay short; the
defaults and their reasons are in docs/api.md, "Limits"."""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from patron.adapters.ratelimit import RateLimited, RateLimiter, parse_limits
from patron.api.app import create_app
from patron.bootstrap import Container, build, rate_limiter
from patron.config import Settings
from patron.domain import ids, rewards
from patron.domain.rewards import display_voucher, new_voucher_code
from tests.conftest import table_counts
from tests.factories import MutableClock, auth, enrol

VOUCHERS_PER_KEY, VOUCHERS_PER_ADDRESS = 5, 8
LOOKUPS_PER_KEY, LOOKUPS_PER_ADDRESS = 4, 6
AUTH_FAILURES = 3
BODY_CAP = 4096

LIMITED = {
    "rate_limit_vouchers_per_key": f"{VOUCHERS_PER_KEY}/minute",
    "rate_limit_vouchers_per_address": f"{VOUCHERS_PER_ADDRESS}/minute",
    "rate_limit_member_lookups_per_key": f"{LOOKUPS_PER_KEY}/minute",
    "rate_limit_member_lookups_per_address": f"{LOOKUPS_PER_ADDRESS}/minute",
    "rate_limit_auth_failures_per_address": f"{AUTH_FAILURES}/minute",
    "max_body_bytes": BODY_CAP,
}


@pytest.fixture
def container(db_url: str, clock: MutableClock) -> Iterator[Container]:
    """The shared fixtures (client, shop) on a container with tiny limits."""
    box = build(
        Settings(database_url=db_url, auto_upgrade=False, pool_size=5, **LIMITED), clock=clock
    )
    yield box
    box.close()


def elsewhere(container: Container, host: str) -> TestClient:
    """A second client of the same app and counters, from another address."""
    return TestClient(create_app(container), raise_server_exceptions=False, client=(host, 4000))


def assert_rate_limited(response: Any) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "rate_limited"
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit()
    assert 1 <= int(retry_after) <= 60
    return int(retry_after)


def random_code() -> str:
    return display_voucher("".join(secrets.choice(ids.HUMAN_ALPHABET) for _ in range(18)))


# --- voucher codes resist guessing ---------------------------------------------------------


def test_voucher_codes_carry_at_least_80_bits_from_the_generator() -> None:
    """The entropy follows from the generator's alphabet and length (secrets.choice draws each
    character uniformly), so it is computed from those, and the codes are checked to use them."""
    bits = rewards.VOUCHER_LENGTH * math.log2(len(set(ids.HUMAN_ALPHABET)))
    assert bits >= 80
    codes = {new_voucher_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == rewards.VOUCHER_LENGTH for c in codes)
    assert set("".join(codes)) == set(ids.HUMAN_ALPHABET)  # the whole alphabet is drawn from
    assert not set(ids.HUMAN_ALPHABET) & set("01ILOU")  # readable: no look-alikes


def test_random_voucher_codes_are_not_found_then_rate_limited(
    client: TestClient, shop: dict[str, str]
) -> None:
    for _ in range(VOUCHERS_PER_KEY):
        response = client.get(
            f"/v1/programs/shop/vouchers/{random_code()}", headers=auth(shop["pos"])
        )
        assert response.status_code == 404
        assert response.json()["code"] == "voucher_not_found"
    assert_rate_limited(
        client.get(f"/v1/programs/shop/vouchers/{random_code()}", headers=auth(shop["pos"]))
    )
    # uses share the bucket: a guess through POST .../use is refused the same way
    assert_rate_limited(
        client.post(
            f"/v1/programs/shop/vouchers/{random_code()}/use", json={}, headers=auth(shop["pos"])
        )
    )


def test_voucher_uses_count_and_a_real_voucher_is_refused_once_over_the_limit(
    client: TestClient, shop: dict[str, str]
) -> None:
    reward = {
        "code": "coffee",
        "name": "Coffee",
        "cost": {"wallet": "points", "amount": 10},
        "kind": "free_item",
        "value": "COFFEE",
        "voucher_valid_days": 30,
    }
    assert (
        client.post(
            "/v1/programs/shop/rewards", json=reward, headers=auth(shop["admin"])
        ).status_code
        == 201
    )
    member = enrol(client, shop["pos"], program="shop")["id"]
    client.post(
        f"/v1/programs/shop/members/{member}/adjustments",
        json={"wallet": "points", "amount": 100, "reason": "test"},
        headers=auth(shop["admin"]),
    )
    redeemed = client.post(
        f"/v1/programs/shop/members/{member}/redemptions",
        json={"reward": "coffee"},
        headers=auth(shop["pos"]),
    )
    code = redeemed.json()["voucher"]["code"]
    for _ in range(VOUCHERS_PER_KEY - 1):
        url = f"/v1/programs/shop/vouchers/{random_code()}/use"
        assert client.post(url, json={}, headers=auth(shop["pos"])).status_code == 404
    assert (
        client.get(f"/v1/programs/shop/vouchers/{code}", headers=auth(shop["pos"])).json()["status"]
        == "issued"
    )
    assert_rate_limited(
        client.post(f"/v1/programs/shop/vouchers/{code}/use", json={}, headers=auth(shop["pos"]))
    )
    # the refused use changed nothing; another key (another till) still validates it
    found = client.get(f"/v1/programs/shop/vouchers/{code}", headers=auth(shop["admin"]))
    assert found.status_code == 200
    assert found.json()["status"] == "issued"


def test_voucher_limits_count_per_key_and_per_address(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    def look(c: TestClient, key: str) -> int:
        url = f"/v1/programs/shop/vouchers/{random_code()}"
        return c.get(url, headers=auth(shop[key])).status_code

    # one address, two keys: the address's limit is reached before either key's
    assert [look(client, "pos") for _ in range(VOUCHERS_PER_KEY)] == [404] * VOUCHERS_PER_KEY
    extra = VOUCHERS_PER_ADDRESS - VOUCHERS_PER_KEY
    assert [look(client, "read") for _ in range(extra)] == [404] * extra
    assert_rate_limited(
        client.get(f"/v1/programs/shop/vouchers/{random_code()}", headers=auth(shop["read"]))
    )
    with elsewhere(container, "192.0.2.10") as other:
        # the exhausted key is refused from any address ...
        assert_rate_limited(
            other.get(f"/v1/programs/shop/vouchers/{random_code()}", headers=auth(shop["pos"]))
        )
        # ... while another key from another address is not
        assert look(other, "read") == 404


# --- member lookups by identifier ----------------------------------------------------------


def test_member_lookups_by_identifier_are_limited_and_plain_lists_are_not(
    client: TestClient, shop: dict[str, str]
) -> None:
    enrol(client, shop["pos"], program="shop", email="ada@example.com")
    probes = [
        "email=ada@example.com",
        "phone=%2B33612345678",
        "external_id=C-404",
        "card_number=8000000000000000",
    ]
    for query in probes:
        response = client.get(f"/v1/programs/shop/members?{query}", headers=auth(shop["pos"]))
        assert response.status_code == 200, response.text
    assert_rate_limited(
        client.get("/v1/programs/shop/members?referral_code=ABCDEFGH", headers=auth(shop["pos"]))
    )
    # listing without an identifier (a reporting key's bulk read) is not counted
    for _ in range(LOOKUPS_PER_KEY + 1):
        listed = client.get("/v1/programs/shop/members?status=active", headers=auth(shop["read"]))
        assert listed.status_code == 200


def purchase(member: dict[str, str], external_id: str) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "member": member,
        "lines": [{"sku": "A", "quantity": 1, "unit_price": "10.00"}],
    }


def test_writes_naming_unknown_members_count_and_are_refused_once_over(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    known = enrol(client, shop["pos"], program="shop", email="known@example.com")
    url = "/v1/programs/shop/purchases"
    # a till naming a known member is never counted
    for i in range(LOOKUPS_PER_KEY + 2):
        body = purchase({"email": "known@example.com"}, f"R-{i}")
        assert client.post(url, json=body, headers=auth(shop["pos"])).status_code == 201
    # each unknown identifier is one lookup, through purchases, previews, events and claims
    misses = [
        client.post(
            url, json=purchase({"email": "nobody@example.com"}, "X-1"), headers=auth(shop["pos"])
        ),
        client.post(
            f"{url}/preview",
            json=purchase({"card_number": "8000000000000000"}, "X-2"),
            headers=auth(shop["pos"]),
        ),
        client.post(
            "/v1/programs/shop/events",
            json={
                "external_id": "E-1",
                "member": {"phone": "+33699999999"},
                "type": "review_posted",
            },
            headers=auth(shop["pos"]),
        ),
        client.post(
            "/v1/programs/shop/members",
            json={"referred_by": "ZZZZZZZZ"},
            headers=auth(shop["pos"]),
        ),
    ]
    assert [m.status_code for m in misses] == [404, 404, 404, 422]
    before = table_counts(container)
    # exhausted: a request naming a member by identifier is refused before the lookup, so a
    # known member cannot be told from an unknown one ...
    assert_rate_limited(
        client.post(
            url, json=purchase({"email": "known@example.com"}, "R-late"), headers=auth(shop["pos"])
        )
    )
    assert_rate_limited(
        client.post(
            url, json=purchase({"email": "nobody@example.com"}, "R-late"), headers=auth(shop["pos"])
        )
    )
    assert table_counts(container) == before
    # ... while naming the member by id still works
    by_id = client.post(url, json=purchase({"id": known["id"]}, "R-id"), headers=auth(shop["pos"]))
    assert by_id.status_code == 201


# --- authentication failures ---------------------------------------------------------------


def test_failed_authentications_are_limited_per_address_before_the_key_is_checked(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    program = "/v1/programs/shop"
    # successes are not counted: many of them, then the failures still get their 401s
    for _ in range(AUTH_FAILURES * 3):
        assert client.get(program, headers=auth(shop["read"])).status_code == 200
    for _ in range(AUTH_FAILURES):
        guess = f"pat_{secrets.token_hex(4)}_{secrets.token_hex(16)}"
        refused = client.get(program, headers=auth(guess))
        assert refused.status_code == 401
        assert refused.json()["code"] == "unauthenticated"
    assert_rate_limited(client.get(program, headers=auth("pat_wrong_guess")))
    # over the limit even the right key is refused, so a lucky guess cannot be recognised
    assert_rate_limited(client.get(program, headers=auth(shop["read"])))
    # no key at all is not a guess and is still simply 401
    assert client.get(program).status_code == 401
    with elsewhere(container, "192.0.2.20") as other:
        assert other.get(program, headers=auth(shop["read"])).status_code == 200


def test_rate_limits_can_be_turned_off(db_url: str, clock: MutableClock) -> None:
    settings = Settings(
        database_url=db_url, auto_upgrade=False, rate_limits_enabled=False, **LIMITED
    )
    box = build(settings, clock=clock)
    try:
        with TestClient(create_app(box), raise_server_exceptions=False) as client:
            statuses = {
                client.get("/v1/programs/shop", headers=auth("pat_x_y")).status_code
                for _ in range(AUTH_FAILURES * 2)
            }
        assert statuses == {401}
    finally:
        box.close()


def test_limit_settings_are_checked_when_the_process_starts() -> None:
    with pytest.raises(ValidationError, match="rate_limit_vouchers_per_key"):
        Settings(rate_limit_vouchers_per_key="sixty a minute")
    with pytest.raises(ValueError, match="rate limit storage"):
        RateLimiter({}, storage_uri="carrier-pigeon://coop")
    assert [str(item) for item in parse_limits("60/minute; 1000/hour")] == [
        "60 per 1 minute",
        "1000 per 1 hour",
    ]
    assert parse_limits("none") == ()


@pytest.mark.parametrize("strategy", ["moving-window", "fixed-window"])
def test_the_storage_setting_is_a_limits_uri(
    monkeypatch: pytest.MonkeyPatch, strategy: str
) -> None:
    monkeypatch.setenv("PATRON_RATE_LIMIT_STORAGE", "memory://")
    monkeypatch.setenv("PATRON_RATE_LIMIT_STRATEGY", strategy)
    monkeypatch.setenv("PATRON_RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS", "2/minute")
    settings = Settings()
    assert settings.rate_limit_storage == "memory://"
    limiter = rate_limiter(settings)
    limiter.hit("auth_failures", address="198.51.100.1")
    limiter.hit("auth_failures", address="198.51.100.1")
    with pytest.raises(RateLimited, match="too many auth failures") as raised:
        limiter.check("auth_failures", address="198.51.100.1")
    assert 1 <= raised.value.retry_after <= 60
    limiter.check("auth_failures", address="198.51.100.2")


# --- body and list caps --------------------------------------------------------------------


def test_a_body_over_the_cap_is_413_and_changes_nothing(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    before = table_counts(container)
    body = {"attributes": {"note": "x" * BODY_CAP}}
    response = client.post("/v1/programs/shop/members", json=body, headers=auth(shop["pos"]))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "payload_too_large"
    assert table_counts(container) == before
    small = client.post(
        "/v1/programs/shop/members", json={"attributes": {"note": "x"}}, headers=auth(shop["pos"])
    )
    assert small.status_code == 201


def drive(
    app: Any, headers: list[tuple[bytes, bytes]], chunk: bytes, limit: int
) -> tuple[int, int]:
    """Send an endless chunked body straight to the ASGI app; answer (status, chunks read)."""
    read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        if read > limit:  # a safety net for the test itself: the app should stop long before
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/programs/shop/members",
        "raw_path": b"/v1/programs/shop/members",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], read


def test_a_chunked_body_is_read_only_up_to_the_cap(container: Container) -> None:
    app = create_app(container)
    chunk = b"[" * 1000
    status, read = drive(app, [(b"transfer-encoding", b"chunked")], chunk, limit=10_000)
    assert status == 413
    assert read == BODY_CAP // len(chunk) + 1  # stopped at the first chunk past the cap
    # a declared length over the cap is refused before a single byte is read
    status, read = drive(app, [(b"content-length", str(10 * BODY_CAP).encode())], chunk, limit=10)
    assert (status, read) == (413, 0)


def test_the_default_cap_is_one_mebibyte(db_url: str, clock: MutableClock) -> None:
    box = build(Settings(database_url=db_url, auto_upgrade=False), clock=clock)
    try:
        with TestClient(create_app(box), raise_server_exceptions=False) as client:
            over = client.post("/v1/programs", content=b" " * (1024 * 1024 + 1))
            under = client.post("/v1/programs", content=b" " * (1024 * 1024))
        assert over.status_code == 413
        assert under.status_code == 401  # read, then refused for the missing key
    finally:
        box.close()


@pytest.mark.parametrize("strategy", ["moving-window", "fixed-window"])
def test_api_processes_share_counters_through_a_shared_storage(
    db_url: str,
    clock: MutableClock,
    redis_url: str,
    strategy: Literal["moving-window", "fixed-window"],
) -> None:
    """Two containers stand for two API processes: with one storage URI they count together."""
    settings = Settings(
        database_url=db_url,
        auto_upgrade=False,
        rate_limit_storage=redis_url,
        rate_limit_strategy=strategy,
        rate_limit_auth_failures_per_address="4/minute",
    )
    first, second = build(settings, clock=clock), build(settings, clock=clock)
    # An address of this test alone: tests running at once (pytest -n) share the Redis
    # database, so none of them may reset it.
    address = f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}:{secrets.token_hex(2)}"
    try:
        with (
            TestClient(create_app(first), client=(address, 1)) as one,
            TestClient(create_app(second), client=(address, 2)) as two,
        ):
            statuses = [
                (one if i % 2 else two).get("/v1/programs/x", headers=auth("pat_a_b")).status_code
                for i in range(5)
            ]
        assert statuses == [401, 401, 401, 401, 429]
    finally:
        first.close()
        second.close()
