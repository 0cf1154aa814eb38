"""Why a member's tier changed, in words: the ``reason`` of each entry of the tier history.

A staff override or a paid tier carries the reason given with it. Every other change explains
itself from the standing that caused it: the metric that reached (or fell below) a threshold,
the grace that keeps a tier, the best level ever reached, or the override that ended.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from patron.domain.config.tiers import Tiers
from patron.domain.tiers import Standing, next_level

GRANTED = ("override", "paid")
"""Standings that come from a grant rather than from the metric."""

_PERIODS = {
    "calendar_year": "this calendar year",
    "rolling_12_months": "in the last 12 months",
    "lifetime": "in total",
}


def automatic(
    tiers: Tiers,
    now_standing: Standing,
    *,
    metric: Decimal,
    exponent: int,
    ended: str | None = None,
) -> str:
    """The reason of a change that no grant of this request caused.

    ``ended`` is the cause (``override`` or ``paid``) of a grant that held the tier until now.
    """
    level = tiers.level(now_standing.code)
    name = level.name if level else now_standing.code
    if now_standing.cause in GRANTED:
        text = f"{now_standing.cause} to {name}{_until(now_standing.until)}"
    elif now_standing.cause == "grace":
        text = f"{name} reached in the previous period, kept{_until(now_standing.until)}"
    elif now_standing.cause == "best_ever":
        text = f"{name} is the best tier reached; this program never lowers tiers"
    else:
        reached = _amount(tiers, metric, exponent)
        period = _PERIODS[tiers.period]
        upper = next_level(tiers, now_standing.code)
        if now_standing.cause == "base" and upper is not None:
            needed = _number(tiers, upper.threshold, exponent)
            text = f"{reached} {period}, below {upper.name} ({needed})"
        else:
            threshold = _number(tiers, level.threshold if level else Decimal(0), exponent)
            text = f"{reached} {period} reaches {name} ({threshold})"
    return f"{ended} ended; {text}" if ended else text


def _amount(tiers: Tiers, value: Decimal, exponent: int) -> str:
    number = _number(tiers, value, exponent)
    if tiers.metric == "spend":
        return f"spend {number}"
    return f"{number} {'purchases' if tiers.metric == 'purchases' else 'points earned'}"


def _number(tiers: Tiers, value: Decimal, exponent: int) -> str:
    return f"{value:.{exponent}f}" if tiers.metric == "spend" else str(int(value))


def _until(until: datetime | None) -> str:
    return f" until {until.date().isoformat()}" if until else ""
