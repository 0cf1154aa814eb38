"""The commands that run Patron: ``patron serve`` (the API, with the job loop unless told
otherwise), ``patron worker`` (the job loop alone) and ``patron demo`` (the demo program).

How several workers are supervised and how the demo is announced is in ``serving.py``; the
job loop is in ``worker.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from patron.bootstrap import Container, build
from patron.cli import serving
from patron.cli.output import err, guarded, out
from patron.cli.worker import JobLoop
from patron.config import Settings
from patron.domain.audit import CLI
from patron.services import demo, demo_data


def serve(
    host: str | None = typer.Option(None, help="address to listen on (PATRON_HOST)"),
    port: int | None = typer.Option(None, help="port (PATRON_PORT)"),
    with_demo: bool = typer.Option(False, "--demo", help="set up the demo program first"),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="worker processes (jobs run once, in this process)"
    ),
) -> None:
    """Serve the API (docs at /docs). With --workers N, N processes answer requests and the
    scheduled jobs run in one loop in this supervising process (see cli/serving.py)."""
    import uvicorn

    from patron.web import create_app

    settings = Settings()
    container = build(settings)
    bind_host, bind_port = host or settings.host, port or settings.port
    if with_demo:
        started = time.monotonic()
        made = _make_demo(container, 2000, 7)
        serving.announce_demo(
            out,
            made,
            bind_host,
            bind_port,
            time.monotonic() - started,
            _key_file(settings),
            settings.public_url,
        )
    loop = JobLoop(container, settings.jobs_interval_seconds) if settings.run_jobs else None
    if loop is not None:
        loop.start()
    try:
        if workers > 1:
            serving.run_workers(bind_host, bind_port, workers)
        else:
            uvicorn.run(create_app(container), host=bind_host, port=bind_port, log_level="info")
    finally:
        if loop is not None:
            loop.stop()


def worker(
    interval: float | None = typer.Option(
        None, help="seconds between runs (PATRON_JOBS_INTERVAL_SECONDS)"
    ),
) -> None:
    """Run the scheduled jobs in a loop until interrupted (for deployments with separate
    workers; set PATRON_RUN_JOBS=false on the API servers). SIGTERM or Ctrl-C stops it after
    the batch in progress, and it exits 0."""
    import logging
    import signal

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings()
    container = build(settings)
    loop = JobLoop(container, interval or settings.jobs_interval_seconds)
    # A service manager stops a worker with SIGTERM: finish the batch at hand, then leave.
    signal.signal(signal.SIGTERM, lambda _signal, _frame: loop.request_stop())
    out.print(
        f"patron worker: running due jobs every {interval or settings.jobs_interval_seconds}s"
    )
    try:
        loop.run()
    except KeyboardInterrupt:
        pass
    finally:
        container.close()
    out.print("patron worker: stopped")


def _key_file(settings: Settings) -> Path:
    return serving.demo_key_file(settings.database_url)


def _make_demo(
    container: Container, members: int, seed: int, days: int = demo_data.DAYS
) -> demo.Demo:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    key_file = _key_file(container.settings)
    with Progress(
        TextColumn("simulating a year of the demo program"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} days"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("days", total=days)
        made = guarded(
            lambda: demo.ensure_demo(
                container.uow,
                container.clock,
                CLI,
                members=members,
                seed=seed,
                days=days,
                progress=lambda done, _total: bar.update(task, completed=done),
                remembered_key=serving.read_demo_key(key_file),
            )
        )
    if not made.key_reused:
        serving.write_demo_key(key_file, made.key.secret)
    return made


def demo_command(
    members: int = typer.Option(2000, min=10, max=200_000, help="members to simulate"),
    seed: int = typer.Option(7, help="random seed (the same seed tells the same story)"),
    days: int = typer.Option(demo_data.DAYS, min=1, max=demo_data.DAYS, hidden=True),
) -> None:
    """Create the demo program (a beauty retailer with a simulated year of members, purchases,
    refunds, redemptions, referrals and scheduled jobs) unless it exists, and say how to reach
    it."""
    settings = Settings()
    container = build(settings)
    started = time.monotonic()
    made = _make_demo(container, members, seed, days)
    serving.announce_demo(
        out,
        made,
        settings.host,
        settings.port,
        time.monotonic() - started,
        _key_file(settings),
        settings.public_url,
    )
