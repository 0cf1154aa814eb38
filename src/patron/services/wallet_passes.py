"""Wallet passes (SPEC §10): an Apple Wallet ``.pkpass`` and a Google Wallet "save" link for a
member's card, carrying the card number, the points balance and the tier.

A ``.pkpass`` is a zip of ``pass.json``, images, ``manifest.json`` (the SHA-1 of every other
file, as Apple's format fixes it) and ``signature``: a detached PKCS #7 signature (DER) of the
manifest by the program's pass certificate, with Apple's WWDR intermediate inside and the
signing time as a signed attribute (``cryptography``'s ``PKCS7SignatureBuilder`` adds content
type, signing time, message digest and S/MIME capabilities, as ``openssl smime -sign`` does).

The pass's ``authenticationToken`` is an HMAC of its serial number under a key derived from the
installation's secret: the Apple web service recomputes it rather than storing one per pass.

The Google link is ``https://pay.google.com/gp/v/save/{jwt}``: a JWT (RS256, the service
account's key) whose payload carries the loyalty class and the member's loyalty object, which
Google creates when the member taps the link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import pkcs7

from patron.domain.programs import Program
from patron.services.cards import CardFace, card_face
from patron.services.ports import UnitOfWork
from patron.services.sealing import Sealer
from patron.services.wallet_settings import (
    SEALING_PURPOSE,
    AppleSecrets,
    GoogleSecrets,
    OpenedSecrets,
    apple_secrets,
    google_secrets,
)

SAVE_URL = "https://pay.google.com/gp/v/save/"
GOLD = (242, 201, 76)


def rgb(colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` as its three channels."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@dataclass(frozen=True, slots=True)
class WalletKeys:
    """The keys the passes need, built by an entrypoint from the installation's secret, and the
    wallet secrets opened under them (kept by the container for its secret's lifetime)."""

    sealer: Sealer
    token_key: bytes
    opened: OpenedSecrets = field(default_factory=OpenedSecrets, compare=False, repr=False)

    @classmethod
    def from_secret(cls, secret: str) -> WalletKeys:
        token_key = hmac.new(secret.encode(), b"patron wallet pass tokens", "sha256").digest()
        return cls(Sealer(secret, purpose=SEALING_PURPOSE), token_key)

    def auth_token(self, program_id: str, serial: str) -> str:
        """The pass's ``authenticationToken`` (Apple asks for 16 characters at least)."""
        mac = hmac.new(self.token_key, f"{program_id}:{serial}".encode(), "sha256")
        return mac.hexdigest()[:40]


def apple_pass(
    uow: UnitOfWork,
    program: Program,
    member_ref: str,
    now: datetime,
    keys: WalletKeys,
    web_service_url: str,
) -> bytes:
    """The member's ``.pkpass``.

    Raises: MemberNotFound, WalletNotConfigured."""
    face = card_face(uow, program, member_ref, now)
    secrets = apple_secrets(uow, program, keys.sealer, keys.opened)
    document = pass_json(
        face, secrets, keys.auth_token(program.id, face.member_id), web_service_url
    )
    return pkpass(document, secrets, brand=face.brand)


def pass_json(
    face: CardFace, secrets: AppleSecrets, token: str, web_service_url: str
) -> dict[str, Any]:
    barcode = {"message": face.card_number, "messageEncoding": "iso-8859-1"}
    back = [{"key": "card", "label": "Card number", "value": face.card_number}]
    return {
        "formatVersion": 1,
        "passTypeIdentifier": secrets.pass_type_id,
        "teamIdentifier": secrets.team_id,
        "serialNumber": face.member_id,
        "organizationName": face.program_name,
        "description": f"{face.program_name} loyalty card",
        "logoText": face.program_name,
        "foregroundColor": "rgb(255, 255, 255)",
        "backgroundColor": "rgb({}, {}, {})".format(*rgb(face.brand)),
        "labelColor": "rgb({}, {}, {})".format(*GOLD),
        "authenticationToken": token,
        "webServiceURL": web_service_url,
        "barcodes": [
            {**barcode, "format": "PKBarcodeFormatCode128", "altText": face.card_number},
            {**barcode, "format": "PKBarcodeFormatQR"},
        ],
        "storeCard": {
            "headerFields": [
                {
                    "key": "points",
                    "label": "POINTS",
                    "value": face.points,
                    "changeMessage": "You now have %@ points",
                }
            ],
            "primaryFields": [
                {"key": "member", "label": "MEMBER", "value": face.member_name or "Member"}
            ],
            "secondaryFields": [
                {
                    "key": "tier",
                    "label": "TIER",
                    "value": face.tier_name or "",
                    "changeMessage": "Your tier is now %@",
                }
            ],
            "backFields": back,
        },
    }


def pkpass(document: dict[str, Any], secrets: AppleSecrets, *, brand: str) -> bytes:
    """The signed ``.pkpass`` zip of a ``pass.json`` document, its icon in the program's
    colour."""
    files = {
        "pass.json": json.dumps(document, ensure_ascii=False, indent=2).encode(),
        "icon.png": png(29, 29, rgb(brand)),
        "icon@2x.png": png(58, 58, rgb(brand)),
        "logo.png": png(50, 50, GOLD),
        "logo@2x.png": png(100, 100, GOLD),
    }
    manifest = json.dumps(
        {name: hashlib.sha1(data).hexdigest() for name, data in files.items()},  # noqa: S324
        indent=2,
    ).encode()
    files["manifest.json"] = manifest
    files["signature"] = sign_manifest(manifest, secrets)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def sign_manifest(manifest: bytes, secrets: AppleSecrets) -> bytes:
    """Detached PKCS #7 (DER) of the manifest, the WWDR intermediate included."""
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(manifest)
        .add_signer(secrets.certificate, secrets.private_key, hashes.SHA256())
        .add_certificate(secrets.wwdr)
        .sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
        )
    )


def google_save_url(
    uow: UnitOfWork, program: Program, member_ref: str, now: datetime, keys: WalletKeys
) -> str:
    """The member's "Add to Google Wallet" link.

    Raises: MemberNotFound, WalletNotConfigured."""
    face = card_face(uow, program, member_ref, now)
    secrets = google_secrets(uow, program, keys.sealer, keys.opened)
    claims = {
        "iss": secrets.client_email,
        "aud": "google",
        "typ": "savetowallet",
        "iat": int(now.timestamp()),
        "origins": [],
        "payload": {
            "loyaltyClasses": [loyalty_class(program, secrets, face.brand)],
            "loyaltyObjects": [loyalty_object(face, secrets)],
        },
    }
    return SAVE_URL + jwt_rs256(claims, secrets)


def loyalty_class(program: Program, secrets: GoogleSecrets, brand: str) -> dict[str, Any]:
    return {
        "id": secrets.class_id,
        "issuerName": program.name,
        "programName": program.name,
        "reviewStatus": "UNDER_REVIEW",
        "hexBackgroundColor": brand,
    }


def loyalty_object(face: CardFace, secrets: GoogleSecrets) -> dict[str, Any]:
    """The member's loyalty object, as created by the link and patched on a change."""
    return {
        "id": f"{secrets.issuer_id}.{face.member_id}",
        "classId": secrets.class_id,
        "state": "ACTIVE",
        "accountId": face.card_number,
        "accountName": face.member_name or face.card_number,
        "loyaltyPoints": {"label": "Points", "balance": {"int": face.points}},
        "barcode": {
            "type": "CODE_128",
            "value": face.card_number,
            "alternateText": face.card_number,
        },
        "textModulesData": [{"id": "tier", "header": "Tier", "body": face.tier_name or "—"}],
    }


def jwt_rs256(claims: dict[str, Any], secrets: GoogleSecrets) -> str:
    header = {"alg": "RS256", "typ": "JWT"}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = secrets.private_key.sign(
        signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    return f"{signing_input}.{_b64(signature)}"


@cache
def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain ``width`` by ``height`` PNG of one colour (no image library is pinned); the same
    four for every pass, so written once."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
