"""``patron serve --workers 2``: two processes answer, against one SQLite file, writes included;
and the demo's admin key survives a restart."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import patron
from patron.bootstrap import build
from patron.cli import serving
from patron.cli.main import app
from patron.config import Settings
from patron.domain.errors import Unauthenticated
from patron.services import api_keys
from patron.services.transactions import run_read
from tests.factories import platform_key

PATRON = [sys.executable, "-c", "from patron.cli.main import main; main()"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_with_two_workers_answers_and_writes(sqlite_template: Path, tmp_path: Path) -> None:
    database = tmp_path / "patron.db"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    container = build(Settings(database_url=url, auto_upgrade=False))
    platform = platform_key(container)
    container.close()
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    source = str(Path(patron.__file__).resolve().parents[1])  # this checkout's package
    env = {
        **os.environ,
        "PATRON_DATABASE_URL": url,
        "PATRON_RATE_LIMITS_ENABLED": "false",
        "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")]),
    }
    server = subprocess.Popen(
        [*PATRON, "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {platform}"}
        made = httpx.post(
            f"{base}/v1/programs",
            json={"slug": "shop", "name": "Shop", "currency": "EUR", "timezone": "UTC"},
            headers=headers,
        )
        assert made.status_code == 201, made.text

        def enrol(n: int) -> int:
            body = {"email": f"m{n}@example.com"}
            return httpx.post(
                f"{base}/v1/programs/shop/members", json=body, headers=headers, timeout=30
            ).status_code

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(enrol, range(16))) == [201] * 16
        listed = httpx.get(f"{base}/v1/programs/shop/members?limit=100", headers=headers)
        assert len(listed.json()["items"]) == 16
        assert httpx.get(f"{base}/", headers={"Accept": "application/json"}).status_code == 200
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert output.count("Started server process") == 2, output
    assert "Traceback" not in output


def test_the_demo_key_is_kept_across_restarts(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # the key file of a PostgreSQL database is in the working directory
    monkeypatch.setenv("PATRON_DATABASE_URL", db_url)
    key_file = serving.demo_key_file(db_url)
    runner = CliRunner()

    # A short history (--days): what is kept across restarts is the key, not the story, which
    # test_ledger_storage.py tells in full.
    demo = ["demo", "--members", "10", "--days", "20"]

    def start() -> str:
        result = runner.invoke(app, demo)
        assert result.exit_code == 0, result.output
        [line] = [x for x in result.stdout.splitlines() if "Admin key:" in x]
        return line.split()[2]

    # As scripts/start runs it: .venv/bin/patron, which is not on PATH.
    monkeypatch.setattr(sys, "argv", [".venv/bin/patron", "demo"])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    shown = runner.invoke(app, demo).stdout
    assert "CLI:          .venv/bin/patron --help" in shown
    assert "`source .venv/bin/activate`" in shown
    assert "Home:         http://127.0.0.1:8000/" in shown

    first = start()
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert start() == first  # restarted: the same key, no new one

    key_file.unlink()  # lost: a new key, and the old one stops working
    second = start()
    assert second != first
    assert key_file.read_text().strip() == second
    container = build(Settings(database_url=db_url, auto_upgrade=False))
    try:

        def live(secret: str) -> bool:
            try:
                run_read(container.uow, lambda uow: api_keys.authenticate(uow, secret))
            except Unauthenticated:
                return False
            return True

        assert live(second)
        assert not live(first)
    finally:
        container.close()
