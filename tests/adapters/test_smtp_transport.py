"""``SmtpTransport`` against a real SMTP server on loopback (aiosmtpd): the message it builds,
one connection per batch and reconnection, the outcome of every kind of refusal, STARTTLS,
implicit TLS, login, and DKIM signatures a verifier accepts."""

from __future__ import annotations

import base64
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace

import dkim
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from patron.adapters.messaging import DkimSigner, SmtpTransport, parse_smtp_url
from patron.services.ports.transports import (
    Delivery,
    OutgoingEmail,
    PipelinedEmailTransport,
    TransportUnavailable,
)
from tests.adapters.smtp_support import free_port, self_signed, smtp_server

SENDER = "Patron <loyalty@example.com>"
UNSUBSCRIBE = {
    "List-Unsubscribe": "<https://loyalty.example.com/u/tok123>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def outgoing(number: int = 1, to: str = "ann@example.org", **fields: object) -> OutgoingEmail:
    values: dict[str, object] = {
        "message_id": f"msg-{number}",
        "to": to,
        "subject": f"Your points, {number}",
        "text": "You have 120 points.\n",
    }
    values.update(fields)
    return OutgoingEmail(**values)  # type: ignore[arg-type]


def parsed(content: bytes) -> EmailMessage:
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_the_message_has_its_headers_and_both_parts() -> None:
    with smtp_server() as server:
        transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}", SENDER)
        first = outgoing(
            7,
            subject="Bienvenue, Chloé: 120 points",
            html="<p>You have <b>120</b> points.</p>",
            headers=UNSUBSCRIBE,
            sender_name="Café Lumière",
        )
        answers = transport.send([first, outgoing(8)])
        transport.close()
    assert [a.status for a in answers] == ["sent", "sent"]
    assert answers[0].detail is not None
    assert "queued as Q1" in answers[0].detail
    received = server.recorder.received
    assert received[0].mail_from == "loyalty@example.com"
    assert received[0].rcpt_tos == ["ann@example.org"]
    message = parsed(received[0].content)
    assert message["From"].addresses[0].display_name == "Café Lumière"
    assert message["From"].addresses[0].addr_spec == "loyalty@example.com"
    assert message["To"] == "ann@example.org"
    assert message["Subject"] == "Bienvenue, Chloé: 120 points"
    assert message["Message-ID"] == "<msg-7@example.com>"
    assert message["Date"].datetime.tzinfo is not None
    assert message["List-Unsubscribe"] == UNSUBSCRIBE["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content().splitlines() == ["You have 120 points."]
    assert "<b>120</b>" in html.get_content()
    # Without html, a single text part; without a sender name, the configured one.
    second = parsed(received[1].content)
    assert second.get_content_type() == "text/plain"
    assert second["From"].addresses[0].display_name == "Patron"
    assert second["Message-ID"] == "<msg-8@example.com>"
    # The server sees CRLF line ends only.
    assert b"\n" not in received[0].content.replace(b"\r\n", b"")


def test_non_ascii_text_and_addresses() -> None:
    with smtp_server() as server:
        transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}", SENDER)
        answers = transport.send(
            [
                outgoing(1, text="Vous avez 120 points, Chloé ✓\n", html="<p>Chloé ✓</p>"),
                outgoing(2, to="chloé@exemple.fr", text="Bonjour\n"),
            ]
        )
        transport.close()
    assert [a.status for a in answers] == ["sent", "sent"]
    first, second = server.recorder.received
    assert first.content.isascii()  # quoted-printable: no 8BITMIME needed
    body = parsed(first.content).get_body(("plain",))
    assert body is not None
    assert body.get_content().strip() == "Vous avez 120 points, Chloé ✓"
    assert second.rcpt_tos == ["chloé@exemple.fr"]  # sent with SMTPUTF8
    assert parsed(second.content)["To"] == "chloé@exemple.fr"


def test_a_non_ascii_address_fails_on_a_server_without_smtputf8() -> None:
    with smtp_server(enable_SMTPUTF8=False) as server:
        transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}", SENDER)
        answers = transport.send([outgoing(1, to="chloé@exemple.fr"), outgoing(2)])
        transport.close()
    assert answers[0] == Delivery("failed", "the server does not accept non-ASCII addresses")
    assert answers[1].status == "sent"


def test_a_batch_of_fifty_uses_one_connection_and_the_next_batch_reuses_it() -> None:
    with smtp_server() as server:
        transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}", SENDER)
        answers = transport.send([outgoing(n) for n in range(50)])
        answers += transport.send([outgoing(n) for n in range(50, 60)])
        transport.close()
    assert all(a.status == "sent" for a in answers)
    assert len(server.recorder.received) == 60
    assert server.recorder.connections == 1
    assert transport.connections_opened == 1


def test_a_connection_closed_between_batches_is_reopened() -> None:
    with smtp_server() as server:
        transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}", SENDER)
        assert all(a.status == "sent" for a in transport.send([outgoing(n) for n in range(5)]))
        server.drop_connections()  # the server's idle timeout
        answers = transport.send([outgoing(n) for n in range(5, 10)])
        transport.close()
    assert [a.status for a in answers] == ["sent"] * 5
    assert len(server.recorder.received) == 10
    assert server.recorder.connections == 2
    assert transport.connections_opened == 2


def test_a_drop_mid_batch_reconnects_once_and_sends_the_rest() -> None:
    with smtp_server() as server:
        server.recorder.drop_after, server.recorder.drops = 10, 1
        transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}", SENDER)
        answers = transport.send([outgoing(n) for n in range(50)])
        transport.close()
    assert [a.status for a in answers] == ["sent"] * 50
    ids = [parsed(r.content)["Message-ID"] for r in server.recorder.received]
    assert ids == [f"<msg-{n}@example.com>" for n in range(50)]  # each once, in order
    assert server.recorder.connections == 2


def test_when_the_new_connection_fails_too_the_rest_of_the_batch_is_retry() -> None:
    with smtp_server() as server:
        server.recorder.drop_after, server.recorder.drops = 1, 1_000
        transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}", SENDER)
        answers = transport.send([outgoing(n) for n in range(5)])
        transport.close()
    assert [a.status for a in answers] == ["sent"] + ["retry"] * 4
    assert all("closed" in (a.detail or "") for a in answers[1:]), answers
    assert len(server.recorder.received) == 1


def test_4xx_is_retry_5xx_is_failed_and_the_connection_carries_on() -> None:
    with smtp_server() as server:
        transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}", SENDER)
        answers = transport.send(
            [
                outgoing(1, to="ann@example.org"),
                outgoing(2, to="deferred@example.org"),
                outgoing(3, to="rejected@example.org"),
                outgoing(4, to="bob@example.org"),
            ]
        )
        transport.close()
    assert [a.status for a in answers] == ["sent", "retry", "failed", "sent"]
    assert answers[1].detail == "451 4.3.0 mailbox busy, try later"
    assert answers[2].detail == "550 5.1.1 no such user here"
    assert [r.rcpt_tos for r in server.recorder.received] == [
        ["ann@example.org"],
        ["bob@example.org"],
    ]
    assert server.recorder.connections == 1


def test_a_refused_connection_is_retry_for_the_whole_batch() -> None:
    transport = SmtpTransport(f"smtp://127.0.0.1:{free_port()}", SENDER, timeout=5)
    answers = transport.send([outgoing(1), outgoing(2)])
    transport.close()
    assert [a.status for a in answers] == ["retry", "retry"]
    assert "ConnectionRefusedError" in (answers[0].detail or "")


def test_a_message_that_cannot_be_built_fails_alone() -> None:
    with smtp_server() as server:
        transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}", SENDER)
        answers = transport.send(
            [outgoing(1, subject="Hello\r\nBcc: everyone@example.org"), outgoing(2)]
        )
        transport.close()
    assert [a.status for a in answers] == ["failed", "sent"]
    assert len(server.recorder.received) == 1


def prepared(transport: SmtpTransport, email: OutgoingEmail) -> Delivery:
    """``prepare`` then ``finish``: one message through the two-step interface."""
    step = transport.prepare(email)
    return step if isinstance(step, Delivery) else step.finish()


def test_two_steps_the_server_accepts_only_at_the_final_dot() -> None:
    assert isinstance(SmtpTransport("smtp://127.0.0.1", SENDER), PipelinedEmailTransport)
    text = ".starts with a dot\n..two dots\nend.\n.\n"
    with smtp_server() as server:
        transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}", SENDER)
        pending = transport.prepare(outgoing(1, text=text))
        assert not isinstance(pending, Delivery)
        assert server.recorder.received == []  # every line is there, but not the dot
        answer = pending.finish()
        again = prepared(transport, outgoing(2))  # the connection carries on
        whole = transport.send([outgoing(1, text=text)])  # the one-step path, for comparison
        transport.close()
    assert (answer.status, again.status, whole[0].status) == ("sent", "sent", "sent")
    assert (answer.detail or "").startswith("250")
    first, _, third = (r.content for r in server.recorder.received)
    assert first == third  # dot-stuffing undone by the server: the same bytes either way
    assert parsed(first).get_content().replace("\r\n", "\n").startswith(text)
    assert server.recorder.connections == 1


def test_an_abandoned_message_is_never_accepted_and_the_next_one_reconnects() -> None:
    with smtp_server() as server:
        transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}", SENDER)
        pending = transport.prepare(outgoing(1))
        assert not isinstance(pending, Delivery)
        pending.abandon()
        pending.abandon()  # a second time does nothing
        answer = prepared(transport, outgoing(2))
        transport.close()
    assert answer.status == "sent"
    assert [parsed(r.content)["Message-ID"] for r in server.recorder.received] == [
        "<msg-2@example.com>"
    ]
    assert len(server.recorder.protocols) == 2
    assert transport.connections_opened == 2


def test_two_steps_refusals_and_a_message_that_cannot_be_built() -> None:
    with smtp_server() as server:
        transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}", SENDER)
        answers = [
            prepared(transport, outgoing(1, to="deferred@example.org")),
            prepared(transport, outgoing(2, to="rejected@example.org")),
            prepared(transport, outgoing(3, subject="Hi\r\nBcc: all@example.org")),
            prepared(transport, outgoing(4)),
        ]
        transport.close()
    assert [a.status for a in answers] == ["retry", "failed", "failed", "sent"]
    assert answers[1].detail == "550 5.1.1 no such user here"
    assert len(server.recorder.received) == 1


def test_two_steps_a_closed_connection_is_reopened_once() -> None:
    with smtp_server() as server:
        transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}", SENDER)
        assert prepared(transport, outgoing(1)).status == "sent"
        server.drop_connections()  # the server's idle timeout
        answer = prepared(transport, outgoing(2))
        transport.close()
    assert answer.status == "sent"
    assert len(server.recorder.received) == 2
    assert transport.connections_opened == 2


def test_two_steps_an_unreachable_server_raises() -> None:
    transport = SmtpTransport(f"smtp://127.0.0.1:{free_port()}", SENDER, timeout=5)
    with pytest.raises(TransportUnavailable, match="ConnectionRefusedError"):
        transport.prepare(outgoing(1))
    with pytest.raises(TransportUnavailable):  # the lock was released: a second call runs
        transport.prepare(outgoing(2))
    transport.close()


def test_a_drop_before_the_final_dot_is_retry() -> None:
    with smtp_server() as server:
        transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}", SENDER)
        pending = transport.prepare(outgoing(1))
        assert not isinstance(pending, Delivery)
        server.drop_connections()
        answer = pending.finish()
        transport.close()
    assert answer.status == "retry"
    assert server.recorder.received == []


def test_starttls_upgrades_and_refuses_a_server_without_it(tmp_path: Path) -> None:
    context = self_signed(tmp_path)
    with smtp_server(tls_context=context, require_starttls=True) as server:
        url = f"smtp+starttls://127.0.0.1:{server.port}"
        insecure = SmtpTransport(url + "?verify=false", SENDER)
        assert insecure.send([outgoing(1)]) == [Delivery("sent", "250 2.0.0 queued as Q1")]
        insecure.close()
        checked = SmtpTransport(url, SENDER)  # the self-signed certificate is refused
        [answer] = checked.send([outgoing(2)])
        checked.close()
        assert answer.status == "retry"
        assert "CERTIFICATE_VERIFY_FAILED" in (answer.detail or "")
        # Plain smtp:// to a server that requires STARTTLS: the server refuses the MAIL.
        plain = SmtpTransport(f"smtp://127.0.0.1:{server.port}", SENDER)
        [answer] = plain.send([outgoing(3)])
        plain.close()
        assert answer.status == "failed"
        assert answer.detail is not None
        assert answer.detail.startswith("530")
    assert len(server.recorder.received) == 1
    with smtp_server() as bare:
        transport = SmtpTransport(f"smtp+starttls://127.0.0.1:{bare.port}", SENDER)
        [answer] = transport.send([outgoing(1)])
        transport.close()
    assert answer.status == "retry"
    assert "does not offer STARTTLS" in (answer.detail or "")
    assert bare.recorder.received == []


def test_smtps_speaks_tls_from_the_start(tmp_path: Path) -> None:
    with smtp_server(ssl_context=self_signed(tmp_path)) as server:
        transport = SmtpTransport(f"smtps://127.0.0.1:{server.port}?verify=false", SENDER)
        answers = transport.send([outgoing(1), outgoing(2)])
        transport.close()
    assert [a.status for a in answers] == ["sent", "sent"]
    assert server.recorder.connections == 1


def test_user_and_password_come_percent_decoded_from_the_url() -> None:
    with smtp_server(auth=True) as server:
        url = f"smtp://mailer%40example.com:p%3Ass%20w%40rd@127.0.0.1:{server.port}"
        transport = SmtpTransport(url, SENDER)
        assert transport.send([outgoing(1)])[0].status == "sent"
        transport.close()
        wrong = SmtpTransport(f"smtp://mailer:nope@127.0.0.1:{server.port}", SENDER)
        [answer] = wrong.send([outgoing(2)])
        wrong.close()
    assert server.recorder.logins[0] == (b"mailer@example.com", b"p:ss w@rd")
    assert answer.status == "retry"
    assert "535" in (answer.detail or "")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://localhost", ("plain", "localhost", 25, None, None, True)),
        (
            "smtp+starttls://u:p@mail.example.com",
            ("starttls", "mail.example.com", 587, "u", "p", True),
        ),
        (
            "smtps://mail.example.com:2465?verify=false",
            ("tls", "mail.example.com", 2465, None, None, False),
        ),
    ],
)
def test_smtp_urls(url: str, expected: tuple[object, ...]) -> None:
    endpoint = parse_smtp_url(url)
    found = (endpoint.security, endpoint.host, endpoint.port, endpoint.user)
    assert (*found, endpoint.password, endpoint.verify) == expected


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://mail.example.com", "smtp://"),
        ("smtp://", "no host"),
        ("smtp://host:notaport", "not an SMTP URL"),
        ("smtp://host/path", "no path"),
        ("smtp://host?tls=yes", "unknown SMTP URL option"),
    ],
)
def test_bad_smtp_urls_say_what_is_wrong(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_smtp_url(url)


def rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_dkim_signature_verifies_and_covers_list_unsubscribe(tmp_path: Path) -> None:
    key_file = tmp_path / "dkim.pem"
    key_file.write_text(rsa_pem())
    signer = DkimSigner(str(key_file), selector="s2026", domain="example.com")
    record = signer.dns_record()
    assert record.startswith("v=DKIM1; k=rsa; p=")
    looked_up: list[bytes] = []

    def dns(name: bytes, timeout: int = 5) -> bytes:
        looked_up.append(name)
        return record.encode()

    with smtp_server() as server:
        transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}", SENDER, dkim=signer)
        answers = transport.send([outgoing(1, html="<p>hi</p>", headers=UNSUBSCRIBE), outgoing(2)])
        transport.close()
    assert [a.status for a in answers] == ["sent", "sent"]
    signed, plain = (r.content for r in server.recorder.received)
    assert dkim.verify(signed, dnsfunc=dns)
    assert looked_up == [b"s2026._domainkey.example.com."]
    signature = parsed(signed)["DKIM-Signature"]
    tags = dict(part.strip().split("=", 1) for part in str(signature).split(";") if "=" in part)
    assert tags["c"] == "relaxed/relaxed"
    assert tags["a"] == "rsa-sha256"
    covered = {name.strip().lower() for name in tags["h"].split(":")}
    assert covered == {
        "from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post"
    }  # fmt: skip
    # Another unsubscribe link breaks the signature.
    tampered = signed.replace(b"/u/tok123", b"/u/tok999")
    assert not dkim.verify(tampered, dnsfunc=dns)
    # Only the headers present are signed.
    assert dkim.verify(plain, dnsfunc=dns)
    assert "list-unsubscribe" not in str(parsed(plain)["DKIM-Signature"]).lower()


def test_dkim_keys_from_pem_text_and_their_problems() -> None:
    pem = rsa_pem()
    signer = DkimSigner(pem, selector="s", domain="example.com")
    message = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: x\r\n\r\nhello\r\n"
    record = signer.dns_record().encode()
    assert dkim.verify(signer.sign(message), dnsfunc=lambda name, timeout=5: record)
    with pytest.raises(ValueError, match="neither PEM text nor a readable file"):
        DkimSigner("/nonexistent/dkim.pem", selector="s", domain="example.com")
    with pytest.raises(ValueError, match="not an unencrypted PEM private key"):
        DkimSigner(
            "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----", selector="s", domain="d"
        )
    with pytest.raises(ValueError, match="selector and a domain"):
        DkimSigner(pem, selector="", domain="example.com")


class _BadSignature(Exception):
    pass


class _VerifyKey:
    """PyNaCl's ``VerifyKey`` as dkimpy calls it, over ``cryptography`` (PyNaCl is not a
    dependency: dkimpy verifies Ed25519 with it, and only the tests verify)."""

    def __init__(self, key: bytes, encoder: object = None) -> None:
        self._key = ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(key))

    def verify(self, digest: bytes, signature: bytes) -> None:
        try:
            self._key.verify(signature, digest)
        except InvalidSignature as error:
            raise _BadSignature from error


def test_dkim_ed25519(monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(dkim, "nacl"):
        shim = SimpleNamespace(
            signing=SimpleNamespace(VerifyKey=_VerifyKey),
            encoding=SimpleNamespace(Base64Encoder=None),
            exceptions=SimpleNamespace(BadSignatureError=_BadSignature, ValueError=ValueError),
        )
        monkeypatch.setattr(dkim, "nacl", shim, raising=False)
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    signer = DkimSigner(pem, selector="s", domain="example.com")
    message = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: x\r\n\r\nhello\r\n"
    signed = signer.sign(message)
    record = signer.dns_record().encode()
    assert record.startswith(b"v=DKIM1; k=ed25519; p=")
    assert b"a=ed25519-sha256" in signed
    assert dkim.verify(signed, dnsfunc=lambda name, timeout=5: record)
    assert not dkim.verify(
        signed.replace(b"Subject: x", b"Subject: y"), dnsfunc=lambda n, timeout=5: record
    )
