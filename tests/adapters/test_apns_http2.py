"""The APNs client (``HttpApnsPusher``) speaks HTTP/2 to Apple's push service, which speaks
nothing else: against an HTTPS stand-in on loopback that offers ``h2`` and ``http/1.1`` in the
TLS handshake and requires a client certificate, the client picks ``h2``, presents the pass
certificate, sends a run's pushes as streams of one connection with Apple's headers, and reads
200 and 410 answers. Against a plain-HTTP stand-in (no TLS, so no protocol negotiation) the
same client speaks HTTP/1.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from patron.adapters.wallet_clients import HttpApnsPusher
from patron.services.ports.wallet import PushOutcome
from tests import wallet_servers
from tests.wallet_support import PASS_TYPE_ID, chain, pass_key_pem, server_chain


@pytest.fixture
def apns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[wallet_servers.ApnsStand]:
    trust = tmp_path / "ca.pem"
    trust.write_text(server_chain().ca_pem)
    # The client verifies the server against the default trust store, read from here.
    monkeypatch.setenv("SSL_CERT_FILE", str(trust))
    passes = chain()
    yield from wallet_servers.serve_apns_h2(tmp_path, passes.ca_pem + passes.wwdr_pem)


def test_pushes_go_over_http2_with_the_pass_certificate(
    apns: wallet_servers.ApnsStand,
) -> None:
    apns.gone_tokens.add("gone-1")
    outcome = HttpApnsPusher(apns.url).push(
        ["tok-1", "gone-1", "tok-2"],
        topic=PASS_TYPE_ID,
        cert_pem=chain().cert_pem,
        key_pem=pass_key_pem(),
    )
    assert outcome == PushOutcome(2, ("gone-1",))
    assert apns.protocols == ["h2"]  # one connection, HTTP/2 agreed in the TLS handshake
    assert apns.client_subjects == [f"Pass Type ID: {PASS_TYPE_ID}"]
    assert [r.path for r in apns.requests] == [
        "/3/device/tok-1",
        "/3/device/gone-1",
        "/3/device/tok-2",
    ]
    first = apns.requests[0]
    assert first.method == "POST"
    assert first.headers[":scheme"] == "https"
    assert first.headers["apns-topic"] == PASS_TYPE_ID
    assert first.headers["apns-push-type"] == "background"
    assert first.headers["apns-priority"] == "5"
    assert json.loads(first.body) == {"aps": {}}


def test_a_server_that_refuses_the_certificate_is_a_failed_push(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust = tmp_path / "ca.pem"
    trust.write_text(server_chain().ca_pem)
    monkeypatch.setenv("SSL_CERT_FILE", str(trust))
    # The stand-in trusts only its own server CA, so the pass certificate is refused.
    stand = wallet_servers.serve_apns_h2(tmp_path, server_chain().ca_pem)
    url = next(stand).url
    try:
        outcome = HttpApnsPusher(url).push(
            ["tok-1"], topic=PASS_TYPE_ID, cert_pem=chain().cert_pem, key_pem=pass_key_pem()
        )
    finally:
        stand.close()
    assert outcome == PushOutcome(0)


def test_a_plain_http_stand_in_is_spoken_to_in_http11() -> None:
    served = wallet_servers.serve()
    stand = next(served)
    try:
        stand.gone_tokens.add("gone-1")
        outcome = HttpApnsPusher(stand.url).push(
            ["tok-1", "gone-1"], topic=PASS_TYPE_ID, cert_pem="", key_pem=""
        )
    finally:
        served.close()
    assert outcome == PushOutcome(1, ("gone-1",))
    assert [c.version for c in stand.of("POST", "/3/device/")] == ["HTTP/1.1", "HTTP/1.1"]
