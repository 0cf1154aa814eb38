"""A valid request for every route of the API, against real objects: the shared table of the
tenant-isolation walker, the role matrix and the audit-trail walk.

``build_world`` makes a program through the API and fills it with one of everything: a member with
an email, a phone and a card, a purchase with a refund, an anonymous purchase, an event, a reward,
a redemption with its voucher, a segment, a campaign, a grant, a webhook endpoint with a delivery,
a tier grant, a second configuration version and an API key.

``SAMPLES`` maps each route of the OpenAPI document, as ``(METHOD, path template)``, to a function
``(owner, here) -> Call``: ``owner`` is the world whose objects the path names, ``here`` the world
of the program the request is sent to (its body refers to ``here``'s objects, so it is valid there
whatever the path says). When ``owner is here`` the call succeeds; when they differ, any failure
can only come from the path. Objects a call consumes (a voucher to use, a redemption to cancel, a
purchase to refund or claim) are made fresh by ``owner.fresh_*``. Adding a route is one line.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.services import jobs, webhooks
from tests.api.message_support import Recorder
from tests.factories import auth, create_program, program_key
from tests.support_example import EXAMPLE_CONFIG
from tests.wallet_support import wallet_body

P = "/v1/programs/{program}"
_serial = itertools.count(1)


def fresh(prefix: str) -> str:
    """A name no other object of any program has."""
    return f"{prefix}-{next(_serial)}"


@dataclass
class Call:
    path: dict[str, str] = field(default_factory=dict)  # path parameters but {program}
    body: Any = None
    query: dict[str, str] | None = None


@dataclass
class World:
    client: TestClient
    container: Container
    slug: str
    id: str
    admin: str
    admin_id: str
    tag: str
    member: str = ""
    email: str = ""
    phone: str = ""
    card: str = ""
    external_id: str = ""
    referral_code: str = ""
    purchase: str = ""
    refund: str = ""
    anonymous: str = ""
    event: str = ""
    reward: str = ""
    redemption: str = ""
    voucher: str = ""
    segment: str = ""
    campaign: str = ""
    grant: str = ""
    webhook: str = ""
    delivery: str = ""
    message: str = ""
    api_key: str = ""
    objects: dict[str, str] = field(default_factory=dict)

    # --- requests --------------------------------------------------------------------------

    def url(self, template: str, call: Call) -> str:
        return template.format(program=self.slug, **call.path)

    def post(self, path: str, body: Any, *, ok: int = 201) -> Any:
        answer = self.client.post(f"/v1/programs/{self.slug}{path}", json=body, headers=self.auth)
        assert answer.status_code == ok, (path, answer.text)
        return answer.json()

    @property
    def auth(self) -> dict[str, str]:
        return auth(self.admin)

    # --- objects a call consumes -----------------------------------------------------------

    def fresh_purchase(self, *, anonymous: bool = False) -> str:
        external_id = fresh(f"{self.tag}-P")
        body: dict[str, Any] = {
            "external_id": external_id,
            "occurred_at": "2026-03-06T10:00:00Z",
            "lines": [
                {"sku": "LIP-01", "category": "makeup", "quantity": 2, "unit_price": "12.00"}
            ],
        }
        if not anonymous:
            body["member"] = {"id": self.member}
        self.post("/purchases", body)
        return external_id

    def fresh_redemption(self) -> dict[str, Any]:
        made: dict[str, Any] = self.post(
            f"/members/{self.member}/redemptions", {"reward": self.reward}
        )
        return made

    def fresh_member(self) -> str:
        made = self.post("/members", {"email": fresh(self.tag) + "@example.com"})
        return str(made["id"])

    def fresh_api_key(self) -> str:
        made = self.post("/api-keys", {"name": fresh(f"{self.tag} key"), "role": "read"})
        return str(made["id"])

    def fresh_reward(self) -> str:
        code = fresh(f"{self.tag}-gift")
        self.post("/rewards", reward_body(code))
        return code


def reward_body(code: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": "Gift",
        "cost": {"wallet": "points", "amount": 10},
        "kind": "perk",
    }


def build_world(
    client: TestClient, container: Container, platform: str, slug: str, tag: str
) -> World:
    """A program named ``slug`` with one object of every kind, built through the API."""
    program = create_program(client, platform, slug=slug, config=EXAMPLE_CONFIG)
    admin = program_key(client, platform, program=slug, role="admin")
    found = client.get(
        f"/v1/programs/{slug}/audit-log",
        params={"action": "api_key.created"},
        headers=auth(admin),
    ).json()["items"]
    w = World(client, container, slug, program["id"], admin, found[0]["target"]["id"], tag)
    hook = w.post("/webhooks", {"url": f"http://127.0.0.1:9/{tag}", "events": ["*"]})
    w.webhook = hook["id"]
    member = w.post(
        "/members",
        {
            "email": f"{tag}@example.com",
            "phone": f"+33 6 12 34 56 {10 + ord(tag[0]) % 90}",
            "external_id": f"{tag}-C1",
            "first_name": tag.title(),
            "attributes": {"city": "Oslo"},
        },
    )
    w.member, w.email, w.phone = member["id"], member["email"], member["phone"]
    w.card, w.external_id = member["card_number"], member["external_id"]
    w.referral_code = member["referral_code"]
    w.post(
        f"/members/{w.member}/adjustments",
        {"wallet": "points", "amount": 5000, "reason": "opening"},
    )
    w.purchase = w.fresh_purchase()
    w.refund = f"{tag}-R1"
    w.post(
        f"/purchases/{w.purchase}/refunds",
        {"external_id": w.refund, "lines": [{"sku": "LIP-01", "quantity": 1}]},
    )
    w.anonymous = w.fresh_purchase(anonymous=True)
    w.event = f"{tag}-E1"
    w.post("/events", {"external_id": w.event, "member": w.member, "type": "review_posted"})
    w.reward = f"{tag}-gift"
    w.post("/rewards", reward_body(w.reward))
    redeemed = w.fresh_redemption()
    w.redemption, w.voucher = redeemed["id"], redeemed["voucher"]["code"]
    w.segment = f"{tag}-oslo"
    w.post(
        "/segments", {"code": w.segment, "name": "Oslo", "filter": {"attributes": {"city": "Oslo"}}}
    )
    w.campaign = f"{tag}-spring"
    w.post("/campaigns", campaign_body(w.campaign))
    w.grant = f"{tag}-G1"
    w.post(
        "/grants",
        {
            "external_id": w.grant,
            "wallet": "points",
            "amount": 5,
            "reason": "sorry",
            "members": [w.member],
        },
    )
    w.post(f"/members/{w.member}/tier", {"code": "vib", "reason": "ambassador"}, ok=200)
    client.put(f"/v1/programs/{slug}/config", json=EXAMPLE_CONFIG, headers=w.auth)
    w.api_key = w.post("/api-keys", {"name": f"{tag} till", "role": "pos"})["id"]
    configured = client.put(f"/v1/programs/{slug}/wallet", json=wallet_body(), headers=w.auth)
    assert configured.status_code == 200, configured.text
    webhooks.fan_out(container.uow, w.id, container.clock.now())
    deliveries = client.get(
        f"/v1/programs/{slug}/webhooks/{w.webhook}/deliveries", headers=w.auth
    ).json()["items"]
    w.delivery = deliveries[0]["id"]
    container.mailer = Recorder()
    jobs.run_messages(container.uow, container.outlets(), container.clock.now())
    sent = client.get(f"/v1/programs/{slug}/members/{w.member}/messages", headers=w.auth).json()
    w.message = next(m["id"] for m in sent["items"] if m["body"])
    w.objects = {
        name: getattr(w, name)
        for name in (
            "member", "email", "phone", "card", "external_id", "referral_code", "purchase",
            "refund", "anonymous", "event", "reward", "redemption", "voucher", "segment",
            "campaign", "grant", "webhook", "delivery", "api_key", "message",
        )
    }  # fmt: skip
    return w


def campaign_body(code: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": "Spring",
        "start": "2026-03-01T00:00:00Z",
        "end": "2026-04-01T00:00:00Z",
        "rules": [{"id": "x2", "kind": "multiplier", "factor": "2"}],
    }


def purchase_body(here: World, external_id: str | None = None) -> dict[str, Any]:
    return {
        "external_id": external_id or fresh(f"{here.tag}-P"),
        "member": {"id": here.member},
        "occurred_at": "2026-03-06T12:00:00Z",
        "lines": [{"sku": "LIP-01", "quantity": 1, "unit_price": "12.00"}],
    }


Sample = Callable[[World, World], Call]

SAMPLES: dict[tuple[str, str], Sample] = {
    ("POST", "/v1/programs"): lambda o, h: Call(
        body={"slug": fresh("prog"), "name": "New", "currency": "EUR", "timezone": "UTC"}
    ),
    ("GET", "/v1/programs"): lambda o, h: Call(),
    ("GET", P): lambda o, h: Call(),
    ("GET", P + "/config"): lambda o, h: Call(),
    ("PUT", P + "/config"): lambda o, h: Call(body=EXAMPLE_CONFIG),
    ("POST", P + "/config/validate"): lambda o, h: Call(body=EXAMPLE_CONFIG),
    ("POST", P + "/api-keys"): lambda o, h: Call(body={"name": fresh("key"), "role": "read"}),
    ("GET", P + "/api-keys"): lambda o, h: Call(),
    ("DELETE", P + "/api-keys/{key_id}"): lambda o, h: Call({"key_id": o.fresh_api_key()}),
    ("POST", P + "/members"): lambda o, h: Call(body={"email": fresh("new") + "@example.com"}),
    ("GET", P + "/members"): lambda o, h: Call(query={"email": h.email}),
    ("GET", P + "/members/{member}"): lambda o, h: Call({"member": o.member}),
    ("PATCH", P + "/members/{member}"): lambda o, h: Call(
        {"member": o.member}, {"last_name": fresh("L")}
    ),
    ("GET", P + "/members/{member}/activity"): lambda o, h: Call({"member": o.member}),
    ("POST", P + "/members/{member}/adjustments"): lambda o, h: Call(
        {"member": o.member}, {"wallet": "points", "amount": 7, "reason": "goodwill"}
    ),
    ("POST", P + "/members/{member}/transfers"): lambda o, h: Call(
        {"member": o.member}, {"to": h.fresh_member(), "wallet": "points", "amount": 1}
    ),
    ("GET", P + "/members/{member}/tier"): lambda o, h: Call({"member": o.member}),
    ("POST", P + "/members/{member}/tier"): lambda o, h: Call(
        {"member": o.member}, {"code": "rouge", "reason": "ambassador"}
    ),
    ("GET", P + "/members/{member}/referrals"): lambda o, h: Call({"member": o.member}),
    ("GET", P + "/members/{member}/export"): lambda o, h: Call({"member": o.member}),
    ("POST", P + "/members/{member}/erase"): lambda o, h: Call({"member": o.fresh_member()}),
    ("POST", P + "/members/{member}/portal-link"): lambda o, h: Call({"member": o.member}, {}),
    ("POST", P + "/members/{member}/redemptions"): lambda o, h: Call(
        {"member": o.member}, {"reward": h.reward}
    ),
    ("POST", P + "/purchases"): lambda o, h: Call(body=purchase_body(h)),
    ("POST", P + "/purchases/preview"): lambda o, h: Call(body=purchase_body(h)),
    ("GET", P + "/purchases/{external_id}"): lambda o, h: Call({"external_id": o.purchase}),
    ("POST", P + "/purchases/{external_id}/refunds"): lambda o, h: Call(
        {"external_id": o.fresh_purchase()}, {"external_id": fresh(f"{h.tag}-R")}
    ),
    ("POST", P + "/purchases/{external_id}/claim"): lambda o, h: Call(
        {"external_id": o.fresh_purchase(anonymous=True)}, {"member": h.member}
    ),
    ("POST", P + "/events"): lambda o, h: Call(
        body={"external_id": fresh(f"{h.tag}-E"), "member": h.member, "type": "review_posted"}
    ),
    ("POST", P + "/rewards"): lambda o, h: Call(body=reward_body(fresh(f"{h.tag}-gift"))),
    ("GET", P + "/rewards"): lambda o, h: Call(query={"member": h.member}),
    ("PATCH", P + "/rewards/{code}"): lambda o, h: Call({"code": o.reward}, {"name": fresh("G")}),
    ("POST", P + "/redemptions/{redemption_id}/cancel"): lambda o, h: Call(
        {"redemption_id": o.fresh_redemption()["id"]}
    ),
    ("GET", P + "/vouchers/{code}"): lambda o, h: Call({"code": o.voucher}),
    ("POST", P + "/vouchers/{code}/use"): lambda o, h: Call(
        {"code": o.fresh_redemption()["voucher"]["code"]}, {}
    ),
    ("POST", P + "/segments"): lambda o, h: Call(
        body={"code": fresh("seg"), "name": "All", "filter": {"attributes": {"city": "Oslo"}}}
    ),
    ("GET", P + "/segments/{code}/members"): lambda o, h: Call({"code": o.segment}),
    ("POST", P + "/grants"): lambda o, h: Call(
        body={
            "external_id": fresh(f"{h.tag}-G"),
            "wallet": "points",
            "amount": 3,
            "reason": "sorry",
            "members": [h.member],
        }
    ),
    ("GET", P + "/grants/{external_id}"): lambda o, h: Call({"external_id": o.grant}),
    ("POST", P + "/campaigns"): lambda o, h: Call(body=campaign_body(fresh("camp"))),
    ("PATCH", P + "/campaigns/{code}"): lambda o, h: Call(
        {"code": o.campaign}, {"name": fresh("Spring")}
    ),
    ("GET", P + "/campaigns/{code}"): lambda o, h: Call({"code": o.campaign}),
    ("POST", P + "/webhooks"): lambda o, h: Call(
        body={"url": f"http://127.0.0.1:9/{fresh('hook')}", "events": ["points.earned"]}
    ),
    ("GET", P + "/webhooks"): lambda o, h: Call(),
    ("GET", P + "/webhooks/{endpoint}"): lambda o, h: Call({"endpoint": o.webhook}),
    ("PATCH", P + "/webhooks/{endpoint}"): lambda o, h: Call(
        {"endpoint": o.webhook}, {"description": fresh("d")}
    ),
    ("POST", P + "/webhooks/{endpoint}/rotate-secret"): lambda o, h: Call(
        {"endpoint": o.webhook}, {"overlap_hours": 1}
    ),
    ("GET", P + "/webhooks/{endpoint}/deliveries"): lambda o, h: Call({"endpoint": o.webhook}),
    ("POST", P + "/webhooks/{endpoint}/deliveries/{delivery}/retry"): lambda o, h: Call(
        {"endpoint": o.webhook, "delivery": o.delivery}
    ),
    ("GET", P + "/analytics/summary"): lambda o, h: Call(),
    ("GET", P + "/analytics/series"): lambda o, h: Call(),
    ("GET", P + "/audit-log"): lambda o, h: Call(),
    ("GET", P + "/message-templates"): lambda o, h: Call(),
    ("PUT", P + "/message-templates/{event}/{channel}"): lambda o, h: Call(
        {"event": "points.earned", "channel": "sms"},
        {"body": f"+{{{{ points }}}} points ({fresh('t')})", "category": "marketing"},
    ),
    ("POST", P + "/message-templates/{event}/{channel}/preview"): lambda o, h: Call(
        {"event": "member.enrolled", "channel": "email"}, {"member": h.member}
    ),
    ("POST", P + "/message-templates/{event}/{channel}/test"): lambda o, h: Call(
        {"event": "member.enrolled", "channel": "email"}, {"to": f"{fresh('t')}@example.com"}
    ),
    ("GET", P + "/members/{member}/messages"): lambda o, h: Call({"member": o.member}),
    ("POST", P + "/members/{member}/messages/{message}/resend"): lambda o, h: Call(
        {"member": o.member, "message": o.message}
    ),
    ("GET", P + "/members/{member}/card.svg"): lambda o, h: Call({"member": o.member}),
    ("GET", P + "/members/{member}/card.pkpass"): lambda o, h: Call({"member": o.member}),
    ("GET", P + "/members/{member}/card/google"): lambda o, h: Call({"member": o.member}),
    ("GET", P + "/wallet"): lambda o, h: Call(),
    ("PUT", P + "/wallet"): lambda o, h: Call(body=wallet_body()),
}

CATALOGUE = {
    ("PUT", P + "/message-templates/{event}/{channel}"),
    ("POST", P + "/message-templates/{event}/{channel}/preview"),
    ("POST", P + "/message-templates/{event}/{channel}/test"),
}
"""Routes whose path parameters name no object of a program (an event type and a channel of
Patron's catalogue): every program has them, so another program's "objects" are its own."""

PUBLIC = {("GET", "/healthz")}
"""Routes without authentication: no program, no role."""

NOT_WRITES = {
    ("POST", P + "/config/validate"),
    ("POST", P + "/purchases/preview"),
    ("POST", P + "/message-templates/{event}/{channel}/preview"),
}
"""``POST`` routes that write nothing (checks and previews)."""


def routes(container: Container) -> list[tuple[str, str]]:
    """Every (METHOD, path template) of the app's OpenAPI document."""
    from patron.api.app import create_app

    document = create_app(container).openapi()
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    ]


def request(client: TestClient, key: str, route: tuple[str, str], world: World, call: Call) -> Any:
    method, template = route
    return client.request(
        method, world.url(template, call), json=call.body, params=call.query, headers=auth(key)
    )
