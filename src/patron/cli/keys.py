"""``patron keys create``, ``patron keys list`` and ``patron keys revoke``: API keys from the
command line.

``keys create`` prints the new key as the last line of stdout (it is shown only once). The CLI
sees every key of the installation, platform keys too; the API's ``GET``/``DELETE .../api-keys``
see one program's. Listing never shows a key or its digest, only its prefix.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import cast

import typer
from rich.table import Table

from patron.bootstrap import build
from patron.cli.output import err, guarded, out
from patron.domain.audit import CLI
from patron.domain.keys import PROGRAM_ROLES, ApiKey, Role
from patron.services import api_keys, programs
from patron.services.ports import UnitOfWork
from patron.services.transactions import run_in_transaction, run_read

PAGE = 500

keys_app = typer.Typer(help="API keys.", no_args_is_help=True)


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


@keys_app.command("list")
def keys_list(
    program: str | None = typer.Option(
        None, "--program", help="slug of one program (default: every key, platform keys too)"
    ),
) -> None:
    """List API keys: id, program, name, role, prefix, created, last used, revoked."""
    container = build()

    def read(uow: UnitOfWork) -> tuple[list[ApiKey], dict[str, str]]:
        scope = programs.get_program(uow, program) if program else None
        found: list[ApiKey] = []
        after: str | None = None
        while batch := api_keys.list_keys(uow, scope, after=after, limit=PAGE):
            found += batch
            after = batch[-1].id
        return found, {p.id: p.slug for p in uow.programs.all()}

    found, slugs = guarded(lambda: run_read(container.uow, read))
    table = Table(title=f"API keys of {program}" if program else "API keys")
    table.add_column("id", no_wrap=True)
    for name in ("program", "name", "role", "prefix", "created", "last used", "revoked"):
        table.add_column(name)
    for key in found:
        table.add_row(
            key.id,
            slugs.get(key.program_id, "?") if key.program_id else "(platform)",
            key.name,
            key.role,
            key.prefix,
            _when(key.created_at),
            _when(key.last_used_at),
            _when(key.revoked_at),
        )
    out.print(table)
    err.print(f"{len(found)} key(s), {sum(k.revoked_at is None for k in found)} live")


@keys_app.command("revoke")
def keys_revoke(
    key_id: str = typer.Argument(..., help="the id of the key (see keys list)"),
) -> None:
    """Revoke an API key: it is refused from its next request on."""
    container = build()

    def action(uow: UnitOfWork) -> ApiKey:
        return api_keys.revoke_key(uow, container.clock, CLI, key_id, program=None)

    found = guarded(lambda: run_in_transaction(container.uow, action))
    if found.revoked_at is not None:
        out.print(f"key {found.prefix} ({found.name}) was already revoked")
    else:
        out.print(f"revoked {found.role} key {found.prefix} ({found.name})")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"
