"""The portal's pages and what a member does there: redeem once per form, vouchers with a QR,
consents recorded with source ``portal``, the export, deleting the account (SPEC §10)."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.services import programs
from patron.services.transactions import run_read
from tests.factories import auth, buy, platform_key
from tests.ledger_support import audit
from tests.portal.conftest import form_token, make_member, make_program, signed_in
from tests.support_example import EXAMPLE_CONFIG
from tests.wallet_support import wallet_body


def points(web: TestClient, shop: dict[str, str], member_id: str) -> int:
    found = web.get(f"/v1/programs/shop/members/{member_id}", headers=auth(shop["admin"]))
    return int(found.json()["balances"]["points"]["available"])


@pytest.mark.parametrize(
    ("path", "headings"),
    [
        ("/", ["Balance", "Tier", "Expiring soon"]),
        ("/rewards", ["Rewards", "Vouchers"]),
        ("/activity", ["Activity"]),
        ("/invite", ["Invite friends", "Your referrals"]),
        ("/card", ["Card"]),
        ("/privacy", ["Privacy", "Download my data", "Delete my account"]),
    ],
)
def test_every_page_names_its_sections(
    portal_client: TestClient, path: str, headings: list[str]
) -> None:
    page = portal_client.get(f"/portal/shop{path}")
    assert page.status_code == 200, page.text
    for heading in headings:
        assert re.search(rf"<h[123][^>]*>[^<]*{re.escape(heading)}", page.text), heading
    assert "Content-Security-Policy" in page.headers
    assert page.headers["cache-control"] == "no-store"
    assert 'name="token"' in page.text  # sign-out form at least


def test_home_shows_pending_points_and_tier_progress(web: TestClient, container: Container) -> None:
    wallets = copy.deepcopy(EXAMPLE_CONFIG["wallets"])
    wallets["points"]["pending_days"] = 14
    later = make_program(web, platform_key(container, name="later"), "later", wallets=wallets)
    member = make_member(web, later, email="ada@example.com")
    buy(
        web, later["admin"], program="later", member=member["id"], external_id="P-1", amount="80.00"
    )
    home = signed_in(web, later, member["id"]).get("/portal/later/").text
    assert "Pending" in home
    assert re.search(r"80 points on \d+ \w+ \d{4}|points on", home)
    assert "<progress" in home
    assert "more to reach" in home


def test_activity_explains_each_entry(
    web: TestClient, shop: dict[str, str], member: dict[str, Any], portal_client: TestClient
) -> None:
    buy(web, shop["admin"], program="shop", member=member["id"], external_id="P-2", amount="40.00")
    page = portal_client.get("/portal/shop/activity").text
    assert "welcome gift" in page
    assert 'class="explain"' in page


def redeem(client: TestClient, token: str, code: str = "coffee") -> Any:
    return client.post(
        f"/portal/shop/rewards/{code}/redeem", data={"token": token}, follow_redirects=False
    )


def test_redeem_twice_with_one_token_applies_once(
    web: TestClient, shop: dict[str, str], member: dict[str, Any], portal_client: TestClient
) -> None:
    before = points(web, shop, member["id"])
    page = portal_client.get("/portal/shop/rewards")
    assert ">Redeem<" in page.text
    token = form_token(page.text)
    first = redeem(portal_client, token)
    second = redeem(portal_client, token)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert "/portal/shop/vouchers/" in first.headers["location"]
    assert points(web, shop, member["id"]) == before - 100
    voucher = portal_client.get(first.headers["location"])
    assert voucher.status_code == 200
    assert "<svg" in voucher.text  # the QR code
    assert "Your voucher code" in voucher.text  # the flash message
    listed = portal_client.get("/portal/shop/rewards").text
    assert "Ready to use" in listed


def test_a_refused_redemption_says_why(
    web: TestClient, shop: dict[str, str], portal_client: TestClient
) -> None:
    dear = web.post(
        "/v1/programs/shop/rewards",
        json={
            "code": "bike",
            "name": "A bicycle",
            "cost": {"wallet": "points", "amount": 100000},
            "kind": "free_item",
            "value": "BIKE",
        },
        headers=auth(shop["admin"]),
    )
    assert dear.status_code == 201
    page = portal_client.get("/portal/shop/rewards").text
    assert "You need" in page  # why not: how much is missing
    refused = redeem(portal_client, form_token(page), "bike")
    assert refused.status_code == 303
    assert "Nothing was changed" in portal_client.get(refused.headers["location"]).text


def test_csrf_tokens_are_required_and_bound_to_the_session(
    web: TestClient, shop: dict[str, str], member: dict[str, Any], portal_client: TestClient
) -> None:
    before = points(web, shop, member["id"])
    assert redeem(portal_client, "").status_code == 403
    assert redeem(portal_client, "forged.token").status_code == 403
    other = make_member(web, shop, email="grace@example.com")
    other_client = signed_in(web, shop, other["id"])
    foreign = form_token(other_client.get("/portal/shop/rewards").text)
    assert redeem(portal_client, foreign).status_code == 403
    assert points(web, shop, member["id"]) == before


def test_a_member_sees_nothing_of_another(
    web: TestClient,
    shop: dict[str, str],
    member: dict[str, Any],
    portal_client: TestClient,
    container: Container,
) -> None:
    other = make_member(web, shop, email="grace@example.com", first_name="Grace")
    theirs = web.post(
        f"/v1/programs/shop/members/{other['id']}/redemptions",
        json={"reward": "coffee"},
        headers=auth(shop["pos"]),
    ).json()
    assert portal_client.get(f"/portal/shop/vouchers/{theirs['id']}").status_code == 404
    assert theirs["voucher"]["code"] not in portal_client.get("/portal/shop/rewards").text
    assert "Grace" not in portal_client.get("/portal/shop/").text
    second = make_program(web, platform_key(container, name="second"), "second")
    make_member(web, second, email="ada@example.com")
    away = portal_client.get("/portal/second/", follow_redirects=False)
    assert away.status_code == 303  # no session there: the shop's cookie is not sent
    assert portal_client.get("/portal/nowhere/").status_code == 404


def test_consents_change_with_source_portal(
    web: TestClient, shop: dict[str, str], member: dict[str, Any], portal_client: TestClient
) -> None:
    page = portal_client.get("/portal/shop/privacy")
    done = portal_client.post(
        "/portal/shop/privacy/consents",
        data={"token": form_token(page.text), "email": "on"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "Your choices are saved" in portal_client.get(done.headers["location"]).text
    found = web.get(f"/v1/programs/shop/members/{member['id']}", headers=auth(shop["admin"]))
    assert found.json()["consents"]["email"] is True
    export = web.get(
        f"/v1/programs/shop/members/{member['id']}/export", headers=auth(shop["admin"])
    ).json()
    assert "portal" in str(export)
    assert (
        'id="consent-email" name="email" checked' in portal_client.get("/portal/shop/privacy").text
    )


def test_download_my_data_is_the_api_export(
    web: TestClient, shop: dict[str, str], member: dict[str, Any], portal_client: TestClient
) -> None:
    mine = portal_client.get("/portal/shop/privacy/export")
    assert mine.status_code == 200
    assert "attachment" in mine.headers["content-disposition"]
    document = mine.json()
    assert document["member"]["id"] == member["id"]
    api = web.get(
        f"/v1/programs/shop/members/{member['id']}/export", headers=auth(shop["admin"])
    ).json()
    assert set(api) >= set(document) - {"member"}
    assert document["ledger"] == api["ledger"]


def test_delete_my_account_erases_and_signs_out(
    web: TestClient,
    shop: dict[str, str],
    member: dict[str, Any],
    portal_client: TestClient,
    container: Container,
) -> None:
    page = portal_client.get("/portal/shop/privacy/delete")
    assert page.status_code == 200
    assert "cannot be undone" in page.text
    wrong = portal_client.post(
        "/portal/shop/privacy/delete",
        data={"token": form_token(page.text), "confirm": "yes"},
        follow_redirects=False,
    )
    assert wrong.status_code == 422
    done = portal_client.post(
        "/portal/shop/privacy/delete",
        data={"token": form_token(wrong.text), "confirm": "DELETE"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/portal/shop/goodbye"
    assert "Your account is deleted" in portal_client.get("/portal/shop/goodbye").text
    found = web.get(f"/v1/programs/shop/members/{member['id']}", headers=auth(shop["admin"]))
    assert found.json()["status"] == "erased"
    assert portal_client.get("/portal/shop/", follow_redirects=False).status_code == 303
    program = run_read(container.uow, lambda uow: programs.get_program(uow, "shop"))
    assert audit(container, program) == []


def test_french_program_speaks_french(web: TestClient, container: Container) -> None:
    fr = make_program(web, platform_key(container, name="fr"), "boutique", locale="fr")
    member = make_member(web, fr, email="marie@example.fr", first_name="Marie", points=1234)
    client = signed_in(web, fr, member["id"])
    home = client.get("/portal/boutique/").text
    assert 'lang="fr"' in home
    assert "Bonjour Marie" in home
    assert "1\u202f284" in home or "1 284" in home or "1\u00a0284" in home
    assert "Récompenses" in client.get("/portal/boutique/rewards").text


def test_the_card_page_shows_the_card_and_offers_the_wallets_the_program_has(
    web: TestClient, shop: dict[str, str], portal_client: TestClient
) -> None:
    page = portal_client.get("/portal/shop/card")
    assert '<img class="member-card__face" src="/portal/shop/card.svg"' in page.text
    assert "Add to Apple Wallet" not in page.text
    image = portal_client.get("/portal/shop/card.svg")
    assert image.status_code == 200
    assert image.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in image.text
    assert portal_client.get("/portal/shop/card.pkpass").status_code == 404
    assert portal_client.get("/portal/shop/card/google", follow_redirects=False).status_code == 404
    configured = web.put(
        "/v1/programs/shop/wallet", json=wallet_body(), headers=auth(shop["admin"])
    )
    assert configured.status_code == 200, configured.text
    page = portal_client.get("/portal/shop/card")
    assert "Add to Apple Wallet" in page.text
    assert "Add to Google Wallet" in page.text
    passed = portal_client.get("/portal/shop/card.pkpass")
    assert passed.status_code == 200
    assert passed.headers["content-type"] == "application/vnd.apple.pkpass"
    google = portal_client.get("/portal/shop/card/google", follow_redirects=False)
    assert google.status_code == 303
    assert google.headers["location"].startswith("https://pay.google.com/gp/v/save/")
    with TestClient(web.app) as stranger:  # no session
        refused = stranger.get("/portal/shop/card.svg", follow_redirects=False)
        assert refused.status_code in (303, 401, 403)
