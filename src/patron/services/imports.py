"""Applying the rows of an import (``patron import``): batches, refused rows isolated, and every
refusal reported in row order.

Rows come validated and prepared (``Row.apply`` runs one use case for one row) in file order.
A batch of rows is one transaction, on a batched unit of work
(``UnitOfWorkFactory.batched``, ADR 0006) unless the caller asks for plain ones, and all of it
runs in the program's scope.

A row a use case refuses (a taken email, an unknown member, a conflicting key) must cost only
itself, and must leave the same rows imported as a row-by-row import would. When applying row
*i* of a batch raises a domain error, the transaction is rolled back and:

- the rows before *i* are applied again, as a batch, and committed (they went through once);
- row *i* is rejected with that error: it met the state the rows before it leave, exactly as
  it would have one row at a time;
- the rows after *i* go on as the next batch.

A refusal by the database itself (a unique key, a moved balance) names no row: it arrives when
the batch's queued writes reach the database. Such a batch is halved, and each half applied the
same way, down to a single row, which is then applied alone on a plain unit of work and gets
its own verdict. Every good row is thus applied at most a few times, never row by row, and the
outcome is the sequential one: rows in file order, each refused one skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from patron.domain.audit import CLI
from patron.domain.errors import PatronError
from patron.domain.programs import Program
from patron.services import audit, enrolment, purchases
from patron.services.ledger import Context
from patron.services.members import NewMember
from patron.services.ports import BatchReads, Clock, UnitOfWork, UnitOfWorkFactory
from patron.services.programs import get_program
from patron.services.transactions import run_in_transaction

Kind = Literal["members", "purchases", "refunds", "balances"]


@dataclass(frozen=True, slots=True)
class Row:
    number: int  # the first line of the record in the file (1 = the first data line)
    key: str
    apply: Callable[[Context], bool]  # True: applied now; False: already there
    member: purchases.MemberRef | None = None  # a purchase's member, read ahead per batch
    enrols: NewMember | None = None  # a member row's enrolment, read ahead per batch


@dataclass(frozen=True, slots=True)
class Refused:
    number: int
    key: str
    reason: str


@dataclass
class Outcome:
    imported: int = 0
    existing: int = 0
    rejected: int = 0
    rejections: list[tuple[int, str, str]] = field(default_factory=list)
    report: Any = None  # a csv writer: rejections stream there instead of into the list

    def refuse(self, refused: Sequence[Refused]) -> None:
        """Record refusals, in row order."""
        for item in sorted(refused, key=lambda r: r.number):
            self.rejected += 1
            if self.report is not None:
                self.report.writerow([item.number, item.key, item.reason])
            else:
                self.rejections.append((item.number, item.key, item.reason))


def reason(error: PatronError) -> str:
    """What the report says of a refused row: each field's path and message, or the detail."""
    errors = getattr(error, "errors", None)
    if errors:
        return "; ".join(f"{e.path}: {e.message}" if e.path else e.message for e in errors)
    return str(error)


class _RowRefused(Exception):
    """A use case refused row ``index`` of the batch (not a PatronError: the transaction
    runner must not take it for anything but a failure of this attempt)."""

    def __init__(self, index: int, error: PatronError) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


@dataclass
class Batches:
    """Applies prepared rows of one program, batch by batch (see the module docstring)."""

    uow_factory: UnitOfWorkFactory
    clock: Clock
    program: Program
    kind: Kind
    outcome: Outcome
    batched: bool = True

    def __post_init__(self) -> None:
        self.uow_factory = self.uow_factory.scoped(self.program.id)

    def apply(self, rows: Sequence[Row], refused: Sequence[Refused] = ()) -> None:
        """Apply ``rows`` (in file order) and report their refusals together with ``refused``
        (rows of the same stretch of the file that failed validation), in row order."""
        found = list(refused)
        self._apply(list(rows), found)
        self.outcome.refuse(found)

    def _apply(self, rows: list[Row], refused: list[Refused]) -> None:
        while rows:
            try:
                done = self._together(rows, batched=self.batched)
            except _RowRefused as failure:
                at = failure.index
                if at:
                    self._apply(rows[:at], refused)
                bad = rows[at]
                refused.append(Refused(bad.number, bad.key, reason(failure.error)))
                rows = rows[at + 1 :]
                continue
            except PatronError:
                pass  # the database refused the batch's writes: no row is named
            else:
                self._count(done)
                return
            if len(rows) == 1:
                self._alone(rows[0], refused)
                return
            half = len(rows) // 2
            self._apply(rows[:half], refused)
            self._apply(rows[half:], refused)
            return

    def _alone(self, row: Row, refused: list[Refused]) -> None:
        """One row in its own transaction on a plain unit of work: its own verdict."""
        try:
            done = self._together([row], batched=False)
        except _RowRefused as failure:
            refused.append(Refused(row.number, row.key, reason(failure.error)))
        except PatronError as error:
            refused.append(Refused(row.number, row.key, reason(error)))
        else:
            self._count(done)

    def _count(self, done: list[bool]) -> None:
        self.outcome.imported += sum(done)
        self.outcome.existing += len(done) - sum(done)

    def _together(self, rows: list[Row], *, batched: bool) -> list[bool]:
        def attempt(uow: UnitOfWork) -> list[bool]:
            ctx = Context(uow, self.clock, CLI, get_program(uow, self.program.id))
            reads = _reads(ctx, self.kind, rows)
            if reads is not None:
                uow.prefetch(reads)
            done = []
            for index, row in enumerate(rows):
                try:
                    done.append(row.apply(ctx))
                except PatronError as error:
                    raise _RowRefused(index, error) from error
            _audit_batch(ctx, self.kind, rows, done)
            return done

        factory = self.uow_factory.batched() if batched else self.uow_factory
        return run_in_transaction(factory, attempt)


def _reads(ctx: Context, kind: Kind, rows: list[Row]) -> BatchReads | None:
    """What the batch's use cases will read, for a unit of work that reads ahead."""
    if kind == "purchases":
        refs = [row.member for row in rows if row.member is not None]
        return purchases.batch_reads(ctx, [row.key for row in rows], refs)
    if kind == "members":
        return enrolment.batch_reads(ctx.program, [row.enrols for row in rows if row.enrols])
    return None


def _audit_batch(ctx: Context, kind: Kind, rows: list[Row], applied: list[bool]) -> None:
    """One audit record per committed batch that changed anything, in its transaction: the
    kind, the counts and the file lines it covers (enrolments also record each member)."""
    imported = sum(applied)
    if not imported:
        return
    audit.record(
        ctx.uow,
        program_id=ctx.program.id,
        actor=ctx.actor,
        action=f"import.{kind}",
        target=("program", ctx.program.id),
        at=ctx.clock.now(),
        after={
            "imported": imported,
            "existing": len(applied) - imported,
            "first_line": rows[0].number,
            "last_line": rows[-1].number,
            "keys": [row.key for row, done in zip(rows, applied, strict=True) if done][:20],
        },
    )
