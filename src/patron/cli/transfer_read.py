"""Reading an import file: its lines, as documents in the API's request shape.

JSON Lines are read as the API reads a body. CSV layouts (JSON Lines take the API's request
bodies instead, see ``docs/import-export.md``):

- members: ``external_id, email, phone, first_name, last_name, birth_date, enrolled_at,
  referred_by``, ``consent_<channel>`` (true/false) and ``attr_<name>`` columns, or
  ``consents`` and ``attributes`` as JSON text (as the CSV export writes them);
- purchases: one row per line, rows of one purchase consecutive: ``external_id,
  member_external_id, occurred_at, channel, store_id, tax, shipping, payment_method,
  card_type`` (read from the purchase's first row) and ``sku, category, name, quantity,
  unit_price, discount``;
- refunds: ``purchase, external_id, occurred_at`` and either ``amount`` or ``sku, quantity`` (one
  row per refunded line, rows of one refund consecutive);
- balances: ``member_external_id, wallet, amount, earned_at, reference``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal

from patron.services.imports import Kind

Format = Literal["csv", "jsonl"]
KINDS: tuple[Kind, ...] = ("members", "purchases", "refunds", "balances")


class Counted:
    """Lines of a binary file, decoded, counting the bytes consumed (for the progress bar)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self.consumed = 0

    def __iter__(self) -> Iterator[str]:
        for raw in self._handle:
            self.consumed += len(raw)
            yield raw.decode("utf-8-sig")


def records(kind: Kind, fmt: Format, lines: Iterable[str]) -> Iterator[tuple[int, Any]]:
    """(line number, document) for each record: a JSON object, or the CSV rows of one record
    folded into the API's shape."""
    if fmt == "jsonl":
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    yield number, _json(line)
                except ValueError as exc:
                    yield number, Unreadable(f"not JSON: {exc}")
        return
    reader = csv.DictReader(lines)
    rows = (
        (n, {k: v for k, v in row.items() if k and v not in (None, "")})
        for n, row in enumerate(reader, start=1)
    )
    if kind == "members":
        for number, row in rows:
            yield number, _member_doc(row)
    elif kind == "balances":
        yield from rows
    else:
        yield from _grouped(kind, rows)


@dataclass(frozen=True, slots=True)
class Unreadable:
    reason: str


def _json(line: str) -> Any:
    """One JSON Lines record, read as exactly as the API reads a body: an integer keeps every
    digit (so one beyond 64 bits is refused by ``unstorable``, as the API refuses it, instead of
    being rounded to a float), and ``NaN``, ``Infinity`` or a number beyond a float's range are
    not JSON."""
    return json.loads(line, parse_constant=_not_a_number, parse_float=_finite)


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


_JSON_COLUMNS = ("attributes", "consents")
"""Member columns that ``patron export members --format csv`` writes as JSON text."""


def _member_doc(row: dict[str, str]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for column, value in row.items():
        if column in _JSON_COLUMNS:
            try:
                doc[column] = _json(value)
            except ValueError:
                doc[column] = value  # the model says what is wrong with it
        elif column.startswith("attr_"):
            doc.setdefault("attributes", {})[column[5:]] = value
        elif column.startswith("consent_"):
            doc.setdefault("consents", {})[column[8:]] = value.strip().lower() in (
                "true",
                "yes",
                "1",
            )
        else:
            doc[column] = value
    return doc


_PURCHASE_HEAD = ("external_id", "occurred_at", "channel", "store_id", "tax", "shipping")
_LINE = ("sku", "category", "name", "quantity", "unit_price", "discount")


def _grouped(kind: Kind, rows: Iterator[tuple[int, dict[str, str]]]) -> Iterator[tuple[int, Any]]:
    """Consecutive rows with the same ``external_id`` make one purchase or refund."""
    current: tuple[int, dict[str, Any]] | None = None
    for number, row in rows:
        key = row.get("external_id", "")
        if current is None or current[1].get("external_id") != key:
            if current is not None:
                yield current
            current = (number, _head(kind, row))
        line = {k: row[k] for k in _LINE if k in row}
        if "quantity" in line:
            line["quantity"] = _int(line["quantity"])  # type: ignore[assignment]
        if "sku" in line:
            current[1].setdefault("lines", []).append(line)
    if current is not None:
        yield current


def _head(kind: Kind, row: dict[str, str]) -> dict[str, Any]:
    if kind == "refunds":
        return {k: row[k] for k in ("purchase", "external_id", "occurred_at", "amount") if k in row}
    doc: dict[str, Any] = {k: row[k] for k in _PURCHASE_HEAD if k in row}
    if "member_external_id" in row:
        doc["member"] = {"external_id": row["member_external_id"]}
    if "payment_method" in row:
        payment = {"method": row["payment_method"], "amount": "0"}
        if "card_type" in row:
            payment["card_type"] = row["card_type"]
        doc["payments_pending"] = payment  # completed once the lines are known
    return doc


def _int(value: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        return value  # the model reports it
