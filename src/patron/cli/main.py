"""The ``patron`` command line: thin commands over the same use cases as the API.

Errors are the domain's; each family has its exit code (see ``EXIT_CODES`` in ``output.py``),
and the message is printed to standard error.

This module assembles the Typer app: the schema check before every command, the command groups
and commands from the modules named for them (``maintenance``: db, jobs, audit; ``keys``;
``running``: serve, worker, demo; ``transfer_commands``: import, export; ``mailbox``: the
development SMTP server), and ``report``.
``err``, ``out`` and ``guarded`` are re-exported for the command modules that import them from
here.
"""

from __future__ import annotations

import sys
from typing import Any

import orjson
import typer
from rich.console import Console

from patron.bootstrap import build
from patron.cli import keys, mailbox, maintenance, readiness, running, transfer_commands
from patron.cli.options import parse_moment as _moment
from patron.cli.options import program_named as _program
from patron.cli.output import EXIT_CODES, err, guarded, out
from patron.config import Settings
from patron.services.ports import UnitOfWork
from patron.services.transactions import run_read

__all__ = ["EXIT_CODES", "EXIT_NOT_READY", "app", "err", "guarded", "main", "out"]

app = typer.Typer(
    name="patron",
    help="Patron, the open-source loyalty engine.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(maintenance.db_app, name="db")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(maintenance.jobs_app, name="jobs")

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


# The commands live in modules named for what they do; they are registered here, in the order
# ``patron --help`` lists them.
app.command("audit")(maintenance.audit)
app.command("serve")(running.serve)
app.command("worker")(running.worker)
app.command("import")(transfer_commands.import_command)
app.command("export")(transfer_commands.export_command)


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


app.command("demo")(running.demo_command)
app.command("mailbox")(mailbox.mailbox)


def main() -> None:
    app()


# `patron staff` lives in its own module, which registers its group on `app` (imported last: it
# imports the helpers above).
from patron.cli import staff as _staff  # noqa: E402, F401
