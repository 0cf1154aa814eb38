"""Local stand-ins for Apple's push service and Google's Wallet API (token endpoint and
loyalty objects), on loopback: they record what they are sent and answer as the real ones do."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

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
                self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
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
