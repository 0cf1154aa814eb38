"""`patron import` killed with SIGKILL and run again until it finishes: the books come out
exactly as those of an uninterrupted import, with nothing doubled and nothing lost.

The importer runs as a real process. Kill points (seeded, so a failure replays): inside the
first batch of the members import, inside the first batch of the purchases import (nothing
committed yet), and twice mid-file at random depths, each time while a batch transaction is
open. The same files imported once, without interruption, into a twin program of the same
database are the reference.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.cli.main import app
from tests.fault_support import PATRON, count, patron_env, snapshot, writer_active
from tests.ledger_support import audit, new_program
from tests.support_example import EXAMPLE_CONFIG

SEED = 20261201
MEMBERS = 60
BAD = ("P-0013", "P-0101")  # rows naming a member who does not exist: rejected every time


def members_csv(path: Path) -> Path:
    # enrolled before the purchases: a member's purchase may not predate the enrolment (beyond
    # the program's anonymous_claim_days)
    lines = ["external_id,email,first_name,attr_city,enrolled_at"]
    lines += [
        f"C-{n:04},c{n}@example.com,Member {n},{'Oslo' if n % 3 else 'Lyon'},2026-01-01T00:00:00Z"
        for n in range(MEMBERS)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def purchases_csv(path: Path, purchases: int, rng: random.Random) -> Path:
    head = "external_id,member_external_id,occurred_at,channel,sku,category,quantity,unit_price"
    lines = [head]
    for n in range(purchases):
        key = f"P-{n:04}"
        member = f"C-{rng.randrange(MEMBERS):04}" if n % 17 else ""  # some anonymous
        if key in BAD:
            member = "C-9999"
        day = 1 + n % 28
        at = f"2026-02-{day:02}T{10 + n % 8}:00:00Z"
        channel = rng.choice(["store", "online"])
        for line in range(1 + n % 3):
            sku, category = rng.choice(
                [("S-1", "shoes"), ("LIP-01", "makeup"), ("B-1", "books"), ("T-1", "toys")]
            )
            price = f"{rng.randrange(100, 9000) / 100:.2f}"
            lines.append(
                f"{key},{member},{at},{channel},{sku}-{line},{category},{1 + line},{price}"
            )
    path.write_text("\n".join(lines) + "\n")
    return path


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert process.poll() is None, f"the import ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


class Importer:
    """Runs `patron import` as a process, kills it at a chosen point, and keeps a log."""

    def __init__(self, db_url: str, engine: sa.Engine, program_id: str, tmp: Path) -> None:
        self.db_url, self.engine, self.program_id, self.tmp = db_url, engine, program_id, tmp
        self.runs = 0
        self.kills: list[tuple[str, int, int]] = []  # (kind, committed before, committed after)

    def start(self, kind: str, path: Path, batch: int) -> subprocess.Popen[bytes]:
        self.runs += 1
        log = (self.tmp / f"run-{self.runs}.log").open("wb")
        command = [*PATRON, "import", kind, str(path), "--program", "shop", "--batch", str(batch)]
        return subprocess.Popen(
            command, env=patron_env(self.db_url), stdout=log, stderr=subprocess.STDOUT
        )

    def committed(self, kind: str) -> int:
        return count(self.engine, t.members if kind == "members" else t.purchases, self.program_id)

    def kill_when(
        self, kind: str, path: Path, batch: int, at_least: int, extra_delay: float
    ) -> None:
        """Start an import, wait until ``at_least`` rows are committed and a batch transaction
        is open, wait ``extra_delay`` more, then SIGKILL it."""
        process = self.start(kind, path, batch)
        try:
            wait_for(lambda: self.committed(kind) >= at_least, process, f"{at_least} rows")
            wait_for(lambda: writer_active(self.db_url), process, "a batch transaction")
            before = self.committed(kind)
            time.sleep(extra_delay)
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(30)
        assert process.returncode == -signal.SIGKILL
        self.kills.append((kind, before, self.committed(kind)))

    def finish(self, kind: str, path: Path, batch: int) -> int:
        process = self.start(kind, path, batch)
        return process.wait(300)


def test_an_import_killed_again_and_again_ends_with_the_books_of_an_uninterrupted_one(
    db_url: str, container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(SEED)
    started = datetime.now(UTC)
    sqlite = db_url.startswith("sqlite")
    purchases = 300 if sqlite else 120  # a few seconds of importing on either backend
    batch = purchases // 6
    shop = new_program(container, slug="shop", config=EXAMPLE_CONFIG)
    reference = new_program(container, slug="reference", config=EXAMPLE_CONFIG)
    members = members_csv(tmp_path / "members.csv")
    bought = purchases_csv(tmp_path / "purchases.csv", purchases, rng)

    monkeypatch.setenv("PATRON_DATABASE_URL", db_url)
    runner = CliRunner()
    for kind, path in (("members", members), ("purchases", bought)):
        done = runner.invoke(
            app,
            ["import", kind, str(path), "--program", "reference", "--batch", str(batch)],
        )
        assert done.exit_code == (1 if kind == "purchases" else 0), done.output
    expected_rejections = (bought.parent / "purchases.csv.rejected.csv").read_text()

    importer = Importer(db_url, container.engine, shop.id, tmp_path)
    importer.kill_when("members", members, MEMBERS // 2, 0, 0)
    assert importer.finish("members", members, MEMBERS // 2) == 0

    importer.kill_when("purchases", bought, batch, 0, 0)
    depth = sorted(rng.sample(range(batch, purchases - 2 * batch), 2))
    for at_least in depth:
        importer.kill_when("purchases", bought, batch, at_least, rng.uniform(0, 0.2))
    assert importer.finish("purchases", bought, batch) == 1  # the two bad rows
    assert (bought.parent / "purchases.csv.rejected.csv").read_text() == expected_rejections

    # The kills landed where they were meant to: before anything of the file was committed,
    # and twice with part of it committed and part not.
    first_members, first_purchases, *deep = importer.kills
    assert first_members[2] == 0
    assert first_purchases[2] == 0
    assert all(0 < after < purchases - len(BAD) for _, _, after in deep)

    got, want = (
        snapshot(container.engine, shop.id, started),
        snapshot(container.engine, reference.id, started),
    )
    assert len(want["purchases"]) == purchases - len(BAD)
    assert len(want["members"]) == MEMBERS
    for part in want:
        assert got[part] == want[part], part
    assert audit(container) == []
    audited = runner.invoke(app, ["audit"])
    assert audited.exit_code == 0, audited.output
    assert "clean" in audited.stdout
