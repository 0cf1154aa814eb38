"""The SMS providers against a real HTTP server on loopback: the request each one sends (JSON
with a Bearer token; Twilio's form with basic authentication), one kept-alive connection per
batch, and what each answer means (2xx sent with the provider's id, 429 and 5xx retry, other
4xx failed, no server retry)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from patron.adapters.messaging import JsonSmsProvider, TwilioSmsProvider
from patron.adapters.messaging.sms import outcome
from patron.services.ports.transports import Delivery, OutgoingSms
from tests.adapters.smtp_support import free_port


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    peer: Any


@dataclass
class Provider:
    """Answers from ``plan`` (status, body) in order, then 201 with an id."""

    plan: list[tuple[int, bytes]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    url: str = ""

    def answer(self, request: Request) -> tuple[int, bytes]:
        self.requests.append(request)
        if self.plan:
            return self.plan.pop(0)
        return 201, json.dumps({"id": f"prov-{len(self.requests)}"}).encode()


@pytest.fixture
def provider() -> Iterator[Provider]:
    state = Provider()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer = state.answer(Request(self.path, headers, body, self.client_address))
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def sms(number: int, to: str = "+33612345678") -> OutgoingSms:
    return OutgoingSms(message_id=f"msg-{number}", to=to, text=f"Votre code: {number} ✓")


def test_json_provider_posts_json_with_a_bearer_token(provider: Provider) -> None:
    transport = JsonSmsProvider(f"{provider.url}/v1/sms", token="t0ken", sender="Patron")
    answers = transport.send([sms(1), sms(2), sms(3)])
    transport.close()
    assert answers == [Delivery("sent", f"prov-{n}") for n in (1, 2, 3)]
    first = provider.requests[0]
    assert first.path == "/v1/sms"
    assert first.headers["content-type"] == "application/json"
    assert first.headers["authorization"] == "Bearer t0ken"
    assert first.headers["idempotency-key"] == "msg-1"
    assert json.loads(first.body) == {
        "id": "msg-1",
        "to": "+33612345678",
        "from": "Patron",
        "text": "Votre code: 1 ✓",
    }
    assert len({r.peer for r in provider.requests}) == 1  # one kept-alive connection


def test_json_provider_without_token_or_sender(provider: Provider) -> None:
    transport = JsonSmsProvider(provider.url)
    assert transport.send([sms(1)])[0].status == "sent"
    transport.close()
    request = provider.requests[0]
    assert "authorization" not in request.headers
    assert json.loads(request.body) == {
        "id": "msg-1",
        "to": "+33612345678",
        "text": "Votre code: 1 ✓",
    }


def test_twilio_provider_posts_a_form_with_basic_auth(provider: Provider) -> None:
    provider.plan = [(201, json.dumps({"sid": "SM123", "status": "queued"}).encode())]
    url = f"{provider.url}/2010-04-01/Accounts/AC42/Messages.json"
    transport = TwilioSmsProvider(url, "AC42", "secret", "+15005550006")
    assert transport.send([sms(1)]) == [Delivery("sent", "SM123")]
    transport.close()
    request = provider.requests[0]
    assert request.path == "/2010-04-01/Accounts/AC42/Messages.json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    expected = base64.b64encode(b"AC42:secret").decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert parse_qs(request.body.decode()) == {
        "To": ["+33612345678"],
        "From": ["+15005550006"],
        "Body": ["Votre code: 1 ✓"],
    }


def test_answers_map_to_sent_retry_and_failed(provider: Provider) -> None:
    provider.plan = [
        (200, b'{"id": "a1"}'),
        (200, b"ok"),
        (429, b'{"message": "Too many requests"}'),
        (500, b"upstream broke"),
        (503, b""),
        (400, json.dumps({"code": 21211, "message": "The 'To' number is not valid."}).encode()),
        (401, b'{"error": "bad token"}'),
    ]
    transport = JsonSmsProvider(provider.url)
    answers = transport.send([sms(n) for n in range(7)])
    transport.close()
    assert answers == [
        Delivery("sent", "a1"),
        Delivery("sent", None),
        Delivery("retry", "HTTP 429: Too many requests"),
        Delivery("retry", "HTTP 500: upstream broke"),
        Delivery("retry", "HTTP 503"),
        Delivery("failed", "HTTP 400: The 'To' number is not valid."),
        Delivery("failed", "HTTP 401: bad token"),
    ]


def test_no_server_is_retry() -> None:
    transport = JsonSmsProvider(f"http://127.0.0.1:{free_port()}/sms", timeout=3)
    answers = transport.send([sms(1), sms(2)])
    transport.close()
    assert [a.status for a in answers] == ["retry", "retry"]
    assert "could not connect" in (answers[0].detail or "")


def test_long_explanations_are_cut() -> None:
    answer = outcome(422, b"x" * 10_000)
    assert answer.status == "failed"
    assert answer.detail is not None
    assert len(answer.detail) <= 300


@pytest.mark.parametrize("url", ["ftp://example.com/sms", "example.com/sms", "http://:80/x"])
def test_bad_provider_urls(url: str) -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        JsonSmsProvider(url)


def test_twilio_needs_its_credentials() -> None:
    with pytest.raises(ValueError, match="account SID"):
        TwilioSmsProvider("https://api.twilio.com/x", "", "token", "+15005550006")
