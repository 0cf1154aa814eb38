"""SMS through an HTTP provider: a generic JSON provider and a Twilio-shaped form provider.

**Generic JSON** (``JsonSmsProvider``): ``POST {url}`` with the body
``{"id": ..., "to": "+3361...", "from": ..., "text": ...}`` (``from`` only when a sender is
configured), ``Authorization: Bearer {token}`` when a token is, and ``Idempotency-Key: {id}`` so
a provider that honours it drops the copy of a message sent twice. A gateway of one's own, or a
small shim in front of any provider, speaks it.

**Twilio-shaped** (``TwilioSmsProvider``): ``POST {url}`` (Twilio's
``https://api.twilio.com/2010-04-01/Accounts/{AccountSid}/Messages.json``) with the form fields
``To``, ``From`` and ``Body`` and HTTP basic authentication by account SID and auth token.

**Outcomes.** 2xx: ``sent``, the detail being the provider's id of the message (the response
JSON's ``id`` or ``sid``) when it gives one. 429, 5xx, a refused or lost connection, a timeout:
``retry``. Any other status: ``failed`` with the start of the provider's explanation (its JSON
``message``/``error``/``detail``, else the body's first words). Redirects are not followed.

Each transport keeps one ``httpcore`` connection pool, so a batch goes over kept-alive
connections; certificates are checked against certifi's CA bundle. Only the first 64 KiB of a
response are read.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpcore
import orjson

from patron.adapters.tls import verified_context
from patron.services.ports.transports import Delivery, OutgoingSms

DEFAULT_TIMEOUT = 15.0
MAX_RESPONSE_BYTES = 64 * 1024
MAX_DETAIL = 300
USER_AGENT = b"Patron-Messages/1"


def check_http_url(url: str, what: str = "the SMS provider URL") -> str:
    """``url`` when it is an absolute http(s) URL; ValueError otherwise."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError as error:
        raise ValueError(f"{what} is not a URL: {error}") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must be an http:// or https:// URL with a host, not {url!r}")
    return url


class HttpSmsProvider:
    """The sending loop and the outcome mapping both providers share."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = check_http_url(url)
        self.timeout = timeout
        self._pool = httpcore.ConnectionPool(
            ssl_context=verified_context(),
            max_connections=4,
            retries=0,
        )

    def request(self, sms: OutgoingSms) -> tuple[list[tuple[bytes, bytes]], bytes]:
        raise NotImplementedError

    def send(self, messages: Sequence[OutgoingSms]) -> list[Delivery]:
        return [self._send_one(sms) for sms in messages]

    def close(self) -> None:
        self._pool.close()

    def _send_one(self, sms: OutgoingSms) -> Delivery:
        headers, body = self.request(sms)
        headers = [
            (b"user-agent", USER_AGENT),
            (b"accept", b"application/json"),
            *headers,
        ]
        timeouts = dict.fromkeys(("connect", "read", "write", "pool"), self.timeout)
        try:
            with self._pool.stream(
                "POST", self.url, headers=headers, content=body, extensions={"timeout": timeouts}
            ) as response:
                data = b""
                for chunk in response.iter_stream():
                    data += chunk
                    if len(data) >= MAX_RESPONSE_BYTES:
                        break
                status = response.status
        except httpcore.TimeoutException:
            return Delivery("retry", f"no answer within {self.timeout:g}s")
        except httpcore.ConnectError as error:
            return Delivery("retry", _short(f"could not connect: {error}"))
        except (httpcore.NetworkError, httpcore.ProtocolError) as error:
            return Delivery("retry", _short(f"{type(error).__name__}: {error}"))
        except httpcore.UnsupportedProtocol as error:
            return Delivery("failed", _short(str(error)))
        return outcome(status, data)


def outcome(status: int, body: bytes) -> Delivery:
    """The delivery a provider's answer means (see the module docstring)."""
    document = _json(body)
    if 200 <= status < 300:
        provider_id = (document.get("id") or document.get("sid")) if document else None
        return Delivery("sent", str(provider_id) if provider_id is not None else None)
    words = None
    if document:
        for key in ("message", "error", "detail", "title"):
            if isinstance(document.get(key), str):
                words = document[key]
                break
    if words is None:
        words = body[:MAX_DETAIL].decode("utf-8", "replace")
    detail = _short(f"HTTP {status}: {words}" if words.strip() else f"HTTP {status}")
    if status == 429 or status >= 500:
        return Delivery("retry", detail)
    return Delivery("failed", detail)


class JsonSmsProvider(HttpSmsProvider):
    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        sender: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(url, timeout=timeout)
        self.token = token
        self.sender = sender

    def request(self, sms: OutgoingSms) -> tuple[list[tuple[bytes, bytes]], bytes]:
        document: dict[str, str] = {"id": sms.message_id, "to": sms.to}
        if self.sender:
            document["from"] = self.sender
        document["text"] = sms.text
        headers = [
            (b"content-type", b"application/json"),
            (b"idempotency-key", sms.message_id.encode()),
        ]
        if self.token:
            headers.append((b"authorization", b"Bearer " + self.token.encode()))
        return headers, orjson.dumps(document)


class TwilioSmsProvider(HttpSmsProvider):
    def __init__(
        self,
        url: str,
        account_sid: str,
        auth_token: str,
        sender: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(url, timeout=timeout)
        if not account_sid or not auth_token or not sender:
            raise ValueError("the Twilio provider needs an account SID, an auth token and a sender")
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode())
        self._authorization = b"Basic " + credentials
        self.sender = sender

    def request(self, sms: OutgoingSms) -> tuple[list[tuple[bytes, bytes]], bytes]:
        body = urlencode({"To": sms.to, "From": self.sender, "Body": sms.text}).encode()
        headers = [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"authorization", self._authorization),
        ]
        return headers, body


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def _short(text: str) -> str:
    return " ".join(text.split())[:MAX_DETAIL]
