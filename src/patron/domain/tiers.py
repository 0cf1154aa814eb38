"""Status tiers (SPEC §4): which tier a member holds, since when and until when.

A member's earned tier is the highest level whose threshold the metric reaches in the current
qualification window, or, under the default ``end_of_next_period`` policy of a calendar year,
the level reached in the previous year (grace: a tier reached in year Y is kept to the end of
Y+1). ``end_of_period`` keeps a tier to the end of the window it was reached in; ``never`` keeps
the best level ever reached. Rolling and lifetime windows have no previous window: the rolling
metric is re-evaluated daily by the tier job.

On top of the earned tier: a staff **override** replaces it while active (even with a lower
tier); a **paid** tier (a membership subscription) lifts it while active, never lowers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from patron.domain.config.tiers import Level, Tiers


@dataclass(frozen=True, slots=True)
class Grant:
    """A staff override or a paid tier."""

    code: str
    until: datetime | None
    paid: bool

    def active(self, now: datetime) -> bool:
        return self.until is None or now < self.until


@dataclass(frozen=True, slots=True)
class Standing:
    """The tier a member holds now, and why."""

    code: str
    until: datetime | None
    cause: str  # "qualified", "grace", "best_ever", "override", "paid", "base"


def level_for(tiers: Tiers, metric: Decimal) -> Level:
    """The highest level whose threshold ``metric`` reaches (the first level has threshold 0)."""
    reached = tiers.levels[0]
    for level in tiers.levels:
        if metric >= level.threshold:
            reached = level
    return reached


def held_code(tiers: Tiers | None, tier_code: str | None) -> str | None:
    """The tier a member holds from the stored code: the base level for a member whose tier was
    never evaluated (enrolled with no awarding event, or before the program had tiers)."""
    if tiers is None:
        return None
    return tier_code or tiers.levels[0].code


def rank(tiers: Tiers, code: str) -> int:
    return next((i for i, level in enumerate(tiers.levels) if level.code == code), -1)


def year_end(now: datetime, timezone: str, years_after: int = 0) -> datetime:
    """The first instant of the year after ``now`` (+ ``years_after``), local time."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    return datetime(local.year + 1 + years_after, 1, 1, tzinfo=zone)


def standing(
    tiers: Tiers,
    *,
    now: datetime,
    timezone: str,
    current: Decimal,
    previous: Decimal | None,
    best_ever: str | None,
    grants: list[Grant],
) -> Standing:
    """The tier held at ``now`` from the metric of the current (and previous) window."""
    earned = _earned(tiers, now, timezone, current, previous, best_ever)
    override = next((g for g in grants if not g.paid and g.active(now)), None)
    if override is not None and rank(tiers, override.code) >= 0:
        return Standing(override.code, override.until, "override")
    paid = [g for g in grants if g.paid and g.active(now) and rank(tiers, g.code) >= 0]
    best_paid = max(paid, key=lambda g: rank(tiers, g.code), default=None)
    if best_paid is not None and rank(tiers, best_paid.code) > rank(tiers, earned.code):
        return Standing(best_paid.code, best_paid.until, "paid")
    return earned


def _earned(
    tiers: Tiers,
    now: datetime,
    timezone: str,
    current: Decimal,
    previous: Decimal | None,
    best_ever: str | None,
) -> Standing:
    reached = level_for(tiers, current)
    if tiers.period != "calendar_year":
        if (
            tiers.downgrade == "never"
            and best_ever
            and rank(tiers, best_ever) > rank(tiers, reached.code)
        ):
            return Standing(best_ever, None, "best_ever")
        cause = "qualified" if rank(tiers, reached.code) > 0 else "base"
        return Standing(reached.code, None, cause)
    if tiers.downgrade == "never":
        best = reached.code
        if best_ever and rank(tiers, best_ever) > rank(tiers, best):
            best = best_ever
        if rank(tiers, best) == 0:
            return Standing(best, None, "base")
        return Standing(best, None, "qualified" if best == reached.code else "best_ever")
    held = reached
    cause = "qualified" if rank(tiers, reached.code) > 0 else "base"
    until = year_end(now, timezone, 1 if tiers.downgrade == "end_of_next_period" else 0)
    if tiers.downgrade == "end_of_next_period" and previous is not None:
        kept = level_for(tiers, previous)
        if rank(tiers, kept.code) > rank(tiers, reached.code):
            held, cause, until = kept, "grace", year_end(now, timezone)
    if rank(tiers, held.code) == 0:
        return Standing(held.code, None, "base")
    return Standing(held.code, until, cause)


def next_level(tiers: Tiers, code: str) -> Level | None:
    position = rank(tiers, code)
    return tiers.levels[position + 1] if 0 <= position < len(tiers.levels) - 1 else None
