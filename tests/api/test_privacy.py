"""Privacy (SPEC §8): a member's data export, and erasure that removes the person but keeps the
books balanced, through the API with real storage."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from patron.adapters.db.tables import metadata
from patron.adapters.webhooks import HttpWebhookSender
from patron.bootstrap import Container
from patron.cli import transfer
from patron.domain.webhooks import RETRY_DELAYS
from patron.services import jobs
from tests.conftest import table_counts
from tests.factories import COFFEE, MutableClock, auth, buy, create_program, enrol, program_key
from tests.ledger_support import audit
from tests.webhook_receiver import serve

ADA = {
    "external_id": "CUST-ADELHEID-77",
    "email": "Adelheid.Quixotica@Example.org",
    "phone": "+33 6 12 34 56 78",
    "first_name": "Adelheid",
    "last_name": "Quixotica",
    "birth_date": "1984-07-19",
    "attributes": {"favourite_scent": "vetiver-noir", "store": "S1"},
    "consents": {
        "email_marketing": {"granted": True, "at": "2026-03-01T09:00:00Z", "source": "web-form"},
        "sms_marketing": False,
    },
}
BOB = {
    "external_id": "CUST-BARTHOLOMEW-12",
    "email": "bartholomew.zygmunt@example.net",
    "phone": "+33 6 98 76 54 32",
    "first_name": "Bartholomew",
    "last_name": "Zygmunt",
}
CARA = {
    "external_id": "CUST-CASSIOPEIA-3",
    "email": "cassiopeia.vantongeren@example.com",
    "phone": "+33 6 44 55 66 77",
    "first_name": "Cassiopeia",
    "last_name": "Vantongeren",
}
ADA_TRACES = (
    "adelheid",
    "quixotica",
    "+33612345678",
    "cust-adelheid-77",
    "1984-07-19",
    "vetiver-noir",
)


def _traces(person: dict[str, Any]) -> list[str]:
    phone = "+" + "".join(ch for ch in person["phone"] if ch.isdigit())
    return [
        person["email"].lower(),
        phone,
        person["first_name"].lower(),
        person["last_name"].lower(),
        person["external_id"].lower(),
    ]


def post(
    client: TestClient, key: str, path: str, body: Any = None, *, once: str | None = None
) -> Any:
    headers = auth(key) | ({"Idempotency-Key": once} if once else {})
    return client.post(f"/v1/programs/shop{path}", json=body, headers=headers)


def lipstick(
    client: TestClient, key: str, member: dict[str, Any], external_id: str, amount: str
) -> Any:
    # with an idempotency key: the remembered answer is one more copy erasure must find
    return buy(
        client,
        key,
        program="shop",
        member=member,
        external_id=external_id,
        amount=amount,
        at="2026-03-06T10:00:00Z",
        sku="LIP-01",
        category=None,
        idempotency_key=f"buy-{external_id}",
    )


@pytest.fixture
def people(client: TestClient, shop: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Bob referred Ada, Ada referred Cara; Ada bought, redeemed, was refunded (her points
    balance went negative), has pending points, store credit, an event and a tier grant."""
    pos, admin = shop["pos"], shop["admin"]
    assert post(client, admin, "/rewards", COFFEE).status_code == 201
    bob = enrol(client, pos, program="shop", **BOB)
    ada = enrol(
        client,
        pos,
        program="shop",
        **ADA,
        referred_by=bob["referral_code"],
        idempotency_key="enrol-ada",
    )
    cara = enrol(client, pos, program="shop", **CARA, referred_by=ada["referral_code"])
    # Ada's first purchase completes Bob's referral; Cara's completes Ada's
    lipstick(client, pos, {"email": ADA["email"]}, "R-ADA-1", "40.00")
    lipstick(client, pos, {"id": cara["id"]}, "R-CARA-1", "30.00")
    lipstick(client, pos, {"id": bob["id"]}, "R-BOB-1", "12.00")
    points = _available(client, admin, ada["id"])
    voucher = post(client, pos, f"/members/{ada['id']}/redemptions", {"reward": "coffee"})
    assert voucher.status_code == 201, voucher.text
    spent = post(
        client,
        pos,
        f"/members/{ada['id']}/redemptions",
        {"wallet": "points", "amount": points - 100},
    )
    assert spent.status_code == 201, spent.text
    refunded = post(client, pos, "/purchases/R-ADA-1/refunds", {"external_id": "F-ADA-1"})
    assert refunded.status_code == 201, refunded.text
    assert _available(client, admin, ada["id"]) < 0  # a deficit left by the clawback
    event = post(
        client,
        pos,
        "/events",
        {"external_id": "E-ADA-1", "member": ada["id"], "type": "review_posted"},
    )
    assert event.status_code == 201, event.text
    granted = post(
        client, admin, f"/members/{ada['id']}/tier", {"code": "vib", "reason": "goodwill"}
    )
    assert granted.status_code in (200, 201), granted.text
    changed = client.patch(
        f"/v1/programs/shop/members/{ada['id']}",
        json=_PATCH,
        headers=auth(admin) | {"Idempotency-Key": "patch-ada"},
    )
    assert changed.status_code == 200, changed.text
    # new points wait 14 days: Ada ends with pending points beside her deficit, and credit
    config = client.get("/v1/programs/shop/config", headers=auth(admin)).json()["config"]
    config["wallets"]["points"]["pending_days"] = 14
    assert client.put("/v1/programs/shop/config", json=config, headers=auth(admin)).is_success
    lipstick(client, pos, {"id": ada["id"]}, "R-ADA-2", "20.00")
    return {"ada": ada, "bob": bob, "cara": cara}


_PATCH = {"consents": {"sms_marketing": True}, "attributes": {"size": "M"}}


def _available(client: TestClient, key: str, member: str) -> int:
    got = client.get(f"/v1/programs/shop/members/{member}", headers=auth(key)).json()
    return int(got["balances"]["points"]["available"])


def _export(client: TestClient, key: str, member: str) -> dict[str, Any]:
    response = client.get(f"/v1/programs/shop/members/{member}/export", headers=auth(key))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# --- export ----------------------------------------------------------------------------------


def test_the_export_holds_all_of_the_member(
    client: TestClient, shop: dict[str, str], people: dict[str, dict[str, Any]]
) -> None:
    ada, bob, cara = people["ada"], people["bob"], people["cara"]
    got = _export(client, shop["admin"], ada["id"])

    profile = got["member"]
    assert (profile["id"], profile["email"], profile["first_name"]) == (
        ada["id"],
        "Adelheid.Quixotica@example.org",
        "Adelheid",
    )
    assert profile["attributes"] == {"favourite_scent": "vetiver-noir", "store": "S1", "size": "M"}
    assert got["identifiers"] == {
        "member_id": ada["id"],
        "external_id": ADA["external_id"],
        "email": "Adelheid.Quixotica@example.org",
        "phone": "+33612345678",
        "card_numbers": [ada["card_number"]],
        "referral_code": ada["referral_code"],
    }
    consents = [
        (c["channel"], c["granted"], c["recorded_at"], c["source"]) for c in got["consents"]
    ]
    admin_id = f"api_key:{_key_id(client, shop, 'admin')}"
    pos_id = f"api_key:{_key_id(client, shop, 'pos')}"
    assert consents == [
        ("email_marketing", True, "2026-03-01T09:00:00Z", "web-form"),
        ("sms_marketing", False, "2026-03-07T10:00:00Z", pos_id),
        ("sms_marketing", True, "2026-03-07T10:00:00Z", admin_id),
    ]

    ledger = got["ledger"]
    types = [e["type"] for e in ledger["entries"]]
    for kind in ("earn", "referral", "redeem", "refund"):
        assert kind in types, kind
    assert all(e["postings"] for e in ledger["entries"])
    earns = [e for e in ledger["entries"] if e["type"] == "earn" and e["reference"] == "R-ADA-1"]
    assert {x["rule_id"] for e in earns for x in e["explanation"]} >= {"base", "cashback"}
    assert any(lot["expires_at"] for lot in ledger["lots"])
    balances = {b["wallet"]: b for b in ledger["balances"]}
    assert balances["points"]["available"] < 0
    assert balances["points"]["pending"] > 0
    assert balances["points"]["available"] == profile["balances"]["points"]["available"]

    purchases = {p["external_id"]: p for p in got["purchases"]}
    assert set(purchases) == {"R-ADA-1", "R-ADA-2"}
    assert [r["external_id"] for r in purchases["R-ADA-1"]["refunds"]] == ["F-ADA-1"]
    assert purchases["R-ADA-1"]["amount"] == "40.00"
    assert [e["external_id"] for e in got["events"]] == [f"enrolled:{ada['id']}", "E-ADA-1"]
    redemptions = got["redemptions"]
    assert [r["reward"] for r in redemptions] == ["coffee", None]
    assert redemptions[0]["voucher"]["code"]
    assert got["referrals"]["received"][0]["referrer_id"] == bob["id"]
    assert [r["referee_id"] for r in got["referrals"]["made"]] == [cara["id"]]
    assert got["referrals"]["made"][0]["status"] == "completed"
    assert any(h["to_code"] == "vib" for h in got["tier"]["history"])
    assert got["tier"]["grants"][0]["reason"] == "goodwill"
    assert {a["action"] for a in got["audit"]} >= {"member.enrolled", "member.updated"}
    assert got["erasure"] is None


def test_the_export_holds_nothing_of_anyone_else(
    client: TestClient, shop: dict[str, str], people: dict[str, dict[str, Any]]
) -> None:
    text = orjson.dumps(_export(client, shop["admin"], people["ada"]["id"])).decode().lower()
    for other in (BOB, CARA):
        for trace in _traces(other):
            assert trace not in text, trace
    for member in (people["bob"], people["cara"]):
        assert member["card_number"] not in text
        assert member["referral_code"].lower() not in text
    assert "r-bob-1" not in text  # another's receipt (Cara's names Ada's referral entry)


def _key_id(client: TestClient, shop: dict[str, str], role: str) -> str:
    """The id of the shop's key of ``role``, from the audit trail of its creation."""
    log = client.get("/v1/programs/shop/audit-log?limit=500", headers=auth(shop["admin"])).json()
    for record in log["items"]:
        if record["action"] == "api_key.created" and record["after"]["role"] == role:
            return str(record["target"]["id"])
    raise AssertionError(f"no {role} key in the audit log")


# --- erasure ---------------------------------------------------------------------------------


def _erase(client: TestClient, key: str, member: str) -> Any:
    return client.post(f"/v1/programs/shop/members/{member}/erase", headers=auth(key))


def _every_text(container: Container) -> dict[str, list[str]]:
    """Every text and JSON value of every table, lower-cased, by table."""
    found: dict[str, list[str]] = {}
    with container.engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [
                c for c in table.columns if isinstance(c.type, sa.String | sa.Text | sa.JSON)
            ]
            if not columns:
                continue
            for row in conn.execute(sa.select(*columns)):
                found.setdefault(table.name, []).extend(
                    (v if isinstance(v, str) else orjson.dumps(v).decode()).lower()
                    for v in row
                    if v is not None
                )
    return found


def test_erasure_leaves_no_trace_of_the_person_and_balanced_books(
    client: TestClient,
    shop: dict[str, str],
    people: dict[str, dict[str, Any]],
    container: Container,
) -> None:
    ada = people["ada"]
    before = _every_text(container)
    assert any("adelheid" in v for v in before["audit_log"])  # the copies were there
    assert any("adelheid" in v for v in before["purchases"])
    assert any("adelheid" in v for v in before["idempotency_keys"])

    done = _erase(client, shop["admin"], ada["id"])
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["already_erased"] is False
    member = body["member"]
    assert member["id"] == ada["id"]
    assert member["status"] == "erased"
    for name in ("external_id", "email", "phone", "first_name", "last_name", "birth_date"):
        assert member[name] is None, name
    assert member["attributes"] == {}
    assert member["consents"] == {}
    assert member["card_number"] != ada["card_number"]
    assert member["referral_code"] != ada["referral_code"]
    for wallet in member["balances"].values():
        assert wallet["available"] in (0, "0.00")
        assert wallet["pending"] in (0, "0.00")
    closed = {e["wallet"]: e for e in body["entries"]}
    assert set(closed) == {"points", "credit"}
    assert all(e["type"] == "erase" for e in closed.values())

    traces = (*ADA_TRACES, ada["card_number"], ada["referral_code"].lower())
    for table, values in _every_text(container).items():
        for trace in traces:
            assert not any(trace in v for v in values), f"{trace!r} left in {table}"
    assert audit(container) == []

    # the others keep everything
    for other, given in ((people["bob"], BOB), (people["cara"], CARA)):
        got = client.get(f"/v1/programs/shop/members/{other['id']}", headers=auth(shop["read"]))
        assert (got.json()["email"], got.json()["first_name"]) == (
            given["email"],
            given["first_name"],
        )
    # the books: the erase entries appear in the activity, the lots are closed
    exported = _export(client, shop["admin"], ada["id"])
    assert all(lot["remaining"] in (0, "0.00") for lot in exported["ledger"]["lots"])
    assert exported["erasure"]["erased_at"] == body["erased_at"]
    assert exported["consents"] == []
    text = orjson.dumps(exported).decode().lower()
    assert not any(trace in text for trace in ADA_TRACES)
    log = client.get(
        f"/v1/programs/shop/audit-log?target_id={ada['id']}", headers=auth(shop["admin"])
    ).json()["items"]
    assert log[0]["action"] == "member.erased"
    assert log[0]["after"]["status"] == "erased"


def test_erasure_is_idempotent_and_final(
    client: TestClient,
    shop: dict[str, str],
    people: dict[str, dict[str, Any]],
    container: Container,
) -> None:
    ada = people["ada"]["id"]
    first = _erase(client, shop["admin"], ada)
    assert first.status_code == 200
    counts = table_counts(container)
    again = _erase(client, shop["admin"], ada)
    assert again.status_code == 200
    assert again.json()["already_erased"] is True
    assert again.json()["entries"] == []
    assert again.json()["erased_at"] == first.json()["erased_at"]
    assert table_counts(container) == counts

    refused = [
        client.patch(
            f"/v1/programs/shop/members/{ada}",
            json={"first_name": "X"},
            headers=auth(shop["admin"]),
        ),
        post(
            client,
            shop["admin"],
            f"/members/{ada}/adjustments",
            {"wallet": "points", "amount": 10, "reason": "x"},
        ),
        post(
            client,
            shop["pos"],
            "/purchases",
            {
                "external_id": "R-AFTER",
                "member": {"id": ada},
                "lines": [{"sku": "X", "quantity": 1, "unit_price": "10.00"}],
            },
        ),
        post(
            client,
            shop["pos"],
            "/events",
            {"external_id": "E-AFTER", "member": ada, "type": "review_posted"},
        ),
        post(client, shop["pos"], f"/members/{ada}/redemptions", {"reward": "coffee"}),
    ]
    # the remembered answer to the PATCH held the profile: it is forgotten, not replayed
    replayed = client.patch(
        f"/v1/programs/shop/members/{ada}",
        json=_PATCH,
        headers=auth(shop["admin"]) | {"Idempotency-Key": "patch-ada"},
    )
    refused.append(replayed)
    assert [r.status_code for r in refused] == [422] * len(refused), [r.text for r in refused]
    assert refused[1].json()["code"] == "member_inactive"
    assert refused[1].json()["member_status"] == "erased"
    assert table_counts(container) == counts
    # the old identifiers find nobody
    for query in (
        f"email={ADA['email']}",
        "phone=%2B33612345678",
        f"external_id={ADA['external_id']}",
    ):
        found = client.get(f"/v1/programs/shop/members?{query}", headers=auth(shop["read"]))
        assert found.json()["items"] == [], query
    assert audit(container) == []


def test_an_import_cannot_bring_an_erased_person_back(
    client: TestClient,
    shop: dict[str, str],
    people: dict[str, dict[str, Any]],
    container: Container,
) -> None:
    assert _erase(client, shop["admin"], people["ada"]["id"]).status_code == 200
    lines = [
        "external_id,email,phone,first_name",
        "NEW-1,adelheid.quixotica@example.org,,Adelheid",  # the email, another case
        "NEW-2,,06 12 34 56 78,A",  # the phone, in national form
        f"{ADA['external_id']},,,A",  # the external id
        "NEW-4,someone.else@example.org,,Someone",
    ]
    outcome = transfer.run_import(
        container.uow, container.clock, "shop", "members", "csv", lines, batch=10
    )
    assert (outcome.imported, outcome.rejected) == (1, 3)
    reasons = {key: reason for _, key, reason in outcome.rejections}
    assert set(reasons) == {"NEW-1", "NEW-2", ADA["external_id"]}
    assert "email" in reasons["NEW-1"]
    assert "erased" in reasons["NEW-1"]
    assert "phone" in reasons["NEW-2"]
    assert "external_id" in reasons[ADA["external_id"]]
    # a new sign-up through the API is new consent: it is allowed
    again = enrol(client, shop["pos"], program="shop", email=ADA["email"], first_name="Adelheid")
    assert again["id"] != people["ada"]["id"]
    assert audit(container) == []


def test_an_erasure_fact_without_personal_data(
    client: TestClient,
    shop: dict[str, str],
    people: dict[str, dict[str, Any]],
    container: Container,
) -> None:
    ada = people["ada"]["id"]
    assert _erase(client, shop["admin"], ada).status_code == 200
    with container.engine.connect() as conn:
        payloads = conn.execute(
            sa.text("SELECT payload FROM outbox WHERE type = 'member.erased'")
        ).all()
    assert len(payloads) == 1
    payload = payloads[0][0]
    payload = orjson.loads(payload) if isinstance(payload, str) else payload
    assert payload["member_id"] == ada
    assert set(payload) == {"member_id", "erased_at", "closed"}


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["pos", "partner", "read"])
def test_only_admin_keys_export_or_erase(
    client: TestClient, shop: dict[str, str], container: Container, role: str
) -> None:
    member = enrol(client, shop["pos"], program="shop", email="role.check@example.org")["id"]
    counts = table_counts(container)
    exported = client.get(f"/v1/programs/shop/members/{member}/export", headers=auth(shop[role]))
    erased = _erase(client, shop[role], member)
    assert (exported.status_code, erased.status_code) == (403, 403)
    assert erased.json()["code"] == "forbidden"
    assert table_counts(container) == counts


def test_platform_keys_may_and_other_programs_see_nothing(
    client: TestClient, shop: dict[str, str], platform: str
) -> None:
    member = enrol(client, shop["pos"], program="shop", email="tenant.check@example.org")["id"]
    create_program(client, platform, slug="other")
    other_admin = program_key(client, platform, program="other")
    url = f"/v1/programs/other/members/{member}"
    assert client.get(f"{url}/export", headers=auth(other_admin)).status_code == 404
    assert client.post(f"{url}/erase", headers=auth(other_admin)).status_code == 404
    assert _export(client, platform, member)["member"]["email"] == "tenant.check@example.org"
    assert _erase(client, platform, member).status_code == 200
    assert (
        client.post("/v1/programs/shop/members/nope/erase", headers=auth(platform)).status_code
        == 404
    )


def test_webhook_retries_after_erasure_send_the_redacted_fact(
    client: TestClient, shop: dict[str, str], container: Container, clock: MutableClock
) -> None:
    for receiver in serve():
        container.webhooks = HttpWebhookSender(allow_private=True, timeout=5)
        made = client.post(
            "/v1/programs/shop/webhooks",
            json={"url": receiver.url, "events": ["*"]},
            headers=auth(shop["admin"]),
        )
        assert made.status_code == 201, made.text
        receiver.secrets = [made.json()["secret"]]
        receiver.plan = [500, 500]  # the enrolment's facts fail once and wait for a retry
        ada = enrol(client, shop["pos"], program="shop", **ADA)
        assert jobs.run_webhooks(container.uow, container.webhooks, clock.now()) == 2
        assert any(b"cust-adelheid-77" in r.body.lower() for r in receiver.received)
        first = len(receiver.received)

        assert _erase(client, shop["admin"], ada["id"]).status_code == 200
        clock.advance(seconds=RETRY_DELAYS[0].total_seconds() + 1)
        jobs.run_webhooks(container.uow, container.webhooks, clock.now())
        later = receiver.received[first:]
        assert sorted(r.json["type"] for r in later) == [
            "member.enrolled",
            "member.erased",
            "points.earned",
        ]
        for got in later:
            assert got.verified_by == receiver.secrets
            assert got.json["data"]["member_id"] == ada["id"]
            assert not any(trace in got.body.decode().lower() for trace in ADA_TRACES)
        enrolled = next(r for r in later if r.json["type"] == "member.enrolled")
        assert enrolled.json["data"]["external_id"] is None


def test_a_frozen_member_with_points_is_erased_too(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    member = enrol(client, shop["pos"], program="shop", email="frozen.one@example.org")["id"]
    post(
        client,
        shop["admin"],
        f"/members/{member}/adjustments",
        {"wallet": "credit", "amount": "4.50", "reason": "goodwill"},
    )
    frozen = client.patch(
        f"/v1/programs/shop/members/{member}",
        json={"status": "frozen"},
        headers=auth(shop["admin"]),
    )
    assert frozen.status_code == 200, frozen.text
    done = _erase(client, shop["admin"], member).json()
    closed = {e["wallet"]: e["amount"] for e in done["entries"]}
    assert closed == {"points": -50, "credit": "-4.50"}
    assert done["member"]["balances"]["credit"]["available"] == "0.00"
    assert audit(container) == []
