"""What ``patron serve`` needs besides the app: the demo's key kept across restarts, several
worker processes, and telling a newcomer how to reach the ``patron`` command.

**The demo key.** ``patron serve --demo`` (and ``scripts/start``) prints an admin key of the demo
program. It is kept in a file readable only by its owner (mode 0600) beside the SQLite database
(``patron.db.demo-key`` for ``patron.db``; ``.patron.demo-key`` in the working directory for
PostgreSQL), and the next start hands out the same key while it is still a live admin key of the
demo program. When it is not (the file was lost, the key revoked, the database replaced), the
earlier demo keys are revoked and a new one is issued and kept (``services.demo.ensure_demo``).

**Workers.** ``--workers N`` (N > 1) runs uvicorn's process manager over ``N`` worker processes,
each building the app with ``patron.web:create_app`` from the same ``PATRON_*`` settings.
The database is migrated once, by this process, before they start (the workers do not migrate).
The scheduled jobs run in this supervising process, in one loop, never in the workers: one loop
whatever N is, as with one worker. SQLite stays safe with several processes: every write takes
the database's single write lock (``BEGIN IMMEDIATE``, WAL, a 30 s busy timeout), so writes from
different workers queue rather than fail. Rate-limit counters with the default ``memory://``
storage are per process: with N workers a limit is in effect N times higher, so point
``PATRON_RATE_LIMIT_STORAGE`` at Redis to share them.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from rich.console import Console

from patron.services import demo, demo_data

APP_FACTORY = "patron.web:create_app"


def demo_key_file(database_url: str) -> Path:
    """Where the demo's admin key is kept for ``database_url``."""
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        database = Path(database_url.removeprefix("sqlite:///"))
        return database.with_name(database.name + ".demo-key")
    return Path(".patron.demo-key")


def read_demo_key(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def write_demo_key(path: Path, secret: str) -> None:
    """Write ``secret`` to ``path``, readable and writable by the owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    os.chmod(path, 0o600)  # an existing file keeps its mode through os.open: make sure


def cli_hint() -> str | None:
    """How to run ``patron`` when the running one is not on ``PATH`` (as after
    ``scripts/start``, which runs ``.venv/bin/patron``); None when ``patron`` works as is."""
    running = Path(sys.argv[0])
    if running.name != "patron":
        return None
    found = shutil.which("patron")
    if found is not None and Path(found).resolve() == running.resolve():
        return None
    shown = os.path.relpath(running) if not running.is_absolute() else str(running)
    if shown.startswith(".."):
        shown = str(running)
    activate = Path(shown).with_name("activate")
    return f"{shown} --help  (not on PATH: `source {activate}` puts it there)"


def run_workers(host: str, port: int, workers: int) -> None:
    """Serve with ``workers`` processes until interrupted (blocks)."""
    import uvicorn

    # The parent migrated the database already; N workers migrating at once would only contend.
    os.environ["PATRON_AUTO_UPGRADE"] = "false"
    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers, log_level="info")


def announce_demo(
    out: Console,
    made: demo.Demo,
    host: str,
    port: int,
    seconds: float,
    key_file: Path,
    public_url: str | None = None,
) -> None:
    """Where the demo is and how to try it: the URLs, the admin key, the console's one-time
    sign-in link, the ``patron`` command. Links start with ``public_url`` when it is set."""
    base = (public_url or f"http://{host}:{port}").rstrip("/")
    state = "created" if made.created else "already there"
    took = f" in {seconds:.0f}s" if made.created else ""
    out.print(f"[bold]Patron[/bold] demo program '{made.program.slug}' ({state}{took})")
    if made.story is not None:
        s = made.story
        out.print(
            f"  {demo_data.DAYS // 30} simulated months: {s.members} members "
            f"({s.referred} referred), {s.purchases} purchases (and {s.anonymous} by "
            f"non-members), {s.refunds} refunds, "
            f"{s.redemptions} redemptions ({s.vouchers_used} vouchers used), {s.reviews} reviews"
        )
    out.print(f"  Home:         {base}/")
    out.print(f"  API docs:     {base}/docs")
    out.print(
        f"  Try it:       curl -H 'Authorization: Bearer {made.key.secret}' "
        f"{base}/v1/programs/{made.program.slug}/members"
    )
    kept = "the same as last time" if made.key_reused else "new"
    out.print(f"  Admin key:    {made.key.secret}  ({kept}; kept in {key_file})", highlight=False)
    out.print(f"  Console:      {base}/console/", highlight=False)
    if made.owner_link:
        out.print(
            f"  Sign in:      {base}/console/set-password/{made.owner_link}  (one-time link of "
            f"{demo.DEMO_OWNER}, valid 24 hours: choose a password, then you are in)",
            highlight=False,
        )
    hint = cli_hint()
    if hint is not None:
        out.print(f"  CLI:          {hint}", highlight=False)
