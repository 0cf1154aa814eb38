"""What every command prints and how it exits: the two consoles, the exit code of each family
of domain errors, and ``guarded``, which turns a domain error into its message and exit code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console

from patron.domain import errors as e
from patron.services.transactions import StorageBusy

T = TypeVar("T")

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
