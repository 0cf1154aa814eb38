"""Segments: define, list their members, and tell which segments a member is in.

Membership is computed from the member's current facts (tier, available points, purchases and
spend net of refunds, last purchase, birthday month, attributes) whenever it is asked, so a
segment is never stale. Listing scans the program's members in id order; that is fine for
campaign-sized programs and is where a materialised membership would go later.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import ValidationError as PydanticError

from patron.domain.errors import FieldError, NotFound, ValidationFailed
from patron.domain.ids import new_id
from patron.domain.members import Member
from patron.domain.segments import MemberFacts, SegmentFilter, matches
from patron.domain.tiers import held_code
from patron.services.ledger import Context
from patron.services.ports import MemberFilter, Segment

SCAN = 500


def create(ctx: Context, code: str, name: str, document: Any) -> Segment:
    """Raises: ValidationFailed (with ``filter.`` paths), Conflict (code taken)."""
    parsed = parse_filter(document)
    tiers = ctx.config.tiers
    unknown = [c for c in parsed.tiers or [] if tiers is None or tiers.level(c) is None]
    if unknown:
        raise ValidationFailed(
            [FieldError("filter.tiers", f"unknown tier(s): {', '.join(unknown)}")]
        )
    segment = Segment(
        id=new_id(),
        program_id=ctx.program.id,
        code=code,
        name=name,
        filter=parsed.model_dump(mode="json", exclude_none=True),
        created_at=ctx.clock.now(),
    )
    ctx.uow.segments.add(segment)
    return segment


def parse_filter(document: Any) -> SegmentFilter:
    try:
        return SegmentFilter.model_validate(document)
    except PydanticError as exc:
        raise ValidationFailed(
            [
                FieldError(
                    "filter." + ".".join(str(p) for p in e["loc"]) if e["loc"] else "filter",
                    str(e["msg"]).removeprefix("Value error, "),
                    e["type"],
                )
                for e in exc.errors(include_url=False)
            ]
        ) from None


def facts(ctx: Context, member: Member) -> MemberFacts:
    totals = ctx.uow.purchases.totals(member.id, None, None)
    balances = {b.wallet: b for b in ctx.uow.ledger.balances(ctx.program.id, [member.id])}
    points = balances.get("points")
    return MemberFacts(
        tier_code=held_code(ctx.config.tiers, member.tier_code),
        balance=points.available if points else 0,
        last_purchase_at=totals.last_at,
        purchases=totals.standing,
        spend=Decimal(totals.eligible).scaleb(-ctx.program.currency_exponent),
        birth_month=member.birth_date.month if member.birth_date else None,
        attributes=member.attributes,
    )


def _get(ctx: Context, code: str) -> Segment:
    found = ctx.uow.segments.get(ctx.program.id, code)
    if found is None:
        raise NotFound(f"no segment {code!r} in this program")
    return found


def members_of(ctx: Context, code: str, *, after: str | None, limit: int) -> list[Member]:
    """Members in the segment, in id order, after ``after``. Raises: NotFound."""
    rule = parse_filter(_get(ctx, code).filter)
    now = ctx.clock.now()
    found: list[Member] = []
    while len(found) < limit:
        batch = ctx.uow.members.find(ctx.program.id, MemberFilter(), after=after, limit=SCAN)
        if not batch:
            break
        for member in batch:
            if member.status in ("active", "frozen") and matches(rule, facts(ctx, member), now):
                found.append(member)
                if len(found) == limit:
                    break
        after = batch[-1].id
    return found


def member_segments(ctx: Context, member: Member, codes: Iterable[str]) -> frozenset[str]:
    """Which of ``codes`` the member is in now (unknown codes: none)."""
    wanted = set(codes)
    if not wanted:
        return frozenset()
    known = {s.code: s for s in ctx.uow.segments.all(ctx.program.id) if s.code in wanted}
    if not known:
        return frozenset()
    member_facts = facts(ctx, member)
    now = ctx.clock.now()
    return frozenset(
        code for code, s in known.items() if matches(parse_filter(s.filter), member_facts, now)
    )
