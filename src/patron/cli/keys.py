"""``patron keys list`` and ``patron keys revoke``: the operator's view of API keys.

Registered on ``keys_app`` of ``patron.cli.main`` (beside ``keys create``). The CLI sees every
key of the installation, platform keys too; the API's ``GET``/``DELETE .../api-keys`` see one
program's. Listing never shows a key or its digest, only its prefix.
"""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Table

from patron.bootstrap import build
from patron.cli.main import err, guarded, keys_app, out
from patron.domain.audit import CLI
from patron.domain.keys import ApiKey
from patron.services import api_keys, programs
from patron.services.ports import UnitOfWork
from patron.services.transactions import run_in_transaction, run_read

PAGE = 500


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
