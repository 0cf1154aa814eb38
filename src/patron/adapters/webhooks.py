"""Sending webhook messages: Standard Webhooks signatures, and a guard against private targets.

Signatures come from the ``standardwebhooks`` library (the specification's reference
implementation). The signed timestamp is the moment of sending on the system clock, because
receivers compare it with their own clock (five minutes of tolerance in the reference library).

The guard lives in the connection itself: a network backend for ``httpcore`` resolves the host,
refuses any non-public address (unless private targets are allowed for development) and then
connects to the very address it checked. Checking the URL and letting the HTTP client resolve it
again would leave a window for DNS rebinding. Redirects are never followed (``httpcore`` does
not follow them), so a public endpoint cannot bounce a delivery inward either. Only the first
64 KiB of a response body are read.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpcore
from standardwebhooks.webhooks import Webhook

from patron.adapters.tls import verified_context
from patron.domain.webhooks import SEND_TIMEOUT_SECONDS, address_error, url_error
from patron.services.ports import SendResult

MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = b"Patron-Webhooks/1"


class TargetRefused(httpcore.ConnectError):
    """The resolved address is not one a webhook may reach."""


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (raises OSError when it does not resolve)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refusal(addresses: Iterable[str]) -> str | None:
    for address in addresses:
        reason = address_error(address)
        if reason is not None:
            return reason
    return None


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to addresses a webhook may reach, and to exactly the ones it checked."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port)
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
        if not self._allow_private:
            reason = refusal(addresses)
            if reason is not None:
                raise TargetRefused(f"refused: {reason}")
        failure: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as error:
                failure = error
        raise failure or httpcore.ConnectError(f"no address for {host}")


class HttpWebhookSender:
    def __init__(self, *, allow_private: bool, timeout: float = SEND_TIMEOUT_SECONDS) -> None:
        self._allow_private = allow_private
        self._timeout = timeout
        self._pool = httpcore.ConnectionPool(
            ssl_context=verified_context(),
            network_backend=GuardedBackend(allow_private=allow_private),
            max_connections=32,
            retries=0,
        )

    def check(self, url: str) -> str | None:
        reason = url_error(url)
        if reason is not None:
            return reason
        parts = urlsplit(url)
        assert parts.hostname is not None  # url_error checked it
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = resolve(parts.hostname, port)
        except OSError:
            return f"the host {parts.hostname} does not resolve"
        if self._allow_private:
            return None
        reason = refusal(addresses)
        return None if reason is None else f"refused: {reason}"

    def send(self, url: str, message_id: str, body: bytes, secrets: list[str]) -> SendResult:
        sent_at = datetime.now(UTC)
        text = body.decode()
        signature = " ".join(Webhook(s).sign(message_id, sent_at, text) for s in secrets)
        headers = [
            (b"content-type", b"application/json"),
            (b"user-agent", USER_AGENT),
            (b"webhook-id", message_id.encode()),
            (b"webhook-timestamp", str(int(sent_at.timestamp())).encode()),
            (b"webhook-signature", signature.encode()),
        ]
        timeouts = {
            "connect": self._timeout,
            "read": self._timeout,
            "write": self._timeout,
            "pool": self._timeout,
        }
        started = time.perf_counter()
        try:
            with self._pool.stream(
                "POST", url, headers=headers, content=body, extensions={"timeout": timeouts}
            ) as response:
                read = 0
                for chunk in response.iter_stream():
                    read += len(chunk)
                    if read >= MAX_RESPONSE_BYTES:
                        break
                status: int | None = response.status
                error = None if 200 <= response.status < 300 else f"HTTP {response.status}"
        except TargetRefused as refused:
            status, error = None, str(refused)
        except httpcore.TimeoutException:
            status, error = None, f"no answer within {self._timeout:g}s"
        except httpcore.ConnectError as failed:
            status, error = None, f"could not connect: {failed}"[:500]
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as bad:
            status, error = None, f"{type(bad).__name__}: {bad}"[:500]
        return SendResult(status, error, int((time.perf_counter() - started) * 1000))

    def close(self) -> None:
        self._pool.close()
