"""``patron mailbox``: a local SMTP server started as a process; it prints a line per message
(with the unsubscribe link), keeps each as a .eml file with --dir, and stops cleanly on Ctrl-C.
And Patron's own SMTP transport delivers to it."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import patron
from patron.adapters.messaging import SmtpTransport
from patron.cli.mailbox import unsubscribe_link
from patron.services.ports.transports import OutgoingEmail
from tests.adapters.smtp_support import free_port

PATRON = [sys.executable, "-c", "from patron.cli.main import main; main()"]


def read_line(process: subprocess.Popen[str], timeout: float = 20) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line:
            return line.rstrip("\n")
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
    raise AssertionError("no line from patron mailbox")


def test_mailbox_prints_and_saves_what_it_receives(tmp_path: Path) -> None:
    port = free_port()
    saved = tmp_path / "mail"
    source = str(Path(patron.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")]),
        # No database for this command: a URL that cannot work proves it is not opened.
        "PATRON_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "COLUMNS": "300",
    }
    process = subprocess.Popen(
        [*PATRON, "mailbox", "--port", str(port), "--dir", str(saved)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert read_line(process) == (
            f"patron mailbox listening on smtp://127.0.0.1:{port}, saving to {saved} (Ctrl-C stops)"
        )
        message = EmailMessage()
        message["From"] = "Patron <loyalty@example.com>"
        message["To"] = "ann@example.org"
        message["Subject"] = "Your points"
        message["List-Unsubscribe"] = "<mailto:u@example.com>, <https://x.example/u/tok>"
        message.set_content("120 points\n")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(message)
        line = read_line(process)
        assert "from loyalty@example.com" in line
        assert "to ann@example.org" in line
        assert "subject 'Your points'" in line
        assert "unsubscribe https://x.example/u/tok" in line
        [eml] = saved.glob("*.eml")
        assert f"saved {eml}" in line
        assert b"Subject: Your points" in eml.read_bytes()

        transport = SmtpTransport(f"smtp://127.0.0.1:{port}", "loyalty@example.com")
        email = OutgoingEmail(message_id="m-2", to="bob@example.org", subject="Hi", text="x")
        assert transport.send([email])[0].status == "sent"
        transport.close()
        assert "to bob@example.org" in read_line(process)
        assert len(list(saved.glob("*.eml"))) == 2

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert process.stdout is not None
        assert "patron mailbox stopped" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def test_a_taken_port_is_a_one_line_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        source = str(Path(patron.__file__).resolve().parents[1])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")]),
        }
        done = subprocess.run(
            [*PATRON, "mailbox", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_unsubscribe_link_prefers_the_web_link() -> None:
    assert unsubscribe_link("<mailto:a@b.c>, <https://x/u/1>") == "https://x/u/1"
    assert unsubscribe_link("<mailto:a@b.c>") == "mailto:a@b.c"
    assert unsubscribe_link(None) is None
    assert unsubscribe_link("garbage") is None
