"""Use cases of status tiers: re-evaluation after each qualifying change, grants, progress.

``reevaluate`` runs inside the transaction that changed the metric (a purchase, a refund, an
event, a claim) or in the tier job, with the member's balance rows already locked, so one
member's tier is never computed twice at once. Every change of tier is kept in the history
with its cause and its reason: the one given with a staff override or a paid tier, otherwise
the standing that explains it (``patron.domain.tier_reasons``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from patron.domain.config import Tiers
from patron.domain.config.tiers import Level
from patron.domain.errors import FieldError, ValidationFailed
from patron.domain.ids import new_id
from patron.domain.tier_reasons import GRANTED, automatic
from patron.domain.tiers import Grant, Standing, level_for, next_level, rank, standing
from patron.domain.timestamps import rfc3339_or_none
from patron.services import audit, outbox
from patron.services.ledger import Context, member_for
from patron.services.ports import HeldTier, TierChange
from patron.services.tier_metric import metric, metric_between, previous_window, window


def reevaluate(
    ctx: Context,
    member_id: str,
    *,
    cause: str,
    reference: str | None = None,
    reason: str | None = None,
) -> HeldTier | None:
    """Bring the member's tier up to date as of now; None when the program has no tiers.

    ``reason`` is the one given with a grant made in this transaction; without it a change
    explains itself from the member's standing.
    """
    tiers = ctx.config.tiers
    if tiers is None:
        return None
    held = ctx.uow.tiers.held(member_id)
    now_standing, best, current = _standing(ctx, tiers, member_id, held)
    moved = held is None or held.code != now_standing.code
    if moved and (reason is None or now_standing.cause not in GRANTED):  # words only for a change
        ended = held.cause if held and held.cause in GRANTED else None
        reason = automatic(
            tiers,
            now_standing,
            metric=current,
            exponent=ctx.program.currency_exponent,
            ended=ended if ended and now_standing.cause != ended else None,
        )
    return _hold(
        ctx, member_id, held, now_standing, best, cause=cause, reference=reference, reason=reason
    )


def _standing(
    ctx: Context, tiers: Tiers, member_id: str, held: HeldTier | None
) -> tuple[Standing, str, Decimal]:
    """The tier the member holds now, computed afresh, the best level ever reached, and the
    metric of the current window."""
    now = ctx.clock.now()
    current = metric(ctx.uow, ctx.program, tiers, member_id, now)
    before = previous_window(tiers, now, ctx.program.timezone)
    previous = (
        metric_between(ctx.uow, ctx.program, tiers, member_id, *before)
        if before and tiers.downgrade == "end_of_next_period"
        else None
    )
    reached = level_for(tiers, current).code
    best = reached
    if held and held.best_ever and rank(tiers, held.best_ever) > rank(tiers, best):
        best = held.best_ever
    now_standing = standing(
        tiers,
        now=now,
        timezone=ctx.program.timezone,
        current=current,
        previous=previous,
        best_ever=best,
        grants=ctx.uow.tiers.grants(member_id),
    )
    return now_standing, best, current


def _hold(
    ctx: Context,
    member_id: str,
    held: HeldTier | None,
    now_standing: Standing,
    best: str,
    *,
    cause: str,
    reference: str | None,
    reason: str | None = None,
) -> HeldTier:
    now = ctx.clock.now()
    moved = held is None or held.code != now_standing.code
    tier = HeldTier(
        member_id=member_id,
        code=now_standing.code,
        since=now if moved or held is None else held.since,
        until=now_standing.until,
        cause=now_standing.cause,
        best_ever=best,
    )
    if held != tier:
        ctx.uow.tiers.hold(ctx.program.id, tier)
    if moved and not (held is None and now_standing.cause == "base"):
        outbox.emit(
            ctx,
            "tier.changed",
            member_id,
            {
                "member_id": member_id,
                "from": held.code if held else None,
                "to": tier.code,
                "until": rfc3339_or_none(tier.until),
                "cause": now_standing.cause
                if now_standing.cause in ("override", "paid")
                else cause,
                "reference": reference,
                "reason": reason,
            },
        )
        ctx.uow.tiers.add_change(
            TierChange(
                id=new_id(),
                program_id=ctx.program.id,
                member_id=member_id,
                at=now,
                from_code=held.code if held else None,
                to_code=tier.code,
                cause=now_standing.cause if now_standing.cause in ("override", "paid") else cause,
                reference=reference,
                reason=reason,
                actor=ctx.actor.label,
            )
        )
    return tier


def grant(
    ctx: Context, member_id: str, *, code: str, until: datetime | None, reason: str, paid: bool
) -> HeldTier:
    """A staff override (or, with ``paid``, a paid tier) until ``until``.

    Raises: ValidationFailed (unknown tier, no tiers, past ``until``, empty reason),
    MemberNotFound.
    """
    tiers = ctx.config.tiers
    errors = []
    if tiers is None or tiers.level(code) is None:
        errors.append(FieldError("code", f"unknown tier {code!r}"))
    if until is not None and until <= ctx.clock.now():
        errors.append(FieldError("until", "must be in the future"))
    if not reason.strip():
        errors.append(FieldError("reason", "a tier change needs a reason", "missing"))
    if errors:
        raise ValidationFailed(errors)
    ctx.uow.ledger.lock_balances(ctx.program.id, [(member_id, "points")])
    member_for(ctx, member_id, debit=False)
    before = ctx.uow.tiers.held(member_id)
    ctx.uow.tiers.add_grant(
        ctx.program.id,
        member_id,
        Grant(code, until, paid),
        reason.strip(),
        ctx.actor.label,
        ctx.clock.now(),
    )
    kind = "paid" if paid else "override"
    held = reevaluate(ctx, member_id, cause=kind, reason=reason.strip())
    assert held is not None
    audit.record(
        ctx.uow,
        program_id=ctx.program.id,
        actor=ctx.actor,
        action="member.tier_granted",
        target=("member", member_id),
        at=ctx.clock.now(),
        before={"tier": before.code, "cause": before.cause} if before else None,
        after={
            "code": code,
            "until": rfc3339_or_none(until),
            "paid": paid,
            "reason": reason.strip(),
            "tier": held.code,
            "cause": held.cause,
        },
    )
    return held


@dataclass(frozen=True, slots=True)
class Progress:
    tiers: Tiers
    held: HeldTier | None
    current: Level
    next: Level | None
    metric: Decimal
    remaining: Decimal | None
    period_end: datetime | None
    keep_needs: Decimal | None
    history: list[TierChange]


def progress(ctx: Context, member_id: str) -> Progress:
    """Current tier, next tier, metric so far, what is still needed and what keeps the tier.

    Raises: ValidationFailed when the program has no tiers.
    """
    tiers = ctx.config.tiers
    if tiers is None:
        raise ValidationFailed([FieldError("tiers", "this program has no tiers")])
    now = ctx.clock.now()
    held = ctx.uow.tiers.held(member_id)
    computed, best, so_far = _standing(ctx, tiers, member_id, held)
    since = held.since if held and held.code == computed.code else now
    held = HeldTier(member_id, computed.code, since, computed.until, computed.cause, best)
    current = tiers.level(held.code) or tiers.levels[0]
    upcoming = next_level(tiers, current.code)
    _, period_end = window(tiers, now, ctx.program.timezone)
    reached_now = rank(tiers, level_for(tiers, so_far).code) >= rank(tiers, current.code)
    keep = (
        None
        if reached_now or current.threshold == 0
        else max(current.threshold - so_far, Decimal(0))
    )
    return Progress(
        tiers=tiers,
        held=held,
        current=current,
        next=upcoming,
        metric=so_far,
        remaining=max(upcoming.threshold - so_far, Decimal(0)) if upcoming else None,
        period_end=period_end,
        keep_needs=keep,
        history=ctx.uow.tiers.history(member_id),
    )


BATCH = 200


def expire_due(
    ctx: Context, now: datetime, *, after: str | None = None, limit: int = BATCH
) -> list[str]:
    """The tier job: re-evaluate members whose tier may lapse by ``now`` (period ends, grants,
    rolling windows). Idempotent; returns the members it looked at, for the caller to page on."""
    if ctx.config.tiers is None:
        return []
    tiers = ctx.config.tiers
    # Only a rolling window lowers an open-ended tier as time passes; the base level cannot
    # fall, and calendar-year tiers carry their end date.
    rolling = tiers.period == "rolling_12_months"
    base = tiers.levels[0].code if rolling else None
    members = ctx.uow.tiers.due(
        ctx.program.id, now, open_ended_above=base, after=after, limit=limit
    )
    if members:
        ctx.uow.ledger.lock_balances(ctx.program.id, [(m, "points") for m in members])
    for member_id in members:
        reevaluate(ctx, member_id, cause="job")
    return members
