"""Options several commands take: a program named by slug or id, and a moment in ISO 8601."""

from __future__ import annotations

from datetime import datetime

import typer

from patron.bootstrap import Container
from patron.cli.output import err, guarded
from patron.domain.programs import Program
from patron.services import programs
from patron.services.transactions import run_read


def program_named(container: Container, ref: str) -> Program:
    """The program named by slug or id (a platform read); what follows runs in its scope."""
    return guarded(lambda: run_read(container.uow, lambda uow: programs.get_program(uow, ref)))


def parse_moment(option: str, value: str | None) -> datetime | None:
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
