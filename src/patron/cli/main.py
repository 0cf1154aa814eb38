"""The ``patron`` command line: thin commands over the same use cases as the API.

Errors are the domain's; each family has its exit code (see ``EXIT_CODES``), and the message is
printed to standard error.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import orjson
import typer
from rich.console import Console

from patron.adapters.db import migrate
from patron.bootstrap import Container, build
from patron.cli import readiness, serving, transfer
from patron.cli.worker import JobLoop
from patron.config import Settings
from patron.domain import errors as e
from patron.domain.audit import CLI
from patron.domain.keys import PROGRAM_ROLES, Role
from patron.domain.programs import Program
from patron.services import api_keys, demo, demo_data, jobs, programs
from patron.services.ports import UnitOfWork, Violation
from patron.services.transactions import StorageBusy, run_in_transaction, run_read

T = TypeVar("T")

app = typer.Typer(
    name="patron",
    help="Patron, the open-source loyalty engine.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
jobs_app = typer.Typer(help="Scheduled jobs.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(jobs_app, name="jobs")

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)  # keys and URLs must stay on one line to be copied

EXIT_CODES: tuple[tuple[type[e.PatronError], int], ...] = (
    (e.InvalidInput, 2),
    (e.Unauthenticated, 3),
    (e.Forbidden, 3),
    (e.NotFound, 4),
    (e.Conflict, 5),
    (e.BusinessRuleViolation, 6),
    (StorageBusy, 7),
)


EXIT_NOT_READY = readiness.EXIT_NOT_READY


@app.callback()
def _database_ready(ctx: typer.Context) -> None:
    """Before any command that reads or writes the tables: is the schema there and current?

    Without this, a command on a database that was never migrated (or is behind) failed deep in
    SQLAlchemy with pages of traceback. Now it says what to do in one line on stderr and exits
    with EXIT_NOT_READY. A SQLite database that migrates itself on start (the default) is
    migrated by the command as before; ``patron db ...`` and ``--help`` need no schema.
    """
    if ctx.invoked_subcommand in readiness.NO_SCHEMA_NEEDED or "--help" in sys.argv[1:]:
        return
    settings = Settings()
    if settings.wants_auto_upgrade():
        return
    problem = readiness.schema_problem(settings.database_url)
    if problem is not None:
        err.print(f"[red]error[/red]: {problem}", highlight=False)
        raise typer.Exit(EXIT_NOT_READY)


def fail(error: e.PatronError) -> typer.Exit:
    err.print(f"[red]error[/red] ({error.code}): {error.detail}")
    if isinstance(error, e.ValidationFailed):
        for item in error.errors:
            err.print(f"  {item.path}: {item.message}")
    code = next((c for family, c in EXIT_CODES if isinstance(error, family)), 1)
    return typer.Exit(code)


def guarded(call: Callable[[], T]) -> T:
    try:
        return call()
    except e.PatronError as error:
        raise fail(error) from error


def _program(container: Container, ref: str) -> Program:
    """The program named by slug or id (a platform read); what follows runs in its scope."""
    return guarded(lambda: run_read(container.uow, lambda uow: programs.get_program(uow, ref)))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to PATRON_DATABASE_URL."""
    settings = Settings()
    migrate.upgrade(settings.database_url, fingerprint_secret=settings.fingerprint_key())
    out.print(f"database at revision {migrate.head_revision(settings.database_url)}")


@keys_app.command("create")
def keys_create(
    name: str = typer.Option(..., "--name", help="who or what will use the key"),
    platform: bool = typer.Option(False, "--platform", help="a platform key (manages programs)"),
    program: str | None = typer.Option(None, "--program", help="slug of the key's program"),
    role: str = typer.Option("admin", "--role", help="admin, pos, partner or read"),
) -> None:
    """Create an API key and print it (last line of the output; it is shown only once)."""
    if platform == (program is not None):
        err.print("give exactly one of --platform or --program SLUG")
        raise typer.Exit(2)
    container = build()

    if not platform and role not in PROGRAM_ROLES:
        err.print(f"--role must be one of {', '.join(PROGRAM_ROLES)}")
        raise typer.Exit(2)
    key_role = cast(Role, "platform" if platform else role)

    def action(uow: UnitOfWork) -> api_keys.IssuedKey:
        found = programs.get_program(uow, program) if program else None
        return api_keys.issue_key(
            uow, container.clock, CLI, program=found, name=name, role=key_role
        )

    issued = guarded(lambda: run_in_transaction(container.uow, action))
    err.print(f"created {issued.key.role} key {issued.key.prefix} ({issued.key.name})")
    sys.stdout.write(issued.secret + "\n")


@jobs_app.command("run")
def jobs_run(
    program: str | None = typer.Option(
        None, "--program", help="slug of one program (default: all)"
    ),
    now: str | None = typer.Option(
        None, "--now", help="run as of this ISO 8601 time (default: the clock)"
    ),
) -> None:
    """Run every job due now (release, expire, reminders, tiers, vouchers, birthdays, webhook
    delivery, idempotency-key retention), then exit."""
    given = _moment("--now", now)
    container = build()
    moment = given or container.clock.now()
    report = guarded(
        lambda: jobs.run_due(container.uow, moment, program=program, sender=container.webhooks)
    )
    out.print(f"jobs run as of {moment.isoformat()}")
    for slug, counts in report.done.items():
        line = ", ".join(f"{job} {count}" for job, count in counts.items())
        out.print(f"  {slug}: {line}")


@app.command("audit")
def audit(
    program: str | None = typer.Option(
        None, "--program", help="slug of one program (default: all)"
    ),
) -> None:
    """Recompute every balance from the postings and check the ledger invariants.

    Prints each violation and exits 1 when there is any; exits 0 when the books are clean.
    """
    container = build()
    # One program's books are read in its scope; the whole database's unscoped, so that a row
    # linked across programs (which no scoped read could see) is caught too.
    program_id = _program(container, program).id if program else None

    def check(uow: UnitOfWork) -> list[Violation]:
        return uow.ledger.verify(program_id)

    violations = guarded(lambda: run_read(container.uow, check, program_id=program_id))
    scope = f"program {program}" if program else "all programs"
    if not violations:
        out.print(f"ledger audit of {scope}: clean")
        return
    for v in violations:
        out.print(f"[red]{v.check}[/red] {v.subject}: {v.detail}")
    err.print(f"ledger audit of {scope}: {len(violations)} violation(s)")
    raise typer.Exit(1)


@app.command("serve")
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
            out, made, bind_host, bind_port, time.monotonic() - started, _key_file(settings)
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


@app.command("worker")
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


def _format_of(path: Path, given: str | None) -> transfer.Format:
    name = given or ("jsonl" if path.suffix in (".jsonl", ".ndjson", ".json") else "csv")
    if name not in ("csv", "jsonl"):
        err.print(f"--format: csv or jsonl, not {name!r}")
        raise typer.Exit(2)
    return cast(transfer.Format, name)


@app.command("import")
def import_command(
    kind: str = typer.Argument(..., help="members, purchases, refunds or balances"),
    file: Path = typer.Argument(..., help="a CSV or JSON Lines file", exists=False),
    program: str = typer.Option(..., "--program", help="slug of the program"),
    fmt: str | None = typer.Option(
        None, "--format", help="csv or jsonl (default: from the file name)"
    ),
    report: Path | None = typer.Option(
        None, help="where rejected rows go (default: FILE.rejected.csv)"
    ),
    batch: int = typer.Option(500, min=1, max=10_000, help="rows per transaction"),
) -> None:
    """Import members, purchases, refunds or opening balances. Safe to run again after a crash:
    rows already imported are skipped by their business keys. Exits 1 when rows were rejected
    (each one, with its reason, is in the report)."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    if kind not in transfer.KINDS:
        err.print(f"import: the kind is one of {', '.join(transfer.KINDS)}, not {kind!r}")
        raise typer.Exit(2)
    if not file.is_file():
        err.print(f"import: no file {str(file)!r}")
        raise typer.Exit(2)
    form = _format_of(file, fmt)
    container = build()
    report_path = report or file.with_name(file.name + ".rejected.csv")
    started = time.monotonic()
    with (
        file.open("rb") as handle,
        report_path.open("w", newline="", encoding="utf-8") as report_file,
        Progress(
            TextColumn(f"importing {kind}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=err,
        ) as bar,
    ):
        lines = transfer.Counted(handle)
        task = bar.add_task("import", total=file.stat().st_size, rate="")
        outcome = transfer.Outcome(report=transfer.report_writer(report_file))

        def tick(done: transfer.Outcome) -> None:
            rows = done.imported + done.existing + done.rejected
            rate = rows / max(time.monotonic() - started, 1e-6)
            bar.update(task, completed=lines.consumed, rate=f"{rows} rows, {rate:,.0f}/s")

        guarded(
            lambda: transfer.run_import(
                container.uow,
                container.clock,
                program,
                kind,
                form,
                lines,
                batch=batch,
                on_batch=tick,
                outcome=outcome,
            )
        )
    took = time.monotonic() - started
    out.print(
        f"{kind}: {outcome.imported} imported, {outcome.existing} already there, "
        f"{outcome.rejected} rejected in {took:.1f}s"
    )
    if outcome.rejected:
        err.print(f"rejected rows and their reasons: {report_path}")
        raise typer.Exit(1)
    report_path.unlink(missing_ok=True)


@app.command("export")
def export_command(
    kind: str = typer.Argument(..., help="members, purchases, ledger or balances"),
    program: str = typer.Option(..., "--program", help="slug of the program"),
    fmt: str = typer.Option("jsonl", "--format", help="csv or jsonl"),
    output: Path | None = typer.Option(None, "--output", "-o", help="file (default: stdout)"),
) -> None:
    """Export a program's members (with consents and balances), purchases, ledger entries, or
    balances as opening balances `patron import balances` takes, streaming."""
    from patron.adapters.db import exports
    from patron.services.programs import load_config

    readers = {
        "members": exports.members,
        "purchases": exports.purchases,
        "ledger": exports.ledger,
        "balances": exports.balances,
    }
    if kind not in readers:
        err.print(f"export: the kind is one of {', '.join(readers)}, not {kind!r}")
        raise typer.Exit(2)
    if fmt not in ("csv", "jsonl"):
        err.print(f"--format: csv or jsonl, not {fmt!r}")
        raise typer.Exit(2)
    container = build()
    found = _program(container, program)
    handle = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
    count = 0
    try:
        with container.uow.scoped(found.id)(write=False) as uow:
            rows = readers[kind](uow.connection, found.id)
            if kind == "balances":
                rows = transfer.opening_balances(rows, found, load_config(uow, found))
            count = transfer.write_export(rows, cast(transfer.Format, fmt), handle)
    finally:
        if output:
            handle.close()
    err.print(f"exported {count} {kind}")


@app.command("report")
def report_command(
    program: str = typer.Option(..., "--program", help="slug of the program"),
    since: str | None = typer.Option(None, "--from", help="start, ISO 8601 (default: to - 30d)"),
    until: str | None = typer.Option(None, "--to", help="end, exclusive (default: now)"),
    as_json: bool = typer.Option(False, "--json", help="print the API's JSON instead"),
    series: bool = typer.Option(
        False, "--series", help="the figures over time buckets (GET .../analytics/series)"
    ),
    bucket: str | None = typer.Option(
        None, "--bucket", help="with --series: day, week or month (default: from the period)"
    ),
) -> None:
    """The analytics summary of a program (the figures of GET .../analytics/summary), or with
    --series the figures per time bucket (GET .../analytics/series)."""
    from rich.table import Table

    from patron.schemas.analytics import window
    from patron.services import analytics, analytics_tables
    from patron.services.programs import load_config

    container = build()
    bounds = [_moment(name, value) for name, value in (("--from", since), ("--to", until))]

    found = _program(container, program)

    def read(uow: UnitOfWork) -> dict[str, Any]:
        begin, end = window(bounds[0], bounds[1], container.clock.now())
        config = load_config(uow, found)
        if series:
            return analytics.series(uow, found, config, begin, end, bucket)
        return analytics.summary(uow, found, config, begin, end)

    figures = guarded(lambda: run_read(container.uow, read, program_id=found.id))
    if as_json:
        sys.stdout.write(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if series:
        named = {"series": analytics_tables.series_table(figures)}
    else:
        table = Table(title=f"{program}: {figures['from']} to {figures['to']}", show_header=False)
        table.add_column("figure")
        table.add_column("value", justify="right")
        for section in ("members", "sales", "behaviour"):
            for name, value in figures[section].items():
                shown = (
                    ", ".join(f"{k} {v}" for k, v in value.items())
                    if isinstance(value, dict)
                    else value
                )
                table.add_row(f"{section}.{name}", "-" if shown is None else str(shown))
        for code, flows in figures["wallets"].items():
            for name, value in flows.items():
                table.add_row(f"{code}.{name}", "-" if value is None else str(value))
        table.add_row("liability", f"{figures['liability']} {figures['currency']}")
        out.print(table)
        named = analytics_tables.tables(figures)
        del named["figures"]  # the table above has them all
    # As wide as the tables need: a timestamp folded over two lines cannot be copied.
    wide = Console(soft_wrap=True, width=max(out.width, 200))
    for title, headers, rows in named.values():
        shown_table = Table(title=title)
        for header in headers:
            shown_table.add_column(header)
        for row in rows:
            shown_table.add_row(*("-" if cell is None else str(cell) for cell in row))
        wide.print(shown_table)


def _moment(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        err.print(f"{option}: not an ISO 8601 date-time: {value!r}")
        raise typer.Exit(2) from None
    if moment.tzinfo is None:
        err.print(f"{option} needs a UTC offset, e.g. 2026-03-01T00:00:00Z")
        raise typer.Exit(2)
    return moment


@app.command("demo")
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
        out, made, settings.host, settings.port, time.monotonic() - started, _key_file(settings)
    )


def main() -> None:
    app()


# `keys list` and `keys revoke` live in their own module, which registers them on `keys_app`
# (imported last: it imports the helpers above).
from patron.cli import keys as _keys  # noqa: E402, F401
from patron.cli import staff as _staff  # noqa: E402, F401
