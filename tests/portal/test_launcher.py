"""The embeddable launcher's server side (docs/portal.md, "The launcher"): its script and style
served for other sites' pages, the program's public branding in ``launcher.json`` and
``theme.css``, and framing: a program's portal pages may be framed by the origins it lists in
``portal.embed_origins`` and by nothing else; the console never. A bad origin or colour is
refused with the field's error and changes nothing."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from patron.bootstrap import Container
from tests.factories import auth, platform_key
from tests.portal.conftest import make_member, make_program, mint, path_of, signed_in
from tests.support_example import EXAMPLE_CONFIG

ORIGINS = ["https://shop.example", "http://localhost:8000"]
NONE = "frame-ancestors 'none'"
FRAMED = "frame-ancestors https://shop.example http://localhost:8000"


def configure(web: TestClient, program: dict[str, str], **portal: Any) -> Response:
    document = {**copy.deepcopy(EXAMPLE_CONFIG), "portal": portal}
    return web.put(
        f"/v1/programs/{program['slug']}/config", json=document, headers=auth(program["admin"])
    )


def csp(answer: Response) -> str:
    policy: str = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    return policy


def assert_framed_by(answer: Response, expected: str) -> None:
    policy = csp(answer)
    assert policy.endswith(expected), (answer.request.url, policy)
    if expected == NONE:
        assert answer.headers["x-frame-options"] == "DENY"
    else:
        # CSP frame-ancestors supersedes X-Frame-Options, which cannot name an origin
        assert "x-frame-options" not in answer.headers


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("launcher.js", "text/javascript; charset=utf-8"),
        ("launcher.css", "text/css; charset=utf-8"),
    ],
)
def test_the_launcher_files_are_served_for_other_sites(
    web: TestClient, name: str, content_type: str
) -> None:
    answer = web.get(f"/portal-static/{name}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == content_type
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "public, max-age=3600"
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "set-cookie" not in answer.headers
    # revalidation after the hour: 304 with the same caching
    again = web.get(f"/portal-static/{name}", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "public, max-age=3600"


def test_the_launcher_script_is_small_and_self_contained(web: TestClient) -> None:
    script = web.get("/portal-static/launcher.js").text
    assert len(script.encode()) < 16_000
    for unwanted in ("import ", "eval(", "innerHTML", "document.write"):
        assert unwanted not in script


def test_launcher_json_gives_the_programs_public_branding(
    web: TestClient, shop: dict[str, str]
) -> None:
    answer = web.get("/portal/shop/launcher.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["cache-control"] == "public, max-age=300"
    assert "set-cookie" not in answer.headers
    assert answer.json() == {
        "program": "shop",
        "name": "Shop",
        "locale": "en",
        "colors": {"brand": "#1d4ed8", "brand_dark": "#13338c", "on_brand": "#ffffff"},
        "embed_origins": [],
        "labels": {
            "open": "Shop",
            "close": "Close",
            "frame": "Shop: your account",
            "loading": "Loading your account…",
        },
    }
    changed = configure(web, shop, brand_color="#0F766E", embed_origins=ORIGINS)
    assert changed.status_code == 200, changed.text
    after = web.get("/portal/shop/launcher.json").json()
    assert after["colors"] == {"brand": "#0f766e", "brand_dark": "#0a4d48", "on_brand": "#ffffff"}
    assert after["embed_origins"] == ORIGINS


def test_launcher_json_speaks_the_programs_language(web: TestClient, container: Container) -> None:
    make_program(web, platform_key(container, name="fr"), "boutique", locale="fr")
    labels = web.get("/portal/boutique/launcher.json").json()["labels"]
    assert labels["close"] == "Fermer"
    assert labels["frame"] == "Boutique : votre compte"


def test_launcher_json_of_an_unknown_program_is_a_json_404(web: TestClient) -> None:
    answer = web.get("/portal/nowhere/launcher.json")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no such program"}
    assert answer.headers["access-control-allow-origin"] == "*"


def test_every_page_links_the_programs_colours(
    web: TestClient, shop: dict[str, str], member: dict[str, Any], portal_client: TestClient
) -> None:
    assert configure(web, shop, brand_color="#0f766e").status_code == 200
    version = web.get("/v1/programs/shop/config", headers=auth(shop["admin"])).json()["version"]
    home = portal_client.get("/portal/shop/")
    assert f'href="/portal/shop/theme.css?v={version}"' in home.text
    assert '<meta name="theme-color" content="#0f766e">' in home.text
    theme = web.get(f"/portal/shop/theme.css?v={version}")
    assert theme.status_code == 200
    assert theme.headers["content-type"] == "text/css; charset=utf-8"
    assert theme.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "--brand: #0f766e;" in theme.text
    assert "--brand-dark: #0a4d48;" in theme.text
    # an old version's URL answers today's colours, but only for a few minutes
    old = web.get(f"/portal/shop/theme.css?v={version - 1}")
    assert old.headers["cache-control"] == "public, max-age=300"
    assert "--brand: #0f766e;" in old.text


def test_portal_pages_are_framed_by_the_programs_origins_only(
    web: TestClient, shop: dict[str, str], member: dict[str, Any], container: Container
) -> None:
    other = make_program(web, platform_key(container, name="other"), "other")
    assert_framed_by(web.get("/portal/shop/login"), NONE)
    changed = configure(web, shop, embed_origins=ORIGINS)
    assert changed.status_code == 200, changed.text

    client = TestClient(web.app, base_url="http://testserver")
    link = path_of(mint(web, shop, member["id"])["url"])
    opened = client.get(link, follow_redirects=False)  # the SSO link, then the pages
    assert opened.status_code == 303
    assert_framed_by(opened, FRAMED)
    for path in ("/", "/rewards", "/activity", "/invite", "/card", "/privacy", "/login"):
        page = client.get(f"/portal/shop{path}")
        assert page.status_code == 200, path
        assert_framed_by(page, FRAMED)
    # error pages of the program too: the panel shows them rather than a browser's refusal
    assert_framed_by(client.get("/portal/shop/vouchers/nothing"), FRAMED)
    used = client.get(link)
    assert used.status_code == 410
    assert_framed_by(used, FRAMED)
    assert_framed_by(web.get("/portal/shop/launcher.json"), FRAMED)

    # another program, static files, an unknown program and the console: never framed
    assert_framed_by(web.get("/portal/other/login"), NONE)
    assert_framed_by(web.get("/portal-static/portal.css"), NONE)
    assert_framed_by(web.get("/portal/nowhere/"), NONE)
    assert_framed_by(web.get("/console/login"), NONE)
    assert other


def test_bad_origins_and_colours_are_refused_and_change_nothing(
    web: TestClient, shop: dict[str, str]
) -> None:
    before = web.get("/v1/programs/shop/config", headers=auth(shop["admin"])).json()
    refused = configure(
        web,
        shop,
        brand_color="#93c5fd",
        embed_origins=[
            "https://shop.example",
            "http://shop.example",
            "https://shop.example/account",
            "https://*.shop.example",
            "https://shop.example; script-src *",
            "shop.example",
        ],
    )
    assert refused.status_code == 422, refused.text
    errors = {e["path"]: e["message"] for e in refused.json()["errors"]}
    assert errors == {
        "portal.brand_color": (
            "#93c5fd is too light: white text on it and links in it need a contrast of at "
            "least 4.5:1 with the portal's light grey (#f3f4f6), and it gives 1.6:1; choose a "
            "darker shade"
        ),
        "portal.embed_origins[1]": "must use https (http is only for localhost and 127.0.0.1)",
        "portal.embed_origins[2]": (
            "an origin has no path, query or fragment: write https://shop.example"
        ),
        "portal.embed_origins[3]": (
            "must be an origin such as https://shop.example: one host name, no wildcard"
        ),
        "portal.embed_origins[4]": (
            "must be an origin such as https://shop.example: one host name, no wildcard"
        ),
        "portal.embed_origins[5]": "must be an origin such as https://shop.example",
    }
    twice = configure(web, shop, embed_origins=["https://shop.example", "https://SHOP.example:443"])
    assert twice.status_code == 422
    assert twice.json()["errors"][0]["path"] == "portal.embed_origins"
    assert "https://shop.example is listed twice" in twice.json()["errors"][0]["message"]

    after = web.get("/v1/programs/shop/config", headers=auth(shop["admin"])).json()
    assert after == before
    assert_framed_by(web.get("/portal/shop/login"), NONE)
    assert web.get("/portal/shop/launcher.json").json()["colors"]["brand"] == "#1d4ed8"


def test_origins_are_stored_normalised(web: TestClient, shop: dict[str, str]) -> None:
    changed = configure(
        web, shop, embed_origins=["HTTPS://Shop.Example:443/", "http://127.0.0.1:8123"]
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["config"]["portal"] == {
        "brand_color": "#1d4ed8",
        "embed_origins": ["https://shop.example", "http://127.0.0.1:8123"],
    }
    page = web.get("/portal/shop/login")
    assert csp(page).endswith("frame-ancestors https://shop.example http://127.0.0.1:8123")


def test_a_member_signed_in_through_a_framed_link_keeps_a_lax_cookie(
    web: TestClient, shop: dict[str, str]
) -> None:
    """Framing changes no cookie: the session stays SameSite=Lax (the merchant's site and
    Patron must be the same site for the panel to be signed in; docs/portal.md)."""
    assert configure(web, shop, embed_origins=ORIGINS).status_code == 200
    ada = make_member(web, shop, email="ada@example.com")
    client = TestClient(web.app, base_url="http://testserver")
    opened = client.get(path_of(mint(web, shop, ada["id"])["url"]), follow_redirects=False)
    cookie = opened.headers["set-cookie"].lower()
    assert "samesite=lax" in cookie
    assert "httponly" in cookie
    assert signed_in(web, shop, ada["id"]).get("/portal/shop/").status_code == 200
