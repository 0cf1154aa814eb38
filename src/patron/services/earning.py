"""What the earning engine reads about a member before a purchase or an event at a moment.

``prepare`` gives the configuration with the campaigns live at that moment for the member's
audience, and the member's state (``MemberState``) as the engine needs it:

- **the tier in force at the moment** (SPEC §3: "the tier in force *before* the purchase is the
  one that applies to it"): the tier held now when it was already held then, otherwise the one
  the tier history shows at that moment, so a purchase dated two years back is not multiplied by
  a tier reached today. The history is read only for a moment before the current tier's
  ``since``;
- per-member limit counts, from every earlier award of the limited rules (purchases and events);
- what each budget has paid out, from every award of its rules (purchases and events, a
  campaign's rules together), read after the program row is locked when anything will be
  written, so two purchases or events cannot both spend the last of a budget.

It also holds the bounds of a member's purchase and event dates (``check_purchase_date``,
``check_event_date``; the shared validator is ``patron.domain.dates``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from patron.domain.audit import SYSTEM
from patron.domain.config import ProgramConfig
from patron.domain.dates import Floor, check_business_date
from patron.domain.members import Member
from patron.domain.rules import MemberState, period_key
from patron.services import campaigns, segments
from patron.services.ledger import Context, StoppedClock
from patron.services.ports import TierChange


def prepare(
    ctx: Context, member: Member | None, at: datetime, *, for_write: bool = True
) -> tuple[ProgramConfig, MemberState]:
    """The configuration (with the campaigns live at ``at`` for this member) and the member's
    state before a purchase or event at ``at``. With ``for_write``, a program whose rules (or
    live campaigns) have budgets is locked first; a preview locks nothing."""
    tier = tier_at(ctx, member, at) if member is not None else None
    config, pools = campaigns.extend(ctx, ctx.config, member, at, tier)
    state = member_state(ctx, config, member, at, tier=tier, pools=pools, for_write=for_write)
    return config, state


def tier_at(ctx: Context, member: Member, at: datetime) -> str | None:
    """The code of the tier the member held at ``at`` (None when the program has no tiers)."""
    tiers = ctx.config.tiers
    if tiers is None:
        return None
    base = tiers.levels[0].code
    held = ctx.uow.tiers.held(member.id)
    if held is None:  # never evaluated: the base level, as the Member shape shows it
        return base
    if at >= held.since:
        return held.code
    return code_at(ctx.uow.tiers.history(member.id), at, current=held.code, base=base)


def code_at(changes: Sequence[TierChange], at: datetime, *, current: str, base: str) -> str:
    """The tier in force at ``at`` by the history (oldest change first): the last change made
    by then; before the first change, what it changed from (the base level when nothing was
    held); with no history at all, ``current`` (the first tier held is kept without a change
    when it is the base level)."""
    made = [c for c in changes if c.at <= at]
    if made:
        return made[-1].to_code
    if changes:
        return changes[0].from_code or base
    return current


def member_state(
    ctx: Context,
    config: ProgramConfig,
    member: Member | None,
    at: datetime,
    *,
    tier: str | None,
    pools: dict[str, str],
    for_write: bool,
) -> MemberState:
    """The member as the engine sees them before a purchase or event at ``at``."""
    program, uow = ctx.program, ctx.uow
    budgeted = [r.id for r in config.rules if r.limits and r.limits.budget is not None]
    if budgeted and for_write:
        uow.programs.lock(program.id)
    used = uow.purchases.budget_used(program.id, [r for r in budgeted if r not in pools])
    for pool in sorted(set(pools.values())):
        used[pool] = campaigns.budget_spent(ctx, pool)
    if member is None:
        return MemberState(budget_used=used, budget_pools=pools)
    limited = {r.id: r.limits.per_member for r in config.rules if r.limits and r.limits.per_member}
    zone = ZoneInfo(program.timezone)
    counts: dict[tuple[str, str], int] = {}
    for rule_id, moment in uow.purchases.award_moments(member.id, list(limited)):
        period = limited[rule_id]
        assert period is not None
        key = (rule_id, period_key(period.period, moment.astimezone(zone)))
        counts[key] = counts.get(key, 0) + 1
    wanted = {code for rule in config.rules for code in rule.segments or []}
    in_segments = (
        segments.member_segments(Context(uow, StoppedClock(at), SYSTEM, program), member, wanted)
        if wanted
        else frozenset()
    )
    return MemberState(
        member_id=member.id,
        tier_code=tier,
        segments=in_segments,
        purchases_before=uow.purchases.count_for_member(member.id),
        attributes=member.attributes,
        rule_counts=counts,
        budget_used=used,
        budget_pools=pools,
    )


def check_purchase_date(ctx: Context, at: datetime, member: Member | None) -> None:
    """The bounds of a purchase's ``occurred_at`` (``domain.dates``), and for a member's
    purchase, not more than ``anonymous_claim_days`` before their enrolment: the receipts they
    could have claimed anyway (a customer who pays, then joins at the till).

    Raises: ValidationFailed at ``occurred_at``."""
    floor = None
    if member is not None:
        days = ctx.config.anonymous_claim_days
        floor = Floor(
            member.enrolled_at - timedelta(days=days),
            f"is more than {days} days (the program's anonymous_claim_days) before the member "
            f"enrolled ({_iso(member.enrolled_at)})",
            "before_enrolment",
        )
    check_business_date(at, path="occurred_at", now=ctx.clock.now(), floor=floor)


def check_event_date(ctx: Context, at: datetime, member: Member) -> None:
    """The bounds of an event's ``occurred_at``: a member's activity comes after they enrolled.

    Raises: ValidationFailed at ``occurred_at``."""
    floor = Floor(
        member.enrolled_at,
        f"is before the member enrolled ({_iso(member.enrolled_at)})",
        "before_enrolment",
    )
    check_business_date(at, path="occurred_at", now=ctx.clock.now(), floor=floor)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
