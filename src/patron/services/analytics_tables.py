"""The analytics summary and series as named tables: the rows the console shows as HTML and
offers as CSV, and ``patron report`` prints, from the very same values.

Pure functions over the dictionaries of ``analytics.summary`` and ``analytics.series``: every
cell is a plain string or number, ``None`` where a figure has no value. A table is ``(title,
headers, rows)``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

Cell = str | int | None
Table = tuple[str, list[str], list[list[Cell]]]

FIGURES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Members", ("members", "total")),
    ("New members", ("members", "new")),
    ("Active members (90 days)", ("members", "active_90_days")),
    ("Points issued", ("points", "issued")),
    ("Points redeemed", ("points", "redeemed")),
    ("Points expired", ("points", "expired")),
    ("Points outstanding", ("points", "outstanding")),
    ("Points pending", ("points", "pending")),
    ("Liability", ("liability",)),
    ("Redemption rate", ("points", "redemption_rate")),
    ("Breakage", ("points", "breakage")),
    ("Sales", ("sales", "total")),
    ("Member share of sales", ("sales", "member_share")),
    ("Orders", ("sales", "orders")),
    ("Average order value", ("sales", "average_order_value")),
    ("Repeat purchase rate", ("behaviour", "repeat_purchase_rate")),
    ("Average purchase cycle (days)", ("behaviour", "average_purchase_cycle_days")),
)


def previous_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The period of the same length right before ``[start, end)``."""
    return start - (end - start), start


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def compare(current: Any, previous: Any) -> tuple[Cell, Cell]:
    """The change from ``previous`` to ``current``: (absolute, percent). The absolute change is
    an integer for integers, else a decimal string; the percent a string with one decimal,
    None when ``previous`` is 0 (or either is not a number)."""
    now, before = _number(current), _number(previous)
    if now is None or before is None:
        return None, None
    delta = now - before
    absolute: Cell = (
        int(delta) if isinstance(current, int) and isinstance(previous, int) else str(delta)
    )
    if not before:
        return absolute, None
    percent = (delta / abs(before) * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return absolute, str(percent)


def _pick(figures: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = figures
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def figures_table(summary: dict[str, Any], previous: dict[str, Any] | None = None) -> Table:
    rows: list[list[Cell]] = []
    for label, path in FIGURES:
        now = _pick(summary, path)
        before = _pick(previous, path) if previous is not None else None
        change, percent = compare(now, before) if previous is not None else (None, None)
        rows.append([label, now, before, change, percent])
    return (
        f"Figures, {summary['from']} to {summary['to']}",
        ["figure", "value", "previous period", "change", "change %"],
        rows,
    )


def series_table(series: dict[str, Any]) -> Table:
    columns = [
        "start",
        "end",
        "points_issued",
        "points_redeemed",
        "points_expired",
        "points_owed",
        "members_new",
        "members_active",
        "liability",
    ]
    rows: list[list[Cell]] = [[row[c] for c in columns] for row in series["buckets"]]
    return f"By {series['bucket']} ({series['timezone']})", columns, rows


def tables(
    summary: dict[str, Any],
    series: dict[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
) -> dict[str, Table]:
    """Every table of a summary (and its previous period's, for the changes) and a series."""
    found: dict[str, Table] = {"figures": figures_table(summary, previous)}
    if series is not None:
        found["series"] = series_table(series)
    found["tiers"] = (
        "Members by tier",
        ["tier", "members"],
        [[code, n] for code, n in summary["members"]["tiers"].items()],
    )
    migration = summary["tier_migration"]
    found["tier_migration"] = (
        f"Tier changes (up {migration['up']}, down {migration['down']})",
        ["from", "to", "direction", "changes"],
        [[c["from"], c["to"], c["direction"], c["changes"]] for c in migration["changes"]],
    )
    found["expiry_forecast"] = (
        "Expiring from the end of the period",
        ["wallet", "within", "amount", "value"],
        [
            [wallet, key.removeprefix("next_").replace("_", " "), v["amount"], v["value"]]
            for wallet, horizons in summary["expiry_forecast"].items()
            for key, v in horizons.items()
        ],
    )
    found["top_rules"] = (
        "Top earning rules",
        ["rule", "name", "points issued", "awards"],
        [[r["rule_id"], r["name"], r["issued"], r["awards"]] for r in summary["top_rules"]],
    )
    found["top_rewards"] = (
        "Top rewards",
        ["reward", "name", "wallet", "redemptions", "spent"],
        [
            [r["code"], r["name"], r["wallet"], r["redemptions"], r["spent"]]
            for r in summary["top_rewards"]
        ],
    )
    found["average_order_value"] = (
        "Average order value",
        ["buyers", "sales", "orders", "average order value"],
        [
            [group.replace("_", "-"), v["sales"], v["orders"], v["average_order_value"]]
            for group, v in summary["average_order_value"].items()
        ],
    )
    return found
