"""The digital card and wallet passes (SPEC §10) through the API: card.svg with its QR code and
Code 128 bars read back to the card number; wallet settings stored sealed and never returned;
the Apple pass verified by ``openssl smime -verify`` against the test CA; the Google save link's
JWT verified with the service account's public key; 404 ``wallet_not_configured``; another
program's member is 404."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.code128_reader import bar_widths, read
from tests.factories import MutableClock, auth, change_config, create_program, enrol, program_key
from tests.wallet_support import (
    CLIENT_EMAIL,
    ISSUER_ID,
    PASS_TYPE_ID,
    TEAM_ID,
    apple_body,
    chain,
    google_body,
    service_account,
    wallet_body,
)

P = "/v1/programs/shop"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def member(client: TestClient, shop: dict[str, str]) -> dict[str, Any]:
    made = enrol(client, shop["pos"], program="shop", first_name="Ada", last_name="Lovelace")
    response = client.post(
        f"{P}/members/{made['id']}/adjustments",
        json={"wallet": "points", "amount": 1234, "reason": "opening"},
        headers=auth(shop["admin"]),
    )
    assert response.status_code == 201, response.text
    read = client.get(f"{P}/members/{made['id']}", headers=auth(shop["admin"])).json()
    return {**made, "points": read["balances"]["points"]["available"]}


def _configure(client: TestClient, key: str, body: dict[str, Any]) -> Any:
    return client.put(f"{P}/wallet", json=body, headers=auth(key))


# --- card.svg -------------------------------------------------------------------------------


def test_card_svg_shows_the_member_and_bars_that_read_back_to_the_card_number(
    client: TestClient, shop: dict[str, str], member: dict[str, Any]
) -> None:
    response = client.get(f"{P}/members/{member['id']}/card.svg", headers=auth(shop["pos"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Ada Lovelace" in texts
    assert member["points"] > 1234
    assert f"{member['points']:,}" in texts
    assert member["card_number"] in texts
    bars = root.find(f"{SVG}g[@class='code128']")
    assert bars is not None
    rects = [(float(r.get("x", 0)), float(r.get("width", 0))) for r in bars]
    assert read(bar_widths(rects)) == member["card_number"]
    qr = [
        p
        for p in root.iter(f"{SVG}path")
        if p.get("d", "").startswith("M") and "h" in p.get("d", "")
    ]
    assert qr, "a QR code path"


def test_card_svg_names_the_tier(
    client: TestClient, shop: dict[str, str], member: dict[str, Any]
) -> None:
    granted = client.post(
        f"{P}/members/{member['id']}/tier",
        json={"code": "vib", "reason": "ambassador"},
        headers=auth(shop["admin"]),
    )
    assert granted.status_code == 200, granted.text
    svg = client.get(f"{P}/members/{member['id']}/card.svg", headers=auth(shop["read"])).text
    root = ElementTree.fromstring(svg)
    assert "VIB" in [t.text for t in root.iter(f"{SVG}text")]


def test_another_programs_member_has_no_card(
    client: TestClient, platform: str, shop: dict[str, str], member: dict[str, Any]
) -> None:
    create_program(client, platform, slug="other")
    other = program_key(client, platform, program="other")
    for suffix in ("card.svg", "card.pkpass", "card/google"):
        response = client.get(
            f"/v1/programs/other/members/{member['id']}/{suffix}", headers=auth(other)
        )
        assert response.status_code == 404, (suffix, response.text)
        assert response.json()["code"] == "member_not_found"


# --- wallet settings ------------------------------------------------------------------------


def test_passes_without_settings_are_404_wallet_not_configured(
    client: TestClient, shop: dict[str, str], member: dict[str, Any]
) -> None:
    for suffix in ("card.pkpass", "card/google"):
        response = client.get(f"{P}/members/{member['id']}/{suffix}", headers=auth(shop["pos"]))
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "wallet_not_configured"
    shown = client.get(f"{P}/wallet", headers=auth(shop["admin"])).json()
    assert shown == {"apple": None, "google": None}


def test_settings_are_sealed_and_never_returned(
    client: TestClient, container: Container, shop: dict[str, str]
) -> None:
    response = _configure(client, shop["admin"], wallet_body())
    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["apple"]["pass_type_id"] == PASS_TYPE_ID
    assert shown["apple"]["team_id"] == TEAM_ID
    assert f"Pass Type ID: {PASS_TYPE_ID}" in shown["apple"]["certificate_subject"]
    assert shown["apple"]["expires_at"].endswith("Z")
    assert shown["google"] == {
        "issuer_id": ISSUER_ID,
        "class_suffix": "loyalty",
        "client_email": CLIENT_EMAIL,
    }
    assert client.get(f"{P}/wallet", headers=auth(shop["admin"])).json() == shown
    made = chain()
    secret_bits = ["PRIVATE KEY", "s3cret", made.wwdr_pem[40:80], made.cert_pem[40:80]]
    with container.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM wallet_settings")).mappings().one()
    raw = json.dumps({k: str(v) for k, v in row.items()})
    for bit in secret_bits:
        assert bit not in raw
        assert bit not in response.text
    assert str(row["apple_sealed"]).startswith("v1.")
    audit = client.get(
        f"{P}/audit-log", params={"action": "wallet.configured"}, headers=auth(shop["admin"])
    ).text
    for bit in secret_bits:
        assert bit not in audit


def test_a_section_left_out_is_kept_and_null_removes_it(
    client: TestClient, shop: dict[str, str]
) -> None:
    assert _configure(client, shop["admin"], wallet_body()).status_code == 200
    kept = _configure(client, shop["admin"], {"google": None}).json()
    assert kept["apple"] is not None
    assert kept["google"] is None


def test_only_admins_manage_the_wallet(client: TestClient, shop: dict[str, str]) -> None:
    for role in ("pos", "partner", "read"):
        assert _configure(client, shop[role], wallet_body()).status_code == 403
        assert client.get(f"{P}/wallet", headers=auth(shop[role])).status_code == 403


@pytest.mark.parametrize(
    ("apple", "path"),
    [
        ({"certificate_pem": "nope"}, "apple.certificate_pem"),
        ({"key_password": "wrong"}, "apple.key_password"),
        ({"key_password": None}, "apple.key_password"),
        (
            {"private_key_pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
            "apple.key_password",
        ),
        ({"wwdr_pem": "x"}, "apple.wwdr_pem"),
    ],
)
def test_bad_apple_settings_are_refused_at_the_field(
    client: TestClient, shop: dict[str, str], apple: dict[str, Any], path: str
) -> None:
    response = _configure(client, shop["admin"], {"apple": apple_body(**apple)})
    assert response.status_code == 422, response.text
    assert path in [e["path"] for e in response.json()["errors"]], response.text


def test_a_key_that_is_not_the_certificates_is_refused(
    client: TestClient, shop: dict[str, str]
) -> None:
    other = service_account()[1]  # any other RSA key
    from cryptography.hazmat.primitives import serialization

    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    body = {"apple": apple_body(private_key_pem=pem, key_password=None, wwdr_pem=chain().ca_pem)}
    errors = _configure(client, shop["admin"], body).json()["errors"]
    assert {e["path"] for e in errors} == {"apple.private_key_pem", "apple.wwdr_pem"}


def test_a_bad_service_account_is_refused_at_the_field(
    client: TestClient, shop: dict[str, str]
) -> None:
    for document in (
        "{",
        json.dumps({"type": "service_account"}),
        json.dumps({"client_email": "a@b", "private_key": "x"}),
    ):
        response = _configure(
            client, shop["admin"], {"google": google_body(service_account_json=document)}
        )
        assert response.status_code == 422, response.text
        assert [e["path"] for e in response.json()["errors"]] == ["google.service_account_json"]


# --- Apple pass ---------------------------------------------------------------------------


def test_the_apple_pass_is_signed_by_the_pass_certificate_with_the_wwdr_inside(
    client: TestClient, shop: dict[str, str], member: dict[str, Any], tmp_path: Path
) -> None:
    assert _configure(client, shop["admin"], wallet_body()).status_code == 200
    response = client.get(f"{P}/members/{member['id']}/card.pkpass", headers=auth(shop["pos"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.apple.pkpass"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    files = {name: archive.read(name) for name in archive.namelist()}
    assert {"pass.json", "manifest.json", "signature", "icon.png"} <= set(files)
    manifest = json.loads(files["manifest.json"])
    assert set(manifest) == set(files) - {"manifest.json", "signature"}
    for name, digest in manifest.items():
        assert hashlib.sha1(files[name]).hexdigest() == digest
    document = json.loads(files["pass.json"])
    assert document["passTypeIdentifier"] == PASS_TYPE_ID
    assert document["teamIdentifier"] == TEAM_ID
    assert document["serialNumber"] == member["id"]
    assert len(document["authenticationToken"]) >= 16
    assert document["webServiceURL"].endswith(f"/wallet/apple/{shop['id']}")
    formats = {b["format"]: b["message"] for b in document["barcodes"]}
    assert formats == {
        "PKBarcodeFormatCode128": member["card_number"],
        "PKBarcodeFormatQR": member["card_number"],
    }
    assert document["storeCard"]["headerFields"][0]["value"] == member["points"]
    assert files["icon.png"].startswith(b"\x89PNG\r\n\x1a\n")

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl CLI")
    for name in ("manifest.json", "signature"):
        (tmp_path / name).write_bytes(files[name])
    (tmp_path / "ca.pem").write_text(chain().ca_pem)
    verified = subprocess.run(
        [openssl, "smime", "-verify", "-binary", "-inform", "der", "-in", "signature",
         "-content", "manifest.json", "-CAfile", "ca.pem", "-purpose", "any",
         "-out", "/dev/null"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    dumped = subprocess.run(
        [openssl, "cms", "-cmsout", "-print", "-inform", "der", "-in", "signature"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "signingTime" in dumped
    assert "Test WWDR" in dumped  # the intermediate travels in the signature
    (tmp_path / "manifest.json").write_bytes(files["manifest.json"] + b" ")
    tampered = subprocess.run(
        [openssl, "smime", "-verify", "-binary", "-inform", "der", "-in", "signature",
         "-content", "manifest.json", "-CAfile", "ca.pem", "-purpose", "any",
         "-out", "/dev/null"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert tampered.returncode != 0


# --- Google ---------------------------------------------------------------------------------


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_the_google_link_is_a_jwt_signed_by_the_service_account(
    client: TestClient, shop: dict[str, str], member: dict[str, Any]
) -> None:
    assert _configure(client, shop["admin"], {"google": google_body()}).status_code == 200
    response = client.get(f"{P}/members/{member['id']}/card/google", headers=auth(shop["pos"]))
    assert response.status_code == 200, response.text
    url = response.json()["save_url"]
    assert url.startswith("https://pay.google.com/gp/v/save/")
    token = url.rsplit("/", 1)[1]
    header, payload, signature = token.split(".")
    assert json.loads(_b64decode(header)) == {"alg": "RS256", "typ": "JWT"}
    service_account()[1].public_key().verify(
        _b64decode(signature), f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    claims = json.loads(_b64decode(payload))
    assert claims["iss"] == CLIENT_EMAIL
    assert claims["aud"] == "google"
    assert claims["typ"] == "savetowallet"
    (obj,) = claims["payload"]["loyaltyObjects"]
    assert obj["id"] == f"{ISSUER_ID}.{member['id']}"
    assert obj["classId"] == f"{ISSUER_ID}.loyalty"
    assert obj["state"] == "ACTIVE"
    assert obj["accountId"] == member["card_number"]
    assert obj["loyaltyPoints"]["balance"] == {"int": member["points"]}
    assert obj["barcode"] == {
        "type": "CODE_128",
        "value": member["card_number"],
        "alternateText": member["card_number"],
    }
    apple = client.get(f"{P}/members/{member['id']}/card.pkpass", headers=auth(shop["pos"]))
    assert apple.status_code == 404
    assert apple.json()["code"] == "wallet_not_configured"


def test_an_expired_certificate_is_refused(
    client: TestClient, clock: MutableClock, shop: dict[str, str]
) -> None:
    clock.advance(days=3 * 365)
    response = _configure(client, shop["admin"], {"apple": apple_body()})
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["path"] == "apple.certificate_pem"
    assert error["message"].startswith("expired on ")


# --- the program's colour -------------------------------------------------------------------


def test_the_card_and_both_passes_wear_the_programs_colour(
    client: TestClient, shop: dict[str, str], member: dict[str, Any]
) -> None:
    teal = "#0f766e"  # white text on it passes WCAG AA, as portal.brand_color requires
    change_config(client, shop["admin"], program="shop", portal={"brand_color": teal})
    svg = client.get(f"{P}/members/{member['id']}/card.svg", headers=auth(shop["pos"]))
    assert svg.status_code == 200, svg.text
    fills = {e.get("fill") for e in ElementTree.fromstring(svg.content).iter(f"{SVG}path")}
    assert teal in fills  # the band behind the program's name
    assert _configure(client, shop["admin"], wallet_body()).status_code == 200
    apple = client.get(f"{P}/members/{member['id']}/card.pkpass", headers=auth(shop["pos"]))
    archive = zipfile.ZipFile(io.BytesIO(apple.content))
    assert json.loads(archive.read("pass.json"))["backgroundColor"] == "rgb(15, 118, 110)"
    google = client.get(f"{P}/members/{member['id']}/card/google", headers=auth(shop["pos"]))
    claims = json.loads(_b64decode(google.json()["save_url"].rsplit("/", 1)[1].split(".")[1]))
    (program_class,) = claims["payload"]["loyaltyClasses"]
    assert program_class["hexBackgroundColor"] == teal
