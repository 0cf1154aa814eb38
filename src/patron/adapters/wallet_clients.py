"""The clients that tell Apple and Google a pass changed (ports ``PassPusher`` and
``GoogleWalletClient``).

``HttpApnsPusher`` posts ``{"aps": {}}`` to ``{base}/3/device/{token}`` with the pass type
identifier as ``apns-topic`` (a 410 answer names a token whose pass was removed),
authenticating with the pass type certificate as a TLS client certificate (Wallet pushes do
not take APNs token authentication). Apple's push service speaks HTTP/2 only, so the client is
an HTTP/2 one (``httpx`` with ``http2=True``; ``h2`` is a dependency, ``httpx[http2]``). Over
TLS, HTTP/2 is agreed in the handshake (ALPN), and all of a run's pushes share the one
connection as HTTP/2 streams. Over plain ``http://`` (a local stand-in) httpx has no handshake
to agree it in and speaks HTTP/1.1, as a server that announced nothing expects.

``HttpGoogleWalletClient`` trades a JWT signed with the service account's key for an OAuth
access token (scope ``wallet_object.issuer``, cached until a minute before it expires), then
``PATCH``es ``{base}/loyaltyObject/{id}``. A 404 means the member never saved the pass: not an
error. Both clients take their base URLs from settings so tests can point them at local servers.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import ssl
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from patron.services.ports.wallet import PushOutcome

log = logging.getLogger(__name__)

APNS_URL = "https://api.push.apple.com"
GOOGLE_WALLET_URL = "https://walletobjects.googleapis.com/walletobjects/v1"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a secret)
GOOGLE_SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
TIMEOUT_SECONDS = 10.0


class HttpApnsPusher:
    def __init__(self, base_url: str = APNS_URL, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = timeout

    def push(
        self, tokens: Sequence[str], *, topic: str, cert_pem: str, key_pem: str
    ) -> PushOutcome:
        if not tokens:
            return PushOutcome(0)
        accepted = 0
        gone: list[str] = []
        with self._client(cert_pem, key_pem) as client:
            for token in tokens:
                try:
                    answer = client.post(
                        f"{self._base}/3/device/{token}",
                        content=b'{"aps":{}}',
                        headers={
                            "apns-topic": topic,
                            "apns-push-type": "background",
                            "apns-priority": "5",
                        },
                    )
                except httpx.HTTPError as error:
                    log.warning("APNs push failed: %s", error)
                    continue
                if answer.status_code == 200:
                    accepted += 1
                elif answer.status_code == 410:
                    gone.append(token)
                else:
                    log.warning("APNs refused a push: %s %s", answer.status_code, answer.text)
        return PushOutcome(accepted, tuple(gone))

    def _client(self, cert_pem: str, key_pem: str) -> httpx.Client:
        if not self._base.startswith("https://"):
            return httpx.Client(http2=True, timeout=self._timeout)  # HTTP/1.1: no TLS, no ALPN
        context = ssl.create_default_context()
        # ssl loads a client certificate from files only: write both to a private temporary
        # file for the moment it takes to load them.
        handle, path = tempfile.mkstemp(suffix=".pem")
        try:
            with os.fdopen(handle, "w") as file:
                file.write(cert_pem + "\n" + key_pem)
            context.load_cert_chain(path)
        finally:
            os.unlink(path)
        return httpx.Client(verify=context, http2=True, timeout=self._timeout)

    def close(self) -> None:
        """Nothing held between pushes (each run opens a connection per program)."""


class HttpGoogleWalletClient:
    def __init__(
        self,
        base_url: str = GOOGLE_WALLET_URL,
        *,
        token_url: str = GOOGLE_TOKEN_URL,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._token_url = token_url
        self._http = httpx.Client(timeout=timeout)
        self._tokens: dict[str, tuple[str, float]] = {}

    def patch_object(
        self, object_id: str, body: dict[str, Any], *, client_email: str, key_pem: str
    ) -> bool:
        try:
            token = self._access_token(client_email, key_pem)
            answer = self._http.patch(
                f"{self._base}/loyaltyObject/{object_id}",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as error:
            log.warning("Google Wallet patch failed: %s", error)
            return False
        if answer.status_code == 404:
            return False
        if answer.status_code >= 400:
            log.warning("Google Wallet refused a patch: %s %s", answer.status_code, answer.text)
            return False
        return True

    def _access_token(self, client_email: str, key_pem: str) -> str:
        cached = self._tokens.get(client_email)
        now = time.time()
        if cached is not None and cached[1] > now + 60:
            return cached[0]
        key = serialization.load_pem_private_key(key_pem.encode(), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        claims = {
            "iss": client_email,
            "scope": GOOGLE_SCOPE,
            "aud": self._token_url,
            "iat": int(now),
            "exp": int(now) + 3600,
        }
        assertion = _jwt(claims, key)
        answer = self._http.post(
            self._token_url,
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": assertion,
            },
        )
        answer.raise_for_status()
        granted = answer.json()
        token = str(granted["access_token"])
        self._tokens[client_email] = (token, now + float(granted.get("expires_in", 3600)))
        return token

    def close(self) -> None:
        self._http.close()


def _jwt(claims: dict[str, Any], key: rsa.RSAPrivateKey) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    head = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    signing_input = f"{head}.{b64(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"
