"""Local stand-ins for Apple's push service and Google's Wallet API (token endpoint and
loyalty objects), on loopback: they record what they are sent and answer as the real ones do.
``serve`` is one plain-HTTP/1.1 server for both; ``serve_apns_h2`` stands in for APNs as it is:
HTTPS, HTTP/2 only, a client certificate required."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import ConnectionTerminated, DataReceived, RequestReceived, StreamEnded

from tests.wallet_support import server_chain


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    version: str = "HTTP/2"

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Stand:
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    missing_objects: set[str] = field(default_factory=set)
    gone_tokens: set[str] = field(default_factory=set)

    def of(self, method: str, prefix: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method and c.path.startswith(prefix)]

    def clear(self) -> None:
        with self.lock:
            self.calls.clear()


def serve() -> Iterator[Stand]:
    stand = Stand()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            call = Call(
                self.command,
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
                self.request_version,
            )
            with stand.lock:
                stand.calls.append(call)
            status, reply = 200, b"{}"
            if self.path == "/token":
                form = parse_qs(body.decode())
                assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
                reply = json.dumps({"access_token": "ya29.test", "expires_in": 3600}).encode()
            elif self.path.startswith("/3/device/") and self.path[10:] in stand.gone_tokens:
                status, reply = 410, b'{"reason": "Unregistered"}'
            elif (
                self.path.startswith("/loyaltyObject/")
                and self.path.rsplit("/", 1)[1] in stand.missing_objects
            ):
                status = 404
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def do_POST(self) -> None:
            self._answer()

        def do_PATCH(self) -> None:
            self._answer()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class ApnsStand:
    """What the HTTP/2 stand-in of Apple's push service saw: per connection, the protocol agreed
    in the TLS handshake and the client certificate's subject; per request, its HTTP/2 headers
    (pseudo-headers included) and body."""

    url: str = ""
    gone_tokens: set[str] = field(default_factory=set)
    protocols: list[str | None] = field(default_factory=list)
    client_subjects: list[str] = field(default_factory=list)
    requests: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def serve_apns_h2(folder: Path, trusted_clients_pem: str) -> Iterator[ApnsStand]:
    """An HTTPS server on loopback that speaks HTTP/2 only, as ``api.push.apple.com`` does: it
    offers ``h2`` (and ``http/1.1``, to see which the client picks) in the TLS handshake, asks
    for a client certificate issued under ``trusted_clients_pem``, and answers a push with 200,
    or 410 for a token in ``gone_tokens``. A connection that did not agree on ``h2`` is closed.
    Its certificate is ``wallet_support.server_chain()``'s: the client must trust that CA."""
    made = server_chain()
    certfile, keyfile = folder / "server.pem", folder / "server.key"
    certfile.write_text(made.cert_pem)
    keyfile.write_text(made.key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    context.set_alpn_protocols(["h2", "http/1.1"])
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=trusted_clients_pem)
    stand = ApnsStand()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stand.url = f"https://127.0.0.1:{listener.getsockname()[1]}"
    stop = threading.Event()

    def answer(h2: H2Connection, stream: int, headers: dict[str, str], body: bytes) -> None:
        with stand.lock:
            stand.requests.append(Call(headers[":method"], headers[":path"], headers, body))
        token = headers[":path"].rsplit("/", 1)[1]
        reply = b'{"reason":"Unregistered"}' if token in stand.gone_tokens else b""
        status = "410" if reply else "200"
        h2.send_headers(stream, [(":status", status), ("content-length", str(len(reply)))])
        h2.send_data(stream, reply, end_stream=True)

    def handle(raw: socket.socket) -> None:
        try:
            conn = context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        with conn:
            peer: Any = conn.getpeercert()
            subject = dict(x[0] for x in peer["subject"])
            with stand.lock:
                stand.protocols.append(conn.selected_alpn_protocol())
                stand.client_subjects.append(str(subject.get("commonName")))
            if conn.selected_alpn_protocol() != "h2":
                return
            h2 = H2Connection(H2Configuration(client_side=False, header_encoding="utf-8"))
            h2.initiate_connection()
            conn.sendall(h2.data_to_send())
            streams: dict[int, tuple[dict[str, str], bytearray]] = {}
            while not stop.is_set():
                data = conn.recv(65535)
                if not data:
                    return
                for event in h2.receive_data(data):
                    if isinstance(event, RequestReceived):
                        streams[event.stream_id] = (dict(event.headers), bytearray())
                    elif isinstance(event, DataReceived):
                        streams[event.stream_id][1].extend(event.data)
                        h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, StreamEnded):
                        headers, body = streams.pop(event.stream_id)
                        answer(h2, event.stream_id, headers, bytes(body))
                    elif isinstance(event, ConnectionTerminated):
                        conn.sendall(h2.data_to_send())
                        return
                conn.sendall(h2.data_to_send())

    def accept() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            raw.settimeout(10)
            threading.Thread(target=handle, args=(raw,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield stand
    finally:
        stop.set()
        thread.join(5)
        listener.close()
