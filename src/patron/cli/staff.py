"""``patron staff``: console accounts from the command line (API.md Part 2, docs/console.md).

``staff create`` makes a staff user (or finds one by email), gives it a role in a program (an
owner without ``--program`` holds every program) and prints a one-time link, valid 24 hours,
where the person sets a password; the link is the last line of stdout. ``staff link`` prints a
new link (a forgotten password), ``staff list`` shows the accounts and their roles.
"""

from __future__ import annotations

import typer
from rich.table import Table

from patron.bootstrap import Container, build
from patron.cli.main import app, err, guarded, out
from patron.domain.audit import CLI
from patron.domain.errors import NotFound
from patron.services import programs, staff
from patron.services.ports import UnitOfWork
from patron.services.transactions import run_in_transaction, run_read

staff_app = typer.Typer(help="Staff users of the console.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")


def link_url(container: Container, token: str) -> str:
    return f"{container.settings.base_url()}/console/set-password/{token}"


@staff_app.command("create")
def staff_create(
    email: str = typer.Option(..., "--email", help="the person's email (their sign-in name)"),
    role: str = typer.Option(..., "--role", help="owner, manager, marketer, support or viewer"),
    program: str | None = typer.Option(
        None, "--program", help="slug of the program (an owner without it holds every program)"
    ),
    name: str | None = typer.Option(None, "--name", help="the name shown in the console"),
    support_limit: int | None = typer.Option(
        None, "--support-limit", help="a support user's limit in points per adjustment (500)"
    ),
    support_daily_limit: int | None = typer.Option(
        None, "--support-daily-limit", help="a support user's limit in points per day (4x)"
    ),
) -> None:
    """Create a staff user with a role and print a one-time link to set a password."""
    container = build()

    def action(uow: UnitOfWork) -> staff.Created:
        found = programs.get_program(uow, program) if program else None
        return staff.create(
            uow,
            container.clock,
            CLI,
            email=email,
            role=role,
            program=found,
            name=name,
            support_limit=support_limit,
            support_daily_limit=support_daily_limit,
        )

    made = guarded(lambda: run_in_transaction(container.uow, action))
    where = f"in {program}" if program else "in every program"
    verb = "created" if made.new else "updated"
    err.print(f"{verb} staff user {made.user.email}: {role} {where}")
    err.print("send this one-time link to the person (valid 24 hours) to set a password:")
    out.print(link_url(container, made.link_token), highlight=False)


@staff_app.command("link")
def staff_link(email: str = typer.Option(..., "--email", help="the staff user's email")) -> None:
    """Print a new one-time link to set a password (e.g. a forgotten one)."""
    container = build()

    def action(uow: UnitOfWork) -> str:
        found = uow.staff.credentials(email.strip().casefold())
        if found is None:
            raise NotFound(f"no staff user with email {email}")
        return staff.issue_link(uow, container.clock.now(), found.user.id)

    token = guarded(lambda: run_in_transaction(container.uow, action))
    out.print(link_url(container, token), highlight=False)


@staff_app.command("list")
def staff_list() -> None:
    """List staff users with their roles per program."""
    container = build()

    def read(uow: UnitOfWork) -> list[tuple[str, str, str, str]]:
        slugs = {p.id: p.slug for p in uow.programs.all()}
        rows: list[tuple[str, str, str, str]] = []
        for user in uow.staff.every():
            roles = ", ".join(
                f"{slugs.get(g.program_id, '?')}: {g.role}" for g in uow.staff.grants_of(user.id)
            )
            if user.every_program:
                roles = "owner of every program" + (f"; {roles}" if roles else "")
            state = user.status if user.has_password else "link not used yet"
            rows.append((user.email, user.name, roles or "(no program)", state))
        return rows

    rows = guarded(lambda: run_read(container.uow, read))
    table = Table(title="Staff users")
    for column in ("email", "name", "roles", "status"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    out.print(table)
