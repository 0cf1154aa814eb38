"""The operator's one-shot commands: ``patron db upgrade``, ``patron jobs run`` and
``patron audit`` (the ledger's invariants checked).
"""

from __future__ import annotations

import typer

from patron.adapters.db import migrate
from patron.bootstrap import build
from patron.cli.options import parse_moment, program_named
from patron.cli.output import err, guarded, out
from patron.config import Settings
from patron.services import jobs
from patron.services.ports import UnitOfWork, Violation
from patron.services.transactions import run_read

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
jobs_app = typer.Typer(help="Scheduled jobs.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to PATRON_DATABASE_URL."""
    settings = Settings()
    migrate.upgrade(settings.database_url, fingerprint_secret=settings.fingerprint_key())
    out.print(f"database at revision {migrate.head_revision(settings.database_url)}")


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
    given = parse_moment("--now", now)
    container = build()
    moment = given or container.clock.now()
    report = guarded(
        lambda: jobs.run_due(
            container.uow,
            moment,
            program=program,
            sender=container.webhooks,
            outlets=container.outlets(),
            wallet=container.wallet(),
        )
    )
    out.print(f"jobs run as of {moment.isoformat()}")
    for slug, counts in report.done.items():
        line = ", ".join(f"{job} {count}" for job, count in counts.items())
        out.print(f"  {slug}: {line}")


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
    program_id = program_named(container, program).id if program else None

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
