"""Purchases: evaluate with the engine, post the awards to the ledger, remember the result.

The purchase's ``external_id`` is its business key, unique forever per program: a resend with
the same body answers the stored result (200), a different body is a conflict. The member's
balance rows are locked first, so two purchases of one member are evaluated one after the other
and each sees the state left by the one before (first purchase, limits, tier).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from patron.domain.errors import (
    AlreadyClaimed,
    BusinessKeyConflict,
    ClaimRefused,
    MemberNotFound,
    PurchaseNotFound,
)
from patron.domain.ids import new_id
from patron.domain.members import Member
from patron.domain.programs import Program
from patron.domain.rules import (
    Evaluation,
    Line,
    Payment,
    Purchase,
    evaluate_purchase,
)
from patron.domain.timestamps import rfc3339
from patron.services import earning, ledger, members, referrals, tiers
from patron.services.ledger import Context
from patron.services.ports import BatchReads, HeldTier, StoredAward, StoredPurchase, UnitOfWork
from patron.services.tier_metric import previous_window, window

MEMBER_REFS = ("id", "external_id", "email", "phone", "card_number")


@dataclass(frozen=True, slots=True)
class MemberRef:
    field: str
    value: str


@dataclass(frozen=True, slots=True)
class Recorded:
    purchase: StoredPurchase
    replayed: bool
    tier: HeldTier | None = None  # the member's tier after an award (None: not re-evaluated)


def find_member(uow: UnitOfWork, program: Program, ref: MemberRef) -> Member:
    """The member named by any identifier. Raises: MemberNotFound."""
    if ref.field == "id":
        return members.get_member(uow, program, ref.value)
    where = members.lookup_filter(program, **{ref.field: ref.value})
    found = [] if where is None else uow.members.find(program.id, where, after=None, limit=1)
    if not found:
        raise MemberNotFound(f"no member with this {ref.field} in this program", member=ref.value)
    return found[0]


def batch_reads(
    ctx: Context, purchase_keys: Sequence[str], refs: Sequence[MemberRef]
) -> BatchReads:
    """What recording these purchases (and their members' tiers) will read, for
    ``UnitOfWork.prefetch``: the same keys, rules and windows ``record`` asks for."""
    config = ctx.config
    windows: list[tuple[datetime | None, datetime | None]] = []
    if config.tiers is not None:
        now, zone = ctx.clock.now(), ctx.program.timezone
        windows.append(window(config.tiers, now, zone))
        before = previous_window(config.tiers, now, zone)
        if before and config.tiers.downgrade == "end_of_next_period":
            windows.append(before)
    return BatchReads(
        program_id=ctx.program.id,
        member_external_ids=sorted({r.value for r in refs if r.field == "external_id"}),
        member_ids=sorted({r.value for r in refs if r.field == "id"}),
        purchase_keys=list(purchase_keys),
        wallets=list(config.wallets),
        limited_rules=[r.id for r in config.rules if r.limits and r.limits.per_member],
        windows=windows,
    )


def evaluate(
    ctx: Context, purchase: Purchase, member: Member | None, *, for_write: bool = True
) -> Evaluation:
    config, state = earning.prepare(ctx, member, purchase.occurred_at, for_write=for_write)
    return evaluate_purchase(
        config,
        state,
        purchase,
        timezone=ctx.program.timezone,
        exponent=ctx.program.currency_exponent,
    )


def preview(ctx: Context, purchase: Purchase, ref: MemberRef | None) -> dict[str, Any]:
    """What ``record`` would answer, with nothing written. Raises: MemberNotFound,
    ValidationFailed (the dates ``record`` refuses)."""
    member = find_member(ctx.uow, ctx.program, ref) if ref else None
    earning.check_purchase_date(ctx, purchase.occurred_at, member)
    evaluation = evaluate(ctx, purchase, member, for_write=False)
    return _result(ctx, "preview", purchase, member, evaluation if member else None, {})


def record(
    ctx: Context,
    purchase: Purchase,
    ref: MemberRef | None,
    *,
    fingerprint: str,
    document: dict[str, Any],
) -> Recorded:
    """Record a purchase and post its awards. Raises: MemberNotFound, MemberInactive,
    BusinessKeyConflict, ValidationFailed."""
    member = find_member(ctx.uow, ctx.program, ref) if ref else None
    if member is not None:
        ctx.uow.ledger.lock_balances(ctx.program.id, [(member.id, w) for w in ctx.config.wallets])
    earlier = ctx.uow.purchases.get(ctx.program.id, purchase.external_id)
    if earlier is not None:
        if earlier.fingerprint != fingerprint:
            raise BusinessKeyConflict(
                f"purchase {purchase.external_id!r} was already recorded with a different body",
                external_id=purchase.external_id,
            )
        return Recorded(earlier, replayed=True)
    earning.check_purchase_date(ctx, purchase.occurred_at, member)
    evaluation = None
    if member is not None:
        ledger.can_move(member, debit=False)
        evaluation = evaluate(ctx, purchase, member)
    purchase_id = new_id()
    entries = (
        _post(ctx, purchase_id, purchase, member, evaluation, fresh=True) if evaluation else {}
    )
    result = _result(ctx, purchase_id, purchase, member, evaluation, entries)
    eligible = _minor(evaluation.eligible_amount if evaluation else purchase.subtotal, ctx)
    stored = StoredPurchase(
        id=purchase_id,
        program_id=ctx.program.id,
        external_id=purchase.external_id,
        member_id=member.id if member else None,
        occurred_at=purchase.occurred_at,
        channel=purchase.channel,
        store_id=purchase.store_id,
        eligible_amount=eligible,
        fingerprint=fingerprint,
        config_version=ctx.program.config_version,
        document=document,
        result=result,
        recorded_at=ctx.clock.now(),
        amount=_minor(purchase.subtotal, ctx),
        eligible_left=eligible,
    )
    ctx.uow.purchases.add(stored)
    held = None
    if evaluation and member:
        _store_awards(ctx, purchase_id, purchase, member, evaluation, entries)
        held = tiers.reevaluate(ctx, member.id, cause="purchase", reference=purchase.external_id)
        referrals.on_purchase(ctx, member, stored)
    return Recorded(stored, replayed=False, tier=held)


def _store_awards(
    ctx: Context,
    purchase_id: str,
    purchase: Purchase,
    member: Member,
    evaluation: Evaluation,
    entries: dict[str, dict[str, Any]],
) -> None:
    ctx.uow.purchases.add_awards(
        [
            StoredAward(
                purchase_id,
                a.rule_id,
                ctx.program.id,
                member.id,
                a.kind,
                a.wallet,
                a.amount,
                purchase.occurred_at,
                entries[a.wallet]["entry_id"],
            )
            for a in evaluation.awards
        ]
    )


def purchase_of(stored: StoredPurchase) -> Purchase:
    """The purchase as it was recorded (from its stored document)."""
    doc = stored.document
    return Purchase(
        external_id=stored.external_id,
        occurred_at=stored.occurred_at,
        lines=tuple(
            Line(
                line["sku"],
                int(line["quantity"]),
                Decimal(str(line["unit_price"])),
                Decimal(str(line.get("discount", "0"))),
                line.get("category"),
                line.get("name"),
            )
            for line in doc["lines"]
        ),
        channel=doc.get("channel"),
        store_id=doc.get("store_id"),
        tax=Decimal(str(doc.get("tax", "0"))),
        shipping=Decimal(str(doc.get("shipping", "0"))),
        payments=tuple(
            Payment(p["method"], Decimal(str(p["amount"])), p.get("card_type"))
            for p in doc.get("payments", [])
        ),
    )


def claim(ctx: Context, external_id: str, ref: MemberRef) -> Recorded:
    """Attach an anonymous purchase to a member and award it, as of now.

    Raises: PurchaseNotFound, MemberNotFound, MemberInactive, AlreadyClaimed, ClaimRefused.
    """
    member = find_member(ctx.uow, ctx.program, ref)
    ctx.uow.ledger.lock_balances(ctx.program.id, [(member.id, w) for w in ctx.config.wallets])
    stored = get(ctx.uow, ctx.program, external_id)
    if stored.member_id == member.id:
        return Recorded(stored, replayed=True)
    if stored.member_id is not None:
        raise AlreadyClaimed(f"purchase {external_id!r} already belongs to a member")
    deadline = stored.occurred_at + timedelta(days=ctx.config.anonymous_claim_days)
    if ctx.clock.now() > deadline:
        raise ClaimRefused(
            f"purchases can be claimed for {ctx.config.anonymous_claim_days} days; "
            f"this one until {_iso(deadline)}"
        )
    if ctx.uow.purchases.refunds_of(stored.id):
        raise ClaimRefused("a refunded purchase cannot be claimed")
    ledger.can_move(member, debit=False)
    purchase = purchase_of(stored)
    evaluation = evaluate(ctx, purchase, member)
    entries = _post(ctx, stored.id, purchase, member, evaluation, fresh=False)
    result = _result(ctx, stored.id, purchase, member, evaluation, entries)
    ctx.uow.purchases.attach(stored.id, member.id, ctx.program.config_version, result)
    _store_awards(ctx, stored.id, purchase, member, evaluation, entries)
    held = tiers.reevaluate(ctx, member.id, cause="purchase", reference=external_id)
    attached = get(ctx.uow, ctx.program, external_id)
    referrals.on_purchase(ctx, member, attached)
    return Recorded(attached, replayed=False, tier=held)


def get(uow: UnitOfWork, program: Program, external_id: str) -> StoredPurchase:
    """Raises: PurchaseNotFound."""
    found = uow.purchases.get(program.id, external_id)
    if found is None:
        raise PurchaseNotFound(f"no purchase {external_id!r} in this program")
    return found


_iso = rfc3339


def _minor(amount: Any, ctx: Context) -> int:
    return int(amount.scaleb(ctx.program.currency_exponent).to_integral_value())


def _post(
    ctx: Context,
    purchase_id: str,
    purchase: Purchase,
    member: Member | None,
    evaluation: Evaluation,
    *,
    fresh: bool,
) -> dict[str, dict[str, Any]]:
    """One earn entry per wallet, explained rule by rule. ``fresh``: the purchase was recorded
    in this transaction, so its entries' keys (derived from its business key) are unused."""
    assert member is not None
    posted: dict[str, dict[str, Any]] = {}
    for wallet, total in evaluation.earned().items():
        explanation = [a.explanation() for a in evaluation.awards if a.wallet == wallet]
        done = ledger.earn(
            ctx,
            member.id,
            wallet=wallet,
            amount=total,
            occurred_at=purchase.occurred_at,
            key=f"purchase:{purchase.external_id}:{wallet}",
            reference=purchase.external_id,
            explanation=explanation,
            member=member,
            key_is_new=fresh,
        )
        lots_pending = done.entry.status == "pending"
        available_at = purchase.occurred_at + timedelta(
            days=ctx.config.wallets[wallet].pending_days
        )
        posted[wallet] = {
            "entry_id": done.entry.id,
            "status": "pending" if lots_pending else "available",
            "available_at": _iso(available_at),
        }
    return posted


def _result(
    ctx: Context,
    purchase_id: str,
    purchase: Purchase,
    member: Member | None,
    evaluation: Evaluation | None,
    entries: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The PurchaseResult of API.md, amounts in integer units (money in minor units)."""
    awards = []
    for a in evaluation.awards if evaluation else ():
        wallet = ctx.config.wallets[a.wallet]
        posted = entries.get(a.wallet, {})
        available_at = purchase.occurred_at + timedelta(days=wallet.pending_days)
        awards.append(
            {
                "rule_id": a.rule_id,
                "kind": a.kind,
                "wallet": a.wallet,
                "amount": a.amount,
                "money": wallet.is_money,
                "status": posted.get(
                    "status", "pending" if available_at > ctx.clock.now() else "available"
                ),
                "available_at": _iso(available_at),
                "explanation": a.explanation(),
            }
        )
    return {
        "id": purchase_id,
        "external_id": purchase.external_id,
        "member_id": member.id if member else None,
        "eligible_amount": _minor(
            evaluation.eligible_amount if evaluation else purchase.subtotal, ctx
        ),
        "config_version": ctx.program.config_version,
        "awards": awards,
        "earned": evaluation.earned() if evaluation else {},
        "money_wallets": [code for code, w in ctx.config.wallets.items() if w.is_money],
        "skipped": [{"rule_id": s.rule_id, "reason": s.reason} for s in evaluation.skipped]
        if evaluation
        else [],
    }
