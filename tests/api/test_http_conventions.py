"""HTTP conventions a client relies on everywhere: one form of timestamp, field paths as the
client wrote the fields, ``Allow`` naming every method of a path, an empty cursor as none."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.adapters.webhooks import HttpWebhookSender
from patron.bootstrap import Container
from patron.domain.timestamps import DATE_PATTERN, PATTERN
from patron.services import jobs
from tests.factories import COFFEE, RECEIPT, MutableClock, auth, enrol
from tests.ledger_support import audit
from tests.webhook_receiver import Receiver, serve

P = "/v1/programs/shop"
# Anything that starts like a date-time, whatever its separator, offset or fraction.
LOOKS_LIKE_A_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
MOMENT_KEYS = {"at", "since", "until", "period_end", "timestamp"}
FIELD_PATH = re.compile(r"^[a-z_][a-z0-9_]*(\[\d+\]|\.[a-z_][a-z0-9_]*)*$")


def moments(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(path, string) of every value that is, or is named as, a date-time."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "document":
                continue  # a purchase as the client sent it (the export shows it verbatim)
            path = f"{where}.{key}" if where else str(key)
            named = key.endswith("_at") or key in MOMENT_KEYS
            if isinstance(item, str) and (named or LOOKS_LIKE_A_MOMENT.match(item)):
                if not DATE_PATTERN.match(item):
                    yield path, item
            else:
                yield from moments(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from moments(item, f"{where}[{index}]")
    elif isinstance(value, str) and LOOKS_LIKE_A_MOMENT.match(value):
        yield where, value


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve()


def test_every_timestamp_in_every_answer_has_one_form(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    clock: MutableClock,
    receiver: Receiver,
) -> None:
    admin = auth(shop["admin"])
    answers: dict[str, Any] = {}
    container.webhooks = HttpWebhookSender(allow_private=True, timeout=5)  # a loopback receiver

    def keep(name: str, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, (name, response.text)
        answers[name] = response.json()
        return answers[name]

    hook = keep(
        "webhook",
        client.post(f"{P}/webhooks", json={"url": receiver.url, "events": ["*"]}, headers=admin),
        201,
    )
    receiver.secrets = [hook["secret"]]
    clock.advance(seconds=0.25)  # a moment with a fraction of a second
    ada = enrol(client, shop["admin"], program="shop", email="ada@example.com")
    answers["member"] = ada
    enrol(
        client,
        shop["admin"],
        program="shop",
        email="bo@example.com",
        referred_by=ada["referral_code"],
    )
    # Given with an offset and milliseconds, shown in UTC to the second.
    purchase = {
        **RECEIPT,
        "member": {"id": ada["id"]},
        "lines": [{**RECEIPT["lines"][0], "quantity": 20}],
        "payments": [],
        "occurred_at": "2026-03-07T10:30:00.250+01:00",
    }
    keep("purchase", client.post(f"{P}/purchases", json=purchase, headers=admin), 201)
    keep("purchase.read", client.get(f"{P}/purchases/R-1001", headers=admin))
    reward = {**COFFEE, "available_from": "2026-03-01T00:00:00+02:00"}
    keep("reward", client.post(f"{P}/rewards", json=reward, headers=admin), 201)
    redeemed = keep(
        "redemption",
        client.post(
            f"{P}/members/{ada['id']}/redemptions", json={"reward": "coffee"}, headers=admin
        ),
        201,
    )
    code = redeemed["voucher"]["code"]
    clock.advance(seconds=1.5)
    keep("voucher.use", client.post(f"{P}/vouchers/{code}/use", json={}, headers=admin))
    keep("voucher", client.get(f"{P}/vouchers/{code}", headers=admin))
    keep("voucher.reused", client.post(f"{P}/vouchers/{code}/use", json={}, headers=admin), 409)
    override = {"code": "rouge", "until": "2026-06-01T00:00:00.5+02:00", "reason": "VIP"}
    keep(
        "tier.set", client.post(f"{P}/members/{ada['id']}/tier", json=override, headers=admin), 200
    )
    keep("tier", client.get(f"{P}/members/{ada['id']}/tier", headers=admin))
    keep("member.read", client.get(f"{P}/members/{ada['id']}", headers=admin))
    keep("activity", client.get(f"{P}/members/{ada['id']}/activity", headers=admin))
    keep("referrals", client.get(f"{P}/members/{ada['id']}/referrals", headers=admin))
    keep("export", client.get(f"{P}/members/{ada['id']}/export", headers=admin))
    campaign = {
        "code": "spring",
        "name": "Spring",
        "start": "2026-03-10T00:00:00+01:00",
        "end": "2026-03-20T00:00:00.999Z",
        "audience": {},
        "rules": [{"id": "double", "kind": "spend", "points": 2, "per": "1.00"}],
    }
    keep("campaign", client.post(f"{P}/campaigns", json=campaign, headers=admin), 201)
    grant = {
        "external_id": "G-1",
        "wallet": "points",
        "amount": 10,
        "reason": "sorry",
        "members": [ada["id"]],
    }
    keep("grant", client.post(f"{P}/grants", json=grant, headers=admin), 201)
    keep("audit", client.get(f"{P}/audit-log", headers=admin))
    window = {"from": "2026-03-01T00:00:00+01:00", "to": "2026-03-08T00:00:00.5Z"}
    keep("analytics", client.get(f"{P}/analytics/summary", params=window, headers=admin))
    keep("program", client.get(P, headers=admin))

    assert jobs.run_webhooks(container.uow, container.webhooks, clock.now()) > 0
    answers["webhook.payloads"] = [r.json for r in receiver.received]
    keep("deliveries", client.get(f"{P}/webhooks/{hook['id']}/deliveries", headers=admin))

    found = {name: list(moments(body)) for name, body in answers.items()}
    for name in ("member", "purchase", "voucher", "tier", "activity", "deliveries", "audit"):
        assert found[name], f"{name}: no timestamp to check"
    assert answers["voucher"]["used_at"] is not None
    assert answers["voucher.reused"]["used_at"] == answers["voucher"]["used_at"]
    bad = [
        (name, path, text)
        for name, pairs in found.items()
        for path, text in pairs
        if not PATTERN.match(text)
    ]
    assert bad == []
    occurred = {e["occurred_at"] for e in answers["activity"]["items"] if e["type"] == "earn"}
    assert "2026-03-07T09:30:00Z" in occurred
    assert answers["tier"]["current"]["until"] == "2026-05-31T22:00:00Z"
    assert audit(container) == []


def test_dates_stay_dates(client: TestClient, shop: dict[str, str]) -> None:
    member = enrol(client, shop["pos"], program="shop", birth_date="1990-05-04")
    assert member["birth_date"] == "1990-05-04"


def test_a_405_names_every_method_the_path_answers(
    client: TestClient, shop: dict[str, str]
) -> None:
    member = enrol(client, shop["pos"], program="shop")
    for method, path, allowed in (
        ("DELETE", f"{P}/members", "GET, POST"),
        ("PUT", f"{P}/members/{member['id']}", "GET, PATCH"),
        ("DELETE", f"{P}/purchases/preview", "GET, POST"),  # also .../purchases/{external_id}
        ("POST", "/healthz", "GET"),
    ):
        answer = client.request(method, path, headers=auth(shop["admin"]))
        assert answer.status_code == 405, path
        assert answer.headers["allow"] == allowed, path
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "method_not_allowed"
        for other in allowed.split(", "):
            if other == "GET":
                assert client.get(path, headers=auth(shop["admin"])).status_code != 405


@pytest.mark.parametrize(
    "path",
    ["/members", "/members/{member}/activity", "/audit-log"],
)
def test_an_empty_cursor_is_the_first_page(
    client: TestClient, shop: dict[str, str], path: str
) -> None:
    first = enrol(client, shop["admin"], program="shop", email="a@example.com")
    enrol(client, shop["admin"], program="shop", email="b@example.com")
    url = P + path.format(member=first["id"])
    plain = client.get(url, params={"limit": 1}, headers=auth(shop["admin"]))
    empty = client.get(f"{url}?limit=1&cursor=", headers=auth(shop["admin"]))
    assert plain.status_code == 200
    assert empty.status_code == 200, empty.text
    assert empty.json() == plain.json()
    bad = client.get(f"{url}?cursor=nonsense", headers=auth(shop["admin"]))
    assert bad.status_code == 422


MEMBER_PATHS = [
    # (body's member, the errors: {path: message fragment})
    ("ada", None),  # a string is an id: fine up to the lookup
    (5, {"member": "a string or an object"}),
    ({"id": "a", "email": "b@example.com"}, {"member": "exactly one of"}),
    ({"foo": 1}, {"member.foo": "Extra inputs"}),
    ({"email": 5}, {"member.email": "string"}),
    ("", {"member": "at least 1 character"}),
]


@pytest.mark.parametrize(("member", "expected"), MEMBER_PATHS)
@pytest.mark.parametrize("route", ["events", "claim"])
def test_error_paths_name_the_fields_not_the_validators(
    client: TestClient,
    shop: dict[str, str],
    route: str,
    member: Any,
    expected: dict[str, str] | None,
) -> None:
    if route == "events":
        url, body = f"{P}/events", {"external_id": "E-1", "type": "review_posted", "member": member}
    else:
        url, body = f"{P}/purchases/R-1/claim", {"member": member}
    answer = client.post(url, json=body, headers=auth(shop["admin"]))
    if expected is None:
        assert answer.status_code == 404
        return
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert {e["path"] for e in errors} == set(expected), errors
    for error in errors:
        assert expected[error["path"]] in error["message"], error
        assert not error["message"].startswith("Value error"), error


@pytest.mark.parametrize(
    ("url", "body", "paths"),
    [
        (
            "/purchases",
            {**RECEIPT, "member": 5, "lines": [{**RECEIPT["lines"][0], "quantity": "x"}]},
            {"member", "lines[0].quantity"},
        ),
        ("/members", {"consents": {"email_marketing": "yes"}}, {"consents.email_marketing"}),
        (
            "/members",
            {"consents": {"email_marketing": {"granted": "yes"}}},
            {"consents.email_marketing.granted"},
        ),
        ("/members/x/redemptions", {"reward": 5}, {"reward"}),
        ("/rewards", {**COFFEE, "cost": {"wallet": "points"}}, {"cost.amount"}),
    ],
)
def test_every_error_path_is_a_plain_field_path(
    client: TestClient, shop: dict[str, str], url: str, body: dict[str, Any], paths: set[str]
) -> None:
    answer = client.post(P + url, json=body, headers=auth(shop["admin"]))
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert {e["path"] for e in errors} == paths
    assert all(FIELD_PATH.match(e["path"]) for e in errors), errors
