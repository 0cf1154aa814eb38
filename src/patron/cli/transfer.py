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

CSV layouts (JSON Lines take the API's request bodies instead, see ``docs/import-export.md``):

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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from pydantic import ValidationError as PydanticError

from patron.domain.config import ProgramConfig
from patron.domain.errors import FieldError, ValidationFailed
from patron.domain.fingerprints import Fingerprints
from patron.domain.money import from_minor, to_minor
from patron.domain.programs import Program
from patron.schemas.members import MemberCreate
from patron.schemas.purchases import Money, PurchaseIn, RefundIn
from patron.schemas.storable import unstorable
from patron.services import enrolment, ledger, privacy, purchases, refunds
from patron.services.imports import Batches, Kind, Outcome, Refused, Row, reason
from patron.services.ledger import Context
from patron.services.ports import Clock, MemberFilter, UnitOfWorkFactory
from patron.services.programs import get_program
from patron.services.transactions import run_read

__all__ = ["KINDS", "Counted", "Format", "Outcome", "Row", "report_writer", "run_import"]

Format = Literal["csv", "jsonl"]
KINDS: tuple[Kind, ...] = ("members", "purchases", "refunds", "balances")


class BalanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_external_id: StrictStr = Field(min_length=1, max_length=200)
    wallet: StrictStr = Field(default="points", min_length=1, max_length=32)
    amount: Money = Field(gt=0)
    earned_at: datetime | None = None
    reference: StrictStr | None = Field(default=None, max_length=200)


class RefundRow(RefundIn):
    purchase: StrictStr = Field(min_length=1, max_length=200)


# --- reading ---------------------------------------------------------------------------------


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
                    yield number, _Unreadable(f"not JSON: {exc}")
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
class _Unreadable:
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


# --- preparing rows --------------------------------------------------------------------------


EXPORT_ONLY = ("id", "status", "card_number", "referral_code", "tier", "balances")
"""Fields of ``patron export members`` that enrolment does not take: a member import ignores
them, so an export imports as it is."""


def prepare(
    kind: Kind, number: int, doc: Any, program: Program, clock: Clock, fingerprint: Fingerprints
) -> Row:
    """Validate one record; raises ValidationFailed with the reason."""
    if isinstance(doc, _Unreadable):
        raise ValidationFailed([FieldError("", doc.reason)])
    if not isinstance(doc, dict):
        raise ValidationFailed([FieldError("", "each record must be a JSON object")])
    unfit = unstorable(doc)
    if unfit:
        raise ValidationFailed(unfit)
    try:
        if kind == "members":
            doc = {k: v for k, v in doc.items() if k not in EXPORT_ONLY}
            return _member_row(number, MemberCreate.model_validate(doc))
        if kind == "purchases":
            return _purchase_row(number, _with_payment(doc), program, clock, fingerprint)
        if kind == "refunds":
            return _refund_row(number, RefundRow.model_validate(doc), program, fingerprint)
        return _balance_row(number, BalanceIn.model_validate(doc), program)
    except PydanticError as exc:
        raise ValidationFailed(
            [
                FieldError(field_path(e["loc"]), str(e["msg"]), e["type"])
                for e in exc.errors(include_url=False)
            ]
        ) from None


def field_path(loc: Iterable[Any]) -> str:
    """A field's path as the API's problem documents write it (``lines[0].quantity``,
    ``consents.sms_marketing``), leaving out the names pydantic gives its own validators
    (``function-after[...]``), which no input has."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" not in str(part):
            out += ("." if out else "") + str(part)
    return out


def _with_payment(doc: dict[str, Any]) -> PurchaseIn:
    pending = doc.pop("payments_pending", None)
    model = PurchaseIn.model_validate(doc)
    if pending is None:
        return model
    total = sum(
        (line.quantity * line.unit_price - line.discount for line in model.lines), Decimal(0)
    )
    total += model.tax + model.shipping
    return PurchaseIn.model_validate(
        {
            **model.model_dump(mode="json", exclude_none=True),
            "payments": [{**pending, "amount": str(total)}],
        }
    )


def _member_row(number: int, body: MemberCreate) -> Row:
    if body.external_id is None:
        raise ValidationFailed(
            [FieldError("external_id", "an imported member needs an external_id (its key)")]
        )
    cmd = body.to_command()

    def apply(ctx: Context) -> bool:
        found = ctx.uow.members.find(
            ctx.program.id, MemberFilter(external_id=body.external_id), after=None, limit=1
        )
        if found:
            return False
        privacy.refuse_erased(ctx.uow, ctx.program, cmd)
        enrolment.enrol(ctx.uow, ctx.clock, ctx.actor, ctx.program, cmd)
        return True

    return Row(number, body.external_id, apply, enrols=cmd)


def _purchase_row(
    number: int, body: PurchaseIn, program: Program, clock: Clock, fingerprint: Fingerprints
) -> Row:
    document = body.model_dump(mode="json", exclude_none=True)
    digest = fingerprint("purchase", "", document)
    purchase = body.to_domain(program.currency_exponent, clock.now())
    ref = body.member.ref() if body.member else None

    def apply(ctx: Context) -> bool:
        done = purchases.record(ctx, purchase, ref, fingerprint=digest, document=document)
        return not done.replayed

    return Row(number, body.external_id, apply, ref)


def _refund_row(number: int, body: RefundRow, program: Program, fingerprint: Fingerprints) -> Row:
    document = body.model_dump(mode="json", exclude_none=True, exclude={"purchase"})
    digest = fingerprint("refund", body.purchase, document)
    if body.amount is not None:
        to_minor(body.amount, program.currency_exponent)

    def apply(ctx: Context) -> bool:
        done = refunds.refund(
            ctx,
            body.purchase,
            external_id=body.external_id,
            document=document,
            fingerprint=digest,
            occurred_at=body.occurred_at,
        )
        return not done.replayed

    return Row(number, body.external_id, apply)


def _balance_row(number: int, body: BalanceIn, program: Program) -> Row:
    key = f"opening:{body.member_external_id}:{body.wallet}"

    def apply(ctx: Context) -> bool:
        policy = ctx.wallet(body.wallet)
        amount = (
            to_minor(body.amount, program.currency_exponent)
            if policy.kind == "money"
            else to_minor(body.amount, 0)
        )
        found = ctx.uow.members.find(
            ctx.program.id, MemberFilter(external_id=body.member_external_id), after=None, limit=1
        )
        if not found:
            raise ValidationFailed(
                [FieldError("member_external_id", "no member with this external_id")]
            )
        posted = ledger.earn(
            ctx,
            found[0].id,
            wallet=body.wallet,
            amount=amount,
            occurred_at=body.earned_at,
            key=key,
            reference=body.reference,
            reason="opening balance (import)",
            hold=False,
            member=found[0],
        )
        return not posted.replayed

    return Row(number, key, apply)


# --- applying --------------------------------------------------------------------------------


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


# --- exporting -------------------------------------------------------------------------------


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
