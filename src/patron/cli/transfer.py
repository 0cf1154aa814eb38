"""``patron import`` and ``patron export``: members, purchases, refunds and opening balances in,
members (with consents and balances), purchases, the ledger and opening balances out, as CSV or
JSON Lines. Both work in the program's scope.

Import:

- **Streaming.** The file is read line by line; memory does not grow with its size.
- **Same rules as the API.** Every row is validated by the API's request models and applied by
  the same use cases (enrolment, purchase recording with its awards, refunds with their
  clawbacks), so an imported purchase earns exactly what it would have earned over HTTP.
- **Batches.** Rows are applied ``--batch`` at a time in one transaction, on a batched unit of
  work (``patron.adapters.db.batched``): the batch's members, balances, tiers, purchase keys and
  identifiers are read ahead in a few statements, and its writes go to the database at commit,
  many rows per statement. A refused row costs only itself: the rows around it stay batched
  (``patron.services.imports``).
- **Resumable.** Every row has a business key: a member's ``external_id``, a purchase's or a
  refund's ``external_id``, and ``opening:<member>:<wallet>`` for an opening balance. Running
  the same import again after a crash skips what is already there (counted as ``existing``) and
  applies the rest: nothing is doubled, nothing is lost.
- **Erased people stay erased.** A member row whose email, phone or external id matches the
  tombstone of an erased member is refused (``person_erased``), with the reason in the report.
- **Same boundary as the API.** Text no storage keeps (a NUL character, an unpaired
  surrogate: ``patron.schemas.storable``) and integers beyond 64 bits reject their row instead of
  stopping the import at it on every rerun (or, for the integers, being rounded to a float).
- **Honest about bad rows.** Each rejected row goes to the report file (row number, key, reason
  with the API's field paths), in row order, and the command exits 1 when there was any.
- **Exports import again.** A members export's fields that enrolment does not take are ignored,
  and its consents keep when and where they were given.

The work is in modules by step: ``transfer_read`` reads a file's records (and documents the CSV
layouts), ``transfer_rows`` validates each into a row of a use case, this module applies them in
batches, and ``transfer_export`` writes exports.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from typing import IO, Any

from patron.cli.transfer_export import opening_balances, write_export
from patron.cli.transfer_read import KINDS, Counted, Format, records
from patron.cli.transfer_rows import prepare
from patron.domain.errors import ValidationFailed
from patron.services.imports import Batches, Kind, Outcome, Refused, Row, reason
from patron.services.ports import Clock, UnitOfWorkFactory
from patron.services.programs import get_program
from patron.services.transactions import run_read

__all__ = [
    "KINDS",
    "Counted",
    "Format",
    "Outcome",
    "Row",
    "opening_balances",
    "report_writer",
    "run_import",
    "write_export",
]


def run_import(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    program_ref: str,
    kind: Kind,
    fmt: Format,
    lines: Iterable[str],
    *,
    batch: int = 500,
    on_batch: Callable[[Outcome], None] | None = None,
    outcome: Outcome | None = None,
    batched: bool = True,
) -> Outcome:
    """Import ``lines`` into the program, in its scope (``patron.services.imports``).
    ``batched`` off runs each batch on a plain unit of work instead (the reference the batched
    one is tested against). Rejections are reported in row order."""
    program = run_read(uow_factory, lambda uow: get_program(uow, program_ref))
    outcome = outcome or Outcome()
    batches = Batches(uow_factory, clock, program, kind, outcome, batched=batched)
    pending: list[Row] = []
    refused: list[Refused] = []

    def flush() -> None:
        batches.apply(pending, refused)
        pending.clear()
        refused.clear()
        if on_batch is not None:
            on_batch(outcome)

    for number, doc in records(kind, fmt, lines):
        try:
            pending.append(prepare(kind, number, doc, program, clock, uow_factory.fingerprint))
        except ValidationFailed as error:
            refused.append(Refused(number, _key_of(doc, number), reason(error)))
        if len(pending) >= batch or len(refused) >= batch:
            flush()
    flush()
    return outcome


def _key_of(doc: Any, number: int) -> str:
    if isinstance(doc, dict):
        for name in ("external_id", "member_external_id", "email"):
            if isinstance(doc.get(name), str):
                return str(doc[name])
    return f"row {number}"


def report_writer(handle: IO[str]) -> Any:
    writer = csv.writer(handle)
    writer.writerow(["row", "key", "reason"])
    return writer
