"""Preparing an import's records: each validated by the API's request models and turned into a
row that applies it through the same use case as the API (enrolment, purchase recording,
refunds, an opening balance earned).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr
from pydantic import ValidationError as PydanticError

from patron.cli.transfer_read import Unreadable
from patron.domain.errors import FieldError, ValidationFailed
from patron.domain.fingerprints import Fingerprints
from patron.domain.money import to_minor
from patron.domain.programs import Program
from patron.schemas.members import MemberCreate
from patron.schemas.purchases import Money, PurchaseIn, RefundIn
from patron.schemas.storable import unstorable
from patron.services import enrolment, ledger, privacy, purchases, refunds
from patron.services.imports import Kind, Row
from patron.services.ledger import Context
from patron.services.ports import Clock, MemberFilter


class BalanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_external_id: StrictStr = Field(min_length=1, max_length=200)
    wallet: StrictStr = Field(default="points", min_length=1, max_length=32)
    amount: Money = Field(gt=0)
    earned_at: datetime | None = None
    reference: StrictStr | None = Field(default=None, max_length=200)


class RefundRow(RefundIn):
    purchase: StrictStr = Field(min_length=1, max_length=200)


EXPORT_ONLY = ("id", "status", "card_number", "referral_code", "tier", "balances")
"""Fields of ``patron export members`` that enrolment does not take: a member import ignores
them, so an export imports as it is."""


def prepare(
    kind: Kind, number: int, doc: Any, program: Program, clock: Clock, fingerprint: Fingerprints
) -> Row:
    """Validate one record; raises ValidationFailed with the reason."""
    if isinstance(doc, Unreadable):
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
