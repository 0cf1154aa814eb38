"""Email over SMTP with the standard library's ``smtplib``, one connection reused across sends.

**URLs.** ``smtp://[user:pass@]host[:port]`` speaks plain SMTP (port 25; for a relay on the same
machine or a development mailbox such as ``patron mailbox``); ``smtp+starttls://`` upgrades with
STARTTLS (port 587) and refuses to send when the server does not offer it, so a stripped
``STARTTLS`` never turns into plain text; ``smtps://`` wraps the connection in TLS from the start
(port 465). User and password come percent-decoded from the URL and are sent with ``AUTH``.
Certificates are checked against certifi's CA bundle; ``?verify=false`` turns the check off, for
development servers with self-signed certificates only.

**Connections.** The transport opens a connection on the first send and keeps it for the next
batches (10,000 messages must go out at 200/s or more, which a connection per message cannot
do). A connection found closed (the server's idle timeout between batches, or a drop mid-batch)
is reopened and the message sent again; a connection that fails before it delivered anything is
not retried in the same batch, so a dead server costs one attempt, and the rest of the batch is
answered ``retry``. A message whose connection broke after its data went out may have been
delivered; sending it again is the at-least-once price, and the ``Message-ID`` lets receivers
drop the copy. Batches from several threads take turns on the one connection (a lock).

**Two steps.** ``send`` runs a whole exchange per message. ``prepare`` (``PipelinedEmailTransport``)
stops one step short: MAIL, RCPT, DATA and the message's dot-stuffed lines go out, and the
returned ``PendingSmtp`` holds the connection until ``finish`` sends the final ``.`` and reads
the server's acceptance (or ``abandon`` drops the connection, and the server discards the
unfinished message). Until that dot the server has accepted nothing, so the messages service
can put the next message on the wire while it records the previous result, and still never
have two accepted messages unrecorded. A server that cannot be reached raises
``TransportUnavailable`` from ``prepare``; the service answers ``retry`` for the rest of the
batch's emails.

**Outcomes.** Accepted: ``sent`` with the server's reply (it usually names the queue id).
A 5xx reply to the sender, the recipient or the data: ``failed``. A 4xx reply, a lost or refused
connection, a timeout, a TLS or login failure while connecting: ``retry`` (the messages service
backs off and gives up in the end). A message that cannot be built (a line feed in a header):
``failed``.
"""

from __future__ import annotations

import quopri
import re
import smtplib
import socket
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime, formataddr, parseaddr
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

import certifi

from patron.adapters.messaging.dkim import DkimSigner
from patron.adapters.tls import verified_context
from patron.services.ports.transports import Delivery, OutgoingEmail, TransportUnavailable

Security = Literal["plain", "starttls", "tls"]
SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}
DEFAULT_TIMEOUT = 30.0
# Bodies in quoted-printable or base64, never 8bit: any server takes them, with or without
# 8BITMIME. Headers are RFC 2047-encoded, unless an address needs SMTPUTF8 (then raw UTF-8).
ASCII = SMTP.clone(cte_type="7bit")
INTERNATIONAL = SMTPUTF8.clone(cte_type="7bit")
MAX_DETAIL = 500
CRLF = "\r\n"
_DOT = re.compile(rb"(?m)^\.")  # a line that starts with "." is sent with one more (RFC 5321)


def _part_head(subtype: str) -> list[str]:
    return [
        f'Content-Type: text/{subtype}; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
    ]


def _qp(text: str) -> str:
    """Quoted-printable UTF-8 with CRLF line ends: 7-bit, lines under 77 characters."""
    encoded = quopri.encodestring(text.replace("\r\n", "\n").encode("utf-8")).decode("ascii")
    return encoded.replace("\n", CRLF)


@dataclass(frozen=True, slots=True)
class SmtpEndpoint:
    security: Security
    host: str
    port: int
    user: str | None = None
    password: str | None = None
    verify: bool = True


def parse_smtp_url(url: str) -> SmtpEndpoint:
    """The endpoint of ``url``; ValueError says what is wrong with it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ValueError(f"not an SMTP URL: {error}") from error
    if parts.scheme not in SCHEMES:
        raise ValueError(
            f"an SMTP URL starts with smtp://, smtp+starttls:// or smtps://, not {parts.scheme!r}"
        )
    if not parts.hostname:
        raise ValueError("the SMTP URL names no host (smtp://host:port)")
    if parts.path not in ("", "/"):
        raise ValueError("an SMTP URL has no path (smtp://user:pass@host:port)")
    security, default_port = SCHEMES[parts.scheme]
    verify = True
    for name, values in parse_qs(parts.query, keep_blank_values=True).items():
        if name != "verify" or values[-1].lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"unknown SMTP URL option {name}={values[-1]} (only verify=false)")
        verify = values[-1].lower() in ("true", "1")
    return SmtpEndpoint(
        security=security,
        host=parts.hostname,
        port=port or default_port,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        verify=verify,
    )


def parse_sender(mail_from: str) -> tuple[str, str]:
    """``(display name, address)`` of ``Name <user@domain>`` or ``user@domain``."""
    name, address = parseaddr(mail_from)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in address):
        raise ValueError(f"not an email address: {mail_from!r} (e.g. Patron <loyalty@example.com>)")
    return name, address


def tls_context(verify: bool) -> ssl.SSLContext:
    if verify:
        return verified_context()
    context = ssl.create_default_context(cafile=certifi.where())
    context.check_hostname = False  # development only: ?verify=false
    context.verify_mode = ssl.CERT_NONE
    return context


class ConnectFailed(Exception):
    """Opening, securing or logging in to a connection failed."""


class SmtpTransport:
    """``EmailTransport`` over SMTP (see the module docstring)."""

    def __init__(
        self,
        url: str,
        mail_from: str,
        *,
        dkim: DkimSigner | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        local_hostname: str | None = None,
    ) -> None:
        self.endpoint = parse_smtp_url(url)
        self.sender_name, self.sender = parse_sender(mail_from)
        self.domain = self.sender.rpartition("@")[2]
        self.dkim = dkim
        self.timeout = timeout
        self._local_hostname = local_hostname
        self._context = tls_context(self.endpoint.verify)
        self._connection: smtplib.SMTP | None = None
        self._lock = threading.Lock()
        self.connections_opened = 0
        """How many connections this transport opened (tests and benchmarks read it)."""

    # -- EmailTransport -------------------------------------------------------------------------

    def send(self, emails: Sequence[OutgoingEmail]) -> list[Delivery]:
        with self._lock:  # one SMTP session: one batch at a time
            return self._send(emails)

    def _send(self, emails: Sequence[OutgoingEmail]) -> list[Delivery]:
        deliveries: list[Delivery] = []
        for index, email in enumerate(emails):
            try:
                message = self.render(email)
            except (ValueError, TypeError, UnicodeError) as error:
                deliveries.append(Delivery("failed", _short(f"cannot build the message: {error}")))
                continue
            try:
                deliveries.append(self._deliver(email.to, message))
            except ConnectFailed as error:
                # The server is unreachable: no point trying the rest of the batch now.
                detail = _short(str(error))
                deliveries.extend(Delivery("retry", detail) for _ in emails[index:])
                break
        return deliveries

    def prepare(self, email: OutgoingEmail) -> Delivery | PendingSmtp:
        """``PipelinedEmailTransport``: MAIL, RCPT, DATA and the message's lines, all but the
        final ``.``; ``PendingSmtp.finish`` sends it and reads the server's acceptance. The
        connection is held (the lock) until then.

        Raises: TransportUnavailable (the server cannot be reached or refused the session)."""
        self._lock.acquire()
        try:
            answer = self._prepare(email)
        except BaseException:
            self._lock.release()
            raise
        if answer is not None:
            self._lock.release()
            return answer
        return PendingSmtp(self)

    def _prepare(self, email: OutgoingEmail) -> Delivery | None:
        try:
            message = self.render(email)
        except (ValueError, TypeError, UnicodeError) as error:
            return Delivery("failed", _short(f"cannot build the message: {error}"))
        for attempt in (1, 2):
            fresh = self._connection is None
            try:
                connection = self._connect()
            except ConnectFailed as error:
                raise TransportUnavailable(str(error)) from error
            try:
                return self._start_on(connection, email.to, message)
            except (smtplib.SMTPServerDisconnected, OSError) as error:
                self._drop()
                if fresh or attempt == 2:
                    raise TransportUnavailable(_short(_lost(error))) from error
                # The kept connection had been closed under us (idle timeout): once more.
        raise AssertionError("not reached: the second attempt returns or raises")

    def _start_on(self, connection: smtplib.SMTP, to: str, message: bytes) -> Delivery | None:
        """MAIL, RCPT, DATA and the dot-stuffed lines; None when the server waits for the end."""
        refused = self._envelope(connection, to, message)
        if refused is not None:
            return refused
        connection.putcmd("data")
        code, reply = connection.getreply()
        if code != 354:
            return self._refused(connection, code, reply)
        lines = _DOT.sub(b"..", message)
        if not lines.endswith(b"\r\n"):
            lines += b"\r\n"
        connection.send(lines)
        return None

    def _finish(self) -> Delivery:
        """The final ``.`` of the prepared message, and the server's answer."""
        connection = self._connection
        try:
            if connection is None:
                return Delivery("retry", "the connection was closed before the message ended")
            try:
                connection.send(b".\r\n")
                code, reply = connection.getreply()
            except (smtplib.SMTPServerDisconnected, OSError) as error:
                # The data went out and no answer came: the server may or may not have it.
                self._drop()
                return Delivery("retry", _short(_lost(error)))
            if code != 250:
                return self._refused(connection, code, reply)
            text = reply.decode("utf-8", "replace")
            return Delivery("sent", _short(f"{code} {text}") if text else None)
        finally:
            self._lock.release()

    def _abandon(self) -> None:
        """A message cannot be withdrawn once its data began: the connection is dropped, and
        the server discards the unfinished message."""
        try:
            self._drop()
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
            if connection is None:
                return
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                connection.close()

    # -- building -------------------------------------------------------------------------------

    def render(self, email: OutgoingEmail) -> bytes:
        """The message as sent: headers, text (and html) parts, DKIM signature when configured.

        ASCII addresses (nearly every message) are written directly: headers (RFC 2047 for
        non-ASCII text), ``MIME-Version``, quoted-printable UTF-8 parts. ``EmailMessage`` and
        its header registry cost about 2 ms a message, most of a send; a non-ASCII address
        needs SMTPUTF8, which ``EmailMessage`` writes. Long headers (an unsubscribe URL) stay on
        one line, well under RFC 5322's 998 characters."""
        international = not (email.to.isascii() and self.sender.isascii())
        data = self._modern(email) if international else self._classic(email)
        return self.dkim.sign(data) if self.dkim is not None else data

    def _headers(self, email: OutgoingEmail) -> list[tuple[str, str]]:
        name = email.sender_name if email.sender_name is not None else self.sender_name
        given = {header.lower() for header in email.headers}
        own = [
            ("From", formataddr((name, self.sender)) if name else self.sender),
            ("To", email.to),
            ("Subject", email.subject),
            ("Date", format_datetime(datetime.now(UTC))),
            ("Message-ID", f"<{email.message_id}@{self.domain}>"),
        ]
        # a given header replaces the transport's own
        return [(k, v) for k, v in own if k.lower() not in given] + list(email.headers.items())

    def _classic(self, email: OutgoingEmail) -> bytes:
        lines = []
        for header, value in self._headers(email):
            if "\n" in value or "\r" in value:
                raise ValueError(f"a line break in the {header} header")
            encoded = value if value.isascii() else Header(value, "utf-8").encode(linesep=CRLF)
            lines.append(f"{header}: {encoded}")
        lines.append("MIME-Version: 1.0")
        if email.html is None:
            lines += [*_part_head("plain"), "", _qp(email.text)]
        else:
            # "=_" never occurs in quoted-printable text (it would be "=3D_"): a safe boundary.
            boundary = f"=_patron_{email.message_id}"
            lines += [
                f'Content-Type: multipart/alternative; boundary="{boundary}"',
                "",
                f"--{boundary}",
                *_part_head("plain"),
                "",
                _qp(email.text),
                f"--{boundary}",
                *_part_head("html"),
                "",
                _qp(email.html),
                f"--{boundary}--",
            ]
        return (CRLF.join(lines) + CRLF).encode("ascii")

    def _modern(self, email: OutgoingEmail) -> bytes:
        message = EmailMessage(policy=INTERNATIONAL)
        for header, value in self._headers(email):
            message[header] = value
        message.set_content(email.text)
        if email.html is not None:
            message.add_alternative(email.html, subtype="html")
        return message.as_bytes()

    # -- sending --------------------------------------------------------------------------------

    def _deliver(self, to: str, message: bytes) -> Delivery:
        fresh = self._connection is None
        connection = self._connect()
        try:
            return self._send_on(connection, to, message)
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._drop()
            if fresh:
                raise ConnectFailed(_lost(error)) from error
        # The kept connection had been closed under us (idle timeout, a drop mid-batch): once
        # more on a new one.
        connection = self._connect()
        try:
            return self._send_on(connection, to, message)
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._drop()
            raise ConnectFailed(_lost(error)) from error

    def _options(self, connection: smtplib.SMTP, message: bytes) -> list[str] | Delivery:
        """The MAIL command's options, or the refusal when the server cannot take the message."""
        options: list[str] = []
        if not message.isascii():  # raw UTF-8 headers: an address is not ASCII
            if not connection.has_extn("smtputf8"):
                return Delivery("failed", "the server does not accept non-ASCII addresses")
            options.append("SMTPUTF8")
        if connection.does_esmtp and connection.has_extn("size"):
            options.append(f"SIZE={len(message)}")
        return options

    def _envelope(self, connection: smtplib.SMTP, to: str, message: bytes) -> Delivery | None:
        """MAIL and RCPT; the refusal, or None when the server waits for the data."""
        options = self._options(connection, message)
        if isinstance(options, Delivery):
            return options
        code, reply = connection.mail(self.sender, options)
        if code != 250:
            return self._refused(connection, code, reply)
        code, reply = connection.rcpt(to)
        if code not in (250, 251):
            return self._refused(connection, code, reply)
        return None

    def _send_on(self, connection: smtplib.SMTP, to: str, message: bytes) -> Delivery:
        """One MAIL, RCPT, DATA exchange (``sendmail`` does not give the DATA reply back)."""
        refused = self._envelope(connection, to, message)
        if refused is not None:
            return refused
        try:
            code, reply = connection.data(message)
        except smtplib.SMTPDataError as error:  # DATA itself refused (no 354)
            return self._refused(connection, error.smtp_code, error.smtp_error)
        if code != 250:
            return self._refused(connection, code, reply)
        text = reply.decode("utf-8", "replace")
        return Delivery("sent", _short(f"{code} {text}") if text else None)

    def _refused(self, connection: smtplib.SMTP, code: int, reply: bytes | str) -> Delivery:
        """The answer to a refusal; the session is reset (or dropped after a 421) for the next."""
        if code == 421 or code == -1:  # the server is closing the connection
            self._drop()
        else:
            try:
                connection.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()
        if code == -1:
            return Delivery("retry", "the server closed the connection")
        return _answer(code, reply)

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        endpoint = self.endpoint
        if self._local_hostname is None:
            self._local_hostname = socket.getfqdn()  # once: it may ask DNS
        connection: smtplib.SMTP
        try:
            if endpoint.security == "tls":
                connection = smtplib.SMTP_SSL(
                    endpoint.host,
                    endpoint.port,
                    local_hostname=self._local_hostname,
                    timeout=self.timeout,
                    context=self._context,
                )
            else:
                connection = smtplib.SMTP(
                    endpoint.host,
                    endpoint.port,
                    local_hostname=self._local_hostname,
                    timeout=self.timeout,
                )
        except (smtplib.SMTPException, OSError) as error:
            raise ConnectFailed(
                _short(f"cannot connect to {endpoint.host}:{endpoint.port}: {_lost(error)}")
            ) from error
        try:
            # The final "." of a two-step message is a small write after the lines with no reply
            # between them: with Nagle's algorithm it would wait for the server's delayed ACK
            # (about 40 ms a message).
            if connection.sock is not None:
                connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection.ehlo()
            if endpoint.security == "starttls":
                if not connection.has_extn("starttls"):
                    raise ConnectFailed(
                        f"{endpoint.host}:{endpoint.port} does not offer STARTTLS "
                        "(smtp+starttls:// never sends in plain text)"
                    )
                connection.starttls(context=self._context)
                connection.ehlo()
            if endpoint.user is not None:
                connection.login(endpoint.user, endpoint.password or "")
        except ConnectFailed:
            connection.close()
            raise
        except (smtplib.SMTPException, OSError) as error:
            connection.close()
            raise ConnectFailed(
                _short(
                    f"cannot open a session with {endpoint.host}:{endpoint.port}: {_lost(error)}"
                )
            ) from error
        self._connection = connection
        self.connections_opened += 1
        return connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


class PendingSmtp:
    """``PendingEmail`` of ``SmtpTransport.prepare``: the server holds the message's lines."""

    def __init__(self, transport: SmtpTransport) -> None:
        self._transport: SmtpTransport | None = transport

    def finish(self) -> Delivery:
        transport, self._transport = self._transport, None
        assert transport is not None, "finished or abandoned already"
        return transport._finish()

    def abandon(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport._abandon()


def _answer(code: int, reply: bytes | str) -> Delivery:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    status: Literal["retry", "failed"] = "retry" if 400 <= code < 500 else "failed"
    return Delivery(status, _short(f"{code} {text}"))


def _lost(error: BaseException) -> str:
    if isinstance(error, TimeoutError | socket.timeout):
        return "timed out"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _short(text: str) -> str:
    return " ".join(text.split())[:MAX_DETAIL]
