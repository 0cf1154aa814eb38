"""The console's Members area: search, the member's page, and what staff do from it
(SQLite and PostgreSQL, through the real pages and forms)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.services.transactions import run_read
from tests.console.conftest import form_token, make_staff, sign_in
from tests.factories import COFFEE, RECEIPT, auth, buy, create_program, enrol, points

P = "/v1/programs/shop"
C = "/console/programs/shop/members"


def api(web: TestClient, key: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = web.post(f"{P}{url}", json=body, headers=auth(key))
    assert response.status_code in (200, 201), response.text
    found: dict[str, Any] = response.json()
    return found


def grace(web: TestClient, shop: dict[str, str], **more: Any) -> dict[str, Any]:
    return enrol(
        web,
        shop["admin"],
        program="shop",
        external_id="G-1",
        email="grace@example.com",
        first_name="Grâce",
        last_name="Hopper",
        **more,
    )


def rows(html: str) -> list[str]:
    return re.findall(r'<td><a href="[^"]+/members/[^"]+">([^<]+)</a></td>', html)


def post_form(client: TestClient, url: str, body: dict[str, str], token: str | None = None) -> Any:
    token = token or form_token(client.get(url.rsplit("/", 1)[0]).text)
    return client.post(url, data={**body, "token": token}, follow_redirects=False)


def test_search_by_email_card_and_accent_free_name_prefix(
    as_role: Any, web: TestClient, shop: dict[str, str]
) -> None:
    g = grace(web, shop)
    enrol(web, shop["admin"], program="shop", first_name="Alan", last_name="Turing")
    client = as_role("support")
    page = client.get(C, params={"q": "GRACE@example.com"})
    assert page.status_code == 200
    assert 'for="f-q">Search members</label>' in page.text
    assert rows(page.text) == ["Grâce Hopper"]
    assert rows(client.get(C, params={"q": g["card_number"]}).text) == ["Grâce Hopper"]
    assert rows(client.get(C, params={"q": "grace hop"}).text) == ["Grâce Hopper"]
    assert rows(client.get(C, params={"q": "tur"}).text) == ["Alan Turing"]
    # no query: the newest first
    assert rows(client.get(C).text) == ["Alan Turing", "Grâce Hopper"]
    empty = client.get(C, params={"q": "nobody@example.com"}).text
    assert "No member matches" in empty
    assert "first letters" in empty


def test_search_pages_with_counts(as_role: Any, web: TestClient, shop: dict[str, str]) -> None:
    for n in range(30):
        enrol(web, shop["admin"], program="shop", first_name="Member", last_name=f"N{n:02d}")
    client = as_role("viewer")
    first = client.get(C, params={"q": "member"}).text
    assert "Showing 1\u201325 of 30" in first
    assert len(rows(first)) == 25
    nxt = re.search(r'href="([^"]+)">Next page', first)
    assert nxt
    second = client.get(nxt.group(1).replace("&amp;", "&")).text
    assert "Showing 26\u201330 of 30" in second
    assert len(rows(second)) == 5
    assert not set(rows(first)) & set(rows(second))


def _story(web: TestClient, shop: dict[str, str]) -> dict[str, Any]:
    admin = shop["admin"]
    granted = {"granted": True, "at": "2026-01-02T08:00:00Z", "source": "store"}
    g = grace(web, shop, consents={"email_marketing": granted})
    friend = enrol(web, admin, program="shop", first_name="Bob", referred_by=g["referral_code"])
    api(web, admin, "/purchases", {**RECEIPT, "member": {"id": g["id"]}})
    api(web, admin, f"/purchases/{RECEIPT['external_id']}/refunds", {
        "external_id": "F-1", "lines": [{"sku": "LIP-01", "quantity": 1}]
    })  # fmt: skip
    api(web, admin, "/rewards", COFFEE)
    redeemed = api(web, admin, f"/members/{g['id']}/redemptions", {"reward": "coffee"})
    api(web, admin, f"/members/{g['id']}/tier", {"code": "vib", "reason": "ambassador"})
    withdrawn = {"email_marketing": {"granted": False, "source": "portal"}}
    answer = web.patch(f"{P}/members/{g['id']}", json={"consents": withdrawn}, headers=auth(admin))
    assert answer.status_code == 200
    return {"member": g, "friend": friend, "voucher": redeemed["voucher"]["code"]}


def test_the_member_page_shows_every_section_with_real_data(
    as_role: Any, web: TestClient, shop: dict[str, str]
) -> None:
    made = _story(web, shop)
    html = as_role("manager").get(f"{C}/{made['member']['id']}").text
    assert "<h1>Grâce Hopper</h1>" in html
    for heading in ("Balances", "Tier", "Activity", "Purchases", "Redemptions", "Referrals"):
        assert f'">{heading}</h2>' in html, heading
    assert '">Consents</h2>' in html
    assert '">Audit trail</h2>' in html
    assert RECEIPT["external_id"] in html
    assert "F-1" in html
    assert "took back" in html
    assert "Coffee" in html or "coffee" in html
    voucher = made["voucher"].replace("-", "")
    assert voucher in html or made["voucher"] in html
    assert made["friend"]["id"] in html  # referral
    assert "ambassador" in html
    assert "VIB" in html
    assert "portal" in html
    assert "store" in html
    assert "grace@example.com" in html
    assert "base" in html  # the explanation of the purchase's points


def test_a_viewer_sees_masked_contacts(as_role: Any, web: TestClient, shop: dict[str, str]) -> None:
    g = grace(web, shop, phone="+14155550123")
    client = as_role("viewer")
    for html in (client.get(C).text, client.get(f"{C}/{g['id']}").text):
        assert "grace@example.com" not in html
        assert "+14155550123" not in html
        assert "g••••@e••••••.com" in html
    page = client.get(f"{C}/{g['id']}").text
    assert 'action="/console/programs/shop/members/' not in page  # no action forms
    refused = post_form(client, f"{C}/{g['id']}/adjust", {"wallet": "points", "amount": "5"})
    assert refused.status_code == 403


def _adjust(client: TestClient, member: str, amount: str, reason: str = "goodwill") -> Any:
    token = form_token(client.get(f"{C}/{member}").text)
    body = {"wallet": "points", "amount": amount, "reason": reason}
    return post_form(client, f"{C}/{member}/adjust", body, token)


def test_adjust_adds_an_entry_with_its_reason_and_a_double_submit_applies_once(
    as_role: Any, web: TestClient, shop: dict[str, str]
) -> None:
    g = grace(web, shop)
    start = points(web, shop["admin"], program="shop", member=g["id"])  # the welcome bonus
    client = as_role("manager")
    token = form_token(client.get(f"{C}/{g['id']}").text)
    body = {"wallet": "points", "amount": "15", "reason": "goodwill", "token": token}
    first = client.post(f"{C}/{g['id']}/adjust", data=body, follow_redirects=False)
    again = client.post(f"{C}/{g['id']}/adjust", data=body, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert points(web, shop["admin"], program="shop", member=g["id"]) == start + 15
    page = client.get(first.headers["location"]).text
    assert "Added 15 points to Grâce Hopper&#39;s balance. Reason: goodwill" in page
    assert "Reason: goodwill" in page
    assert "+15" in page
    missing = _adjust(client, g["id"], "5", reason=" ")
    assert missing.status_code == 422
    assert "error-message" in missing.text
    assert points(web, shop["admin"], program="shop", member=g["id"]) == start + 15


def test_support_is_refused_above_its_limits_and_nothing_changes(
    as_role: Any, web: TestClient, shop: dict[str, str]
) -> None:
    g = grace(web, shop)
    start = points(web, shop["admin"], program="shop", member=g["id"])
    client = as_role("support", support_limit=100, support_daily_limit=150)
    above = _adjust(client, g["id"], "101")
    assert above.status_code == 403
    assert "above your limit of 100 points per adjustment" in above.text
    assert 'for="f-amount"' in above.text  # the form is shown again with the message
    assert _adjust(client, g["id"], "100").status_code == 303
    daily = _adjust(client, g["id"], "-60")
    assert daily.status_code == 403
    assert "daily limit" in daily.text
    assert points(web, shop["admin"], program="shop", member=g["id"]) == start + 100
    assert _adjust(client, g["id"], "50").status_code == 303  # what is left today still works


def test_freeze_unfreeze_and_tier_override(
    as_role: Any, web: TestClient, shop: dict[str, str]
) -> None:
    g = grace(web, shop)
    client = as_role("manager")
    frozen = post_form(client, f"{C}/{g['id']}/status", {"status": "frozen"})
    assert frozen.status_code == 303
    member = web.get(f"{P}/members/{g['id']}", headers=auth(shop["admin"])).json()
    assert member["status"] == "frozen"
    assert "Unfreeze member" in client.get(f"{C}/{g['id']}").text
    assert post_form(client, f"{C}/{g['id']}/status", {"status": "active"}).status_code == 303
    body = {"code": "vib", "until": "2026-12-31", "tier_reason": "press day"}
    assert post_form(client, f"{C}/{g['id']}/tier", body).status_code == 303
    tier = web.get(f"{P}/members/{g['id']}/tier", headers=auth(shop["admin"])).json()
    assert tier["current"]["code"] == "vib"
    assert tier["current"]["until"] == "2026-12-31T23:00:00Z"
    assert tier["history"][-1]["reason"] == "press day"
    past = post_form(client, f"{C}/{g['id']}/tier", {**body, "until": "2020-01-01"})
    assert past.status_code == 422
    assert "must be in the future" in past.text
    assert as_role("support").post(f"{C}/{g['id']}/tier", data=body).status_code == 403


def test_export_downloads_the_api_document_and_is_audited(
    as_role: Any, web: TestClient, shop: dict[str, str]
) -> None:
    made = _story(web, shop)
    member = made["member"]["id"]
    expected = web.get(f"{P}/members/{member}/export", headers=auth(shop["admin"])).json()
    got = as_role("owner").get(f"{C}/{member}/export")
    assert got.status_code == 200
    assert "attachment" in got.headers["content-disposition"]
    assert got.json() == expected
    trail = web.get(f"{P}/audit-log", headers=auth(shop["admin"]))
    assert trail.status_code == 200
    assert "member.export" in trail.text


def test_erase_needs_the_typed_id(
    as_role: Any, web: TestClient, shop: dict[str, str], container: Container
) -> None:
    g = grace(web, shop)
    buy(web, shop["admin"], program="shop", member=g["id"], external_id="E-1", amount="40.00")
    client = as_role("owner")
    page = client.get(f"{C}/{g['id']}/erase").text
    assert "cannot be undone" in page
    assert "Type G-1 to confirm" in page
    wrong = post_form(client, f"{C}/{g['id']}/erase", {"confirm": "G-2"}, form_token(page))
    assert wrong.status_code == 422
    assert "exactly" in wrong.text
    assert web.get(f"{P}/members/{g['id']}", headers=auth(shop["admin"])).json()["email"]
    right = post_form(client, f"{C}/{g['id']}/erase", {"confirm": "G-1"})
    assert right.status_code == 303
    erased = web.get(f"{P}/members/{g['id']}", headers=auth(shop["admin"])).json()
    assert erased["email"] is None
    assert erased["first_name"] is None
    assert run_read(container.uow, lambda uow: uow.ledger.verify(None)) == []
    assert as_role("manager").get(f"{C}/{g['id']}/erase").status_code == 403


def test_staff_of_another_program_gets_404(
    web: TestClient, container: Container, shop: dict[str, str]
) -> None:
    g = grace(web, shop)
    create_program(web, shop["platform"], slug="other")
    make_staff(container, email="other@staff.example", role="manager", program="other")
    client = TestClient(web.app, base_url="http://testserver")
    with client:
        assert sign_in(client, "other@staff.example").status_code == 303
        for url in (C, f"{C}/{g['id']}", f"{C}/{g['id']}/export", f"{C}/{g['id']}/erase"):
            assert client.get(url).status_code == 404, url
        assert client.get(f"/console/programs/other/members/{g['id']}").status_code == 404
