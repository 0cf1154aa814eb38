"""``patron mailbox``: a local SMTP server that shows what Patron sends, for development.

It listens with ``aiosmtpd`` (plain SMTP, no authentication, every recipient accepted), prints
one line per message received (sender, recipients, subject and the ``List-Unsubscribe`` link
when there is one) and, with ``--dir``, keeps each message whole as a ``.eml`` file any mail
program opens. Point Patron at it with ``PATRON_SMTP_URL=smtp://127.0.0.1:8025``. Ctrl-C (or
SIGTERM) stops it.
"""

from __future__ import annotations

import re
import signal
import threading
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from types import FrameType
from typing import Any

import typer
from aiosmtpd.controller import Controller

from patron.cli.output import err, out

LINK = re.compile(r"<(https?://[^>\s]+)>")
MAILTO = re.compile(r"<(mailto:[^>\s]+)>")


def unsubscribe_link(header: str | None) -> str | None:
    """The web link of a ``List-Unsubscribe`` header, else its mailto: link."""
    if not header:
        return None
    found = LINK.search(header) or MAILTO.search(header)
    return found.group(1) if found else None


class Mailbox:
    """The aiosmtpd handler: a summary line per message, and the message saved when asked."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        data = content if isinstance(content, bytes) else str(content).encode()
        headers = BytesParser(policy=default).parsebytes(data, headersonly=True)
        self.received += 1
        now = datetime.now(UTC)
        parts = [
            now.strftime("%H:%M:%S"),
            f"from {envelope.mail_from}",
            f"to {', '.join(envelope.rcpt_tos)}",
            f"subject {str(headers.get('Subject', ''))!r}",
        ]
        link = unsubscribe_link(headers.get("List-Unsubscribe"))
        if link:
            parts.append(f"unsubscribe {link}")
        if self.directory is not None:
            path = self.directory / f"{now:%Y%m%dT%H%M%S}-{self.received:05d}.eml"
            path.write_bytes(data)
            parts.append(f"saved {path}")
        out.print("  ".join(parts), markup=False, highlight=False)
        return f"250 OK: message {self.received} received"


def mailbox(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8025, min=1, max=65_535, help="port to listen on"),
    directory: Path | None = typer.Option(
        None, "--dir", help="save each message received as a .eml file in this directory"
    ),
) -> None:
    """Run a local SMTP server that prints (and with --dir saves) every message it receives:
    point PATRON_SMTP_URL at smtp://HOST:PORT to see what Patron sends."""
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(
        Mailbox(directory), hostname=host, port=port, server_hostname="patron-mailbox"
    )
    try:
        controller.start()
    except (OSError, RuntimeError, TimeoutError) as error:
        err.print(f"[red]error[/red]: cannot listen on {host}:{port}: {error}", highlight=False)
        raise typer.Exit(1) from error
    stop = threading.Event()

    def stop_on(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stop_on)
    signal.signal(signal.SIGINT, stop_on)
    saving = f", saving to {directory}" if directory is not None else ""
    out.print(
        f"patron mailbox listening on smtp://{host}:{port}{saving} (Ctrl-C stops)",
        markup=False,
        highlight=False,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        controller.stop()
    out.print("patron mailbox stopped", markup=False, highlight=False)
