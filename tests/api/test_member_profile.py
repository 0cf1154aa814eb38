"""The member's whole story (``services.member_profile``): a member with purchases, a refund, a
redemption with its voucher, a referral, a consent change, a tier change and an adjustment, read
in a fixed handful of statements."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.services import member_profile
from patron.services.transactions import run_read
from tests.api.test_member_search import program_of
from tests.factories import COFFEE, RECEIPT, MutableClock, auth, buy, enrol

P = "/v1/programs/shop"


def story(container: Container, member: str, **options: Any) -> member_profile.Profile:
    program = program_of(container)
    return run_read(
        container.uow,
        lambda uow: member_profile.profile(
            uow, program, member, now=container.clock.now(), **options
        ),
    )


def post(client: TestClient, key: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{P}{url}", json=body, headers=auth(key))
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def test_the_whole_story_of_a_member(
    client: TestClient, container: Container, shop: dict[str, str], clock: MutableClock
) -> None:
    admin, pos = shop["admin"], shop["pos"]
    granted = {"granted": True, "at": "2026-01-02T08:00:00Z", "source": "store"}
    ada = enrol(
        client, admin, program="shop", first_name="Ada", consents={"email_marketing": granted}
    )
    bob = enrol(client, pos, program="shop", referred_by=ada["referral_code"])
    bought = post(client, pos, "/purchases", {**RECEIPT, "member": {"id": ada["id"]}})
    refunded = post(client, pos, f"/purchases/{RECEIPT['external_id']}/refunds", {
        "external_id": "F-1", "lines": [{"sku": "LIP-01", "quantity": 1}]
    })  # fmt: skip
    assert refunded["clawed_back"]["points"] > 0
    post(client, admin, "/rewards", COFFEE)
    redeemed = post(client, pos, f"/members/{ada['id']}/redemptions", {"reward": "coffee"})
    post(client, admin, f"/members/{ada['id']}/adjustments", {
        "wallet": "points", "amount": 25, "reason": "goodwill"
    })  # fmt: skip
    post(client, admin, f"/members/{ada['id']}/tier", {"code": "vib", "reason": "ambassador"})
    withdrawn = {"email_marketing": {"granted": False, "source": "portal"}}
    response = client.patch(
        f"{P}/members/{ada['id']}", json={"consents": withdrawn}, headers=auth(admin)
    )
    assert response.status_code == 200, response.text

    statements: list[str] = []
    sa.event.listen(container.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    seen = story(container, ada["id"])
    assert len(statements) < 30, statements  # a fixed handful, whatever the member holds

    # consents: the current one, and the history newest first with its source
    assert seen.consents["email_marketing"].granted is False
    history = [(c.granted, c.source) for c in seen.consent_history]
    assert history == [(False, "portal"), (True, "store")]

    # balances and the lots behind them
    points = seen.wallets["points"]
    current = client.get(f"{P}/members/{ada['id']}", headers=auth(admin)).json()
    assert points.balance.available == current["balances"]["points"]["available"]
    assert sum(lot.remaining for lot in points.lots) == points.balance.available
    earned = next(
        lot for lot in points.lots if lot.entry_id == _purchase_entry(seen, RECEIPT["external_id"])
    )
    assert earned.amount == bought["earned"]["points"]
    assert 0 < earned.remaining < earned.amount  # the refund and the coffee took from it
    for lot in points.lots:
        assert lot.expires_at is not None
        assert lot.expires_at > lot.earned_at
    assert seen.pending == []

    # activity, newest first, with the explanation of the purchase's entry
    types = [line.entry.type for line in seen.activity]
    assert types[0] == "adjust"
    assert seen.activity[0].entry.reason == "goodwill"
    purchase_line = next(
        line
        for line in seen.activity
        if line.entry.id == _purchase_entry(seen, RECEIPT["external_id"])
    )
    given = {a["rule_id"]: a["amount"] for a in bought["awards"] if a["wallet"] == "points"}
    assert {e["rule_id"]: e["amount"] for e in purchase_line.explanation} == given
    assert "base" in given

    # purchases with their refunds
    (purchase,) = seen.purchases
    assert purchase.purchase.external_id == RECEIPT["external_id"]
    assert purchase.earned["points"] == bought["earned"]["points"]
    assert [r.external_id for r in purchase.refunds] == ["F-1"]
    assert purchase.clawed_back["points"] == refunded["clawed_back"]["points"]

    # redemptions and vouchers
    (redemption,) = seen.redemptions
    assert redemption.reward_code == "coffee"
    assert redemption.redemption.voucher_code == redeemed["voucher"]["code"].replace("-", "")
    assert redemption.redemption.status == "issued"

    # referrals, tier, audit trail
    assert [r.referee_id for r in seen.referrals_made] == [bob["id"]]
    assert seen.referred is None
    assert story(container, bob["id"]).referred is not None
    assert seen.tier is not None
    assert seen.tier.code == "vib"
    assert seen.tier.history[-1].to_code == "vib"
    assert seen.tier.history[-1].reason == "ambassador"
    assert seen.tier.metric == "spend"
    assert seen.tier.next_code is not None
    assert seen.tier.missing is not None
    assert seen.tier.missing > 0
    actions = [record.action for record in seen.audit]
    assert actions[0] == "member.updated"
    assert actions[-1] == "member.enrolled"


def test_activity_pages_by_entry(
    client: TestClient, container: Container, shop: dict[str, str]
) -> None:
    ada = enrol(client, shop["admin"], program="shop")
    for n in range(5):
        buy(client, shop["pos"], program="shop", external_id=f"B-{n}", member=ada["id"])
    first = story(container, ada["id"], activity_limit=4)
    assert len(first.activity) == 4
    rest = story(container, ada["id"], activity_limit=100, activity_before=first.activity_next)
    ids = [line.entry.id for line in first.activity + rest.activity]
    assert ids == sorted(ids, reverse=True)
    listed = client.get(f"{P}/members/{ada['id']}/activity", headers=auth(shop["admin"]))
    assert ids == [entry["id"] for entry in listed.json()["items"]]  # all, once, in order
    assert len(ids) > 5
    assert rest.activity_next is None


def _purchase_entry(seen: member_profile.Profile, external_id: str) -> str:
    """The points earn entry of a purchase (its reference is the purchase's external id)."""
    return next(
        line.entry.id
        for line in seen.activity
        if line.entry.type == "earn"
        and line.entry.wallet == "points"
        and line.entry.reference == external_id
    )
