"""How the dashboard shows the analytics tables: cards, charts and tables, formatted for people.

Everything here is presentation of the rows ``services.analytics_tables`` builds from
``analytics.summary`` and ``analytics.series``: which figure is a count, points, money, a ratio
or days; whether a rise is good news; the one-line definition under each figure's "?" (the same
words as docs/analytics.md); which series share a chart. No figure is computed here: a change
and its percent come from ``analytics_tables.compare`` (inside ``figures_table``), and a chart's
values are the series table's cells as numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from patron.services.analytics_tables import FIGURES, Cell, Table

# figure path → (kind, good when it goes "up" / "down" / neither "", definition)
CARDS: dict[str, tuple[str, str, str]] = {
    "members.total": ("count", "up", "Members enrolled by the end of the period, not erased."),
    "members.new": ("count", "up", "Members who enrolled during the period."),
    "members.active_90_days": (
        "count",
        "up",
        "Members with at least one purchase in the 90 days before the period's end.",
    ),
    "points.issued": (
        "points",
        "up",
        "Points earned on purchases and events, referral bonuses and positive adjustments "
        "during the period.",
    ),
    "points.redeemed": (
        "points",
        "up",
        "Points spent on rewards during the period, less cancelled redemptions.",
    ),
    "points.expired": ("points", "down", "Points that expired during the period."),
    "points.outstanding": (
        "points",
        "",
        "Points members can spend now (today's balances, whatever the period).",
    ),
    "points.pending": (
        "points",
        "",
        "Points earned but still in their return window, now.",
    ),
    "liability": (
        "money",
        "",
        "What the points and other wallets members hold now (available and pending) would "
        "cost the program: amount times unit value.",
    ),
    "points.redemption_rate": (
        "ratio",
        "up",
        "Points redeemed ÷ points issued during the period.",
    ),
    "points.breakage": (
        "ratio",
        "",
        "Points expired ÷ (redeemed + expired) during the period: the share of points that "
        "left the program unredeemed.",
    ),
    "sales.total": (
        "money",
        "up",
        "Net sales of the period's purchases (after discounts and refunds, without tax and "
        "shipping), members and non-members.",
    ),
    "sales.member_share": ("ratio", "up", "Members' sales ÷ all sales during the period."),
    "sales.orders": ("count", "up", "Purchases during the period not refunded in full."),
    "sales.average_order_value": ("money", "up", "Sales ÷ orders during the period."),
    "behaviour.repeat_purchase_rate": (
        "ratio",
        "up",
        "Of the members who bought during the period, the share with two or more orders.",
    ),
    "behaviour.average_purchase_cycle_days": (
        "days",
        "down",
        "For members with two or more orders during the period, the average number of days "
        "between their orders.",
    ),
}

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Members", ("members.total", "members.new", "members.active_90_days")),
    (
        "Points",
        (
            "points.issued",
            "points.redeemed",
            "points.expired",
            "points.outstanding",
            "points.pending",
        ),
    ),
    ("Value", ("liability", "points.redemption_rate", "points.breakage")),
    (
        "Sales and buying",
        (
            "sales.total",
            "sales.member_share",
            "sales.orders",
            "sales.average_order_value",
            "behaviour.repeat_purchase_rate",
            "behaviour.average_purchase_cycle_days",
        ),
    ),
)


@dataclass(frozen=True)
class Card:
    key: str
    label: str
    value: Cell
    previous: Cell
    change: Cell
    percent: Cell
    kind: str
    good_when: str
    definition: str

    @property
    def id(self) -> str:
        return "figure-" + self.key.replace(".", "-").replace("_", "-")

    @property
    def trend(self) -> str:
        """``up``, ``down``, ``flat``, or ``none`` when there is nothing to compare."""
        if self.change is None:
            return "none"
        sign = Decimal(str(self.change))
        return "up" if sign > 0 else "down" if sign < 0 else "flat"

    @property
    def tone(self) -> str:
        """``good``, ``bad`` or ``neutral``: the colour of the change (beside its arrow)."""
        if self.trend not in ("up", "down") or not self.good_when:
            return "neutral"
        return "good" if self.trend == self.good_when else "bad"

    @property
    def size(self) -> Cell:
        """The change without its sign (the arrow says which way)."""
        return None if self.change is None else str(abs(Decimal(str(self.change))))


def cards(figures: Table) -> list[tuple[str, list[Card]]]:
    """The figures table's rows as cards, grouped as the page shows them."""
    by_key: dict[str, Card] = {}
    for (label, path), row in zip(FIGURES, figures[2], strict=True):
        key = ".".join(path)
        kind, good_when, definition = CARDS[key]
        by_key[key] = Card(key, label, row[1], row[2], row[3], row[4], kind, good_when, definition)
    return [(heading, [by_key[k] for k in keys]) for heading, keys in GROUPS]


def figure(figures: Table, label: str) -> Cell:
    """One figure's value from the figures table, by its label."""
    return next((row[1] for row in figures[2] if row[0] == label), None)


# --- charts ------------------------------------------------------------------------------------

# chart id → (heading, chart type, the series table's columns shown, their legends)
CHARTS: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "points",
        "Points issued and redeemed",
        "bar",
        ("points_issued", "points_redeemed"),
        ("Issued", "Redeemed"),
    ),
    ("expired", "Points expired", "bar", ("points_expired",), ("Expired",)),
    (
        "members",
        "New and active members",
        "bar",
        ("members_new", "members_active"),
        ("New", "Active (bought)"),
    ),
    ("liability", "Liability at the end of each bucket", "line", ("liability",), ("Liability",)),
)
BUCKET_WORDS = {"day": "Day", "week": "Week beginning", "month": "Month"}


def _bucket_label(start: str, size: str, timezone: str) -> str:
    local = datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(ZoneInfo(timezone))
    return f"{local:%b %Y}" if size == "month" else f"{local.day} {local:%b}"


def _number(cell: Cell) -> float | int | None:
    if cell is None or isinstance(cell, int):
        return cell
    return float(Decimal(cell))


def charts(series: Table, size: str, timezone: str) -> list[dict[str, Any]]:
    """Per chart: its id, heading, the JSON spec console.js draws, and its data table."""
    _, headers, rows = series
    labels = [_bucket_label(str(row[0]), size, timezone) for row in rows]
    found = []
    for chart_id, heading, kind, columns, legends in CHARTS:
        at = [headers.index(c) for c in columns]
        spec = {
            "type": kind,
            "labels": labels,
            "series": [
                {"label": legend, "values": [_number(row[i]) for row in rows]}
                for legend, i in zip(legends, at, strict=True)
            ],
        }
        found.append(
            {
                "id": f"chart-{chart_id}",
                "heading": heading,
                "spec": spec,
                "money": chart_id == "liability",
                "headers": [BUCKET_WORDS[size], *legends],
                "rows": [
                    [label, *(row[i] for i in at)] for label, row in zip(labels, rows, strict=True)
                ],
            }
        )
    return found


# --- tables ------------------------------------------------------------------------------------

# table name → (heading, each column's kind, what the empty table says)
TABLES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "tiers": (
        "Tier distribution",
        ("tier", "count"),
        "No members hold a tier yet — tiers are given on enrolment when the program has them.",
    ),
    "tier_migration": (
        "Tier changes in the period",
        ("tier", "tier", "text", "count"),
        "No member changed tier in this period.",
    ),
    "expiry_forecast": (
        "Expiring after the period",
        ("text", "text", "points", "money"),
        "No wallet has an expiry policy, so nothing is forecast to expire.",
    ),
    "top_rules": (
        "Top earning rules",
        ("text", "text", "points", "count"),
        "No rule awarded points in this period.",
    ),
    "top_rewards": (
        "Top rewards",
        ("text", "text", "text", "count", "points"),
        "No reward was redeemed in this period.",
    ),
    "average_order_value": (
        "Average order value by buyer",
        ("text", "money", "count", "money"),
        "No purchases in this period.",
    ),
}


def tables(found: dict[str, Table]) -> dict[str, dict[str, Any]]:
    """The named tables with their heading, headers, column kinds and empty message."""
    shown = {}
    for name, (heading, kinds, empty) in TABLES.items():
        title, headers, rows = found[name]
        shown[name] = {
            "name": name,
            "heading": heading,
            "title": title,
            "headers": [h[:1].upper() + h[1:] for h in headers],
            "kinds": kinds,
            "rows": rows,
            "empty": empty,
        }
    return shown
