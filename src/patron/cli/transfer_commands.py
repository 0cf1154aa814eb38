"""``patron import`` and ``patron export``: the commands, with their progress bar and report
file; what they read and write is in ``transfer.py`` and its ``transfer_*`` modules.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import cast

import typer

from patron.bootstrap import build
from patron.cli import transfer
from patron.cli.options import program_named
from patron.cli.output import err, guarded, out


def _format_of(path: Path, given: str | None) -> transfer.Format:
    name = given or ("jsonl" if path.suffix in (".jsonl", ".ndjson", ".json") else "csv")
    if name not in ("csv", "jsonl"):
        err.print(f"--format: csv or jsonl, not {name!r}")
        raise typer.Exit(2)
    return cast(transfer.Format, name)


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
    found = program_named(container, program)
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
