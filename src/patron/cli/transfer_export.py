"""Writing an export: rows as JSON Lines or CSV, and balances in the form
``patron import balances`` takes them back.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime
from typing import IO, Any

import orjson

from patron.cli.transfer_read import Format
from patron.domain.config import ProgramConfig
from patron.domain.money import from_minor
from patron.domain.programs import Program


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def opening_balances(
    rows: Iterator[dict[str, Any]], program: Program, config: ProgramConfig
) -> Iterator[dict[str, Any]]:
    """Balances as ``patron import balances`` takes them: points as a whole number, money in
    the currency (``7.50``)."""
    for row in rows:
        wallet = config.wallets.get(row["wallet"])
        money = wallet is not None and wallet.kind == "money"
        amount = int(row["amount"])
        yield {
            "member_external_id": row["member_external_id"],
            "wallet": row["wallet"],
            "amount": from_minor(amount, program.currency_exponent) if money else str(amount),
        }


def write_export(rows: Iterator[dict[str, Any]], fmt: Format, out: IO[str]) -> int:
    """Write rows as JSON Lines, or as CSV (nested documents as JSON text); returns the count."""
    count = 0
    writer: Any = None
    for row in rows:
        plain = {k: _plain(v) for k, v in row.items()}
        if fmt == "jsonl":
            out.write(orjson.dumps(plain).decode() + "\n")
        else:
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(plain))
                writer.writeheader()
            writer.writerow(
                {
                    k: orjson.dumps(v).decode() if isinstance(v, dict | list) else v
                    for k, v in plain.items()
                }
            )
        count += 1
    return count
