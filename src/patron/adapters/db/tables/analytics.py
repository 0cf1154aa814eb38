"""Daily roll-ups of the dashboard's additive figures (migration 0028, whose docstring and
``adapters/db/analytics_rollups.py`` say how they stay true)."""

from __future__ import annotations

import sqlalchemy as sa

from patron.adapters.db.tables.base import BIG, ID, metadata
from patron.adapters.db.types import UtcDateTime

analytics_days = sa.Table(
    "analytics_days",
    metadata,
    sa.Column("program_id", ID, primary_key=True),
    sa.Column("day_start", UtcDateTime(timezone=True), primary_key=True),
    sa.Column("day_end", UtcDateTime(timezone=True), nullable=False),
    sa.Column("member_sales", BIG, nullable=False),
    sa.Column("member_orders", BIG, nullable=False),
    sa.Column("anonymous_sales", BIG, nullable=False),
    sa.Column("anonymous_orders", BIG, nullable=False),
)

analytics_day_flows = sa.Table(
    "analytics_day_flows",
    metadata,
    sa.Column("program_id", ID, primary_key=True),
    sa.Column("day_start", UtcDateTime(timezone=True), primary_key=True),
    sa.Column("type", sa.String(24), primary_key=True),
    sa.Column("wallet", sa.String(32), primary_key=True),
    sa.Column("credit", BIG, nullable=False),
    sa.Column("debit", BIG, nullable=False),
)

# Buyer spans (migration 0031; ``adapters/db/analytics_spans.py`` says how they stay true): per
# program and span of whole past days, each member's purchases in it, for the figures that are
# not sums of days (buyers, repeat buyers, the purchase cycle, the active members).
analytics_spans = sa.Table(
    "analytics_spans",
    metadata,
    sa.Column("program_id", ID, primary_key=True),
    sa.Column("span_start", UtcDateTime(timezone=True), primary_key=True),
    sa.Column("span_end", UtcDateTime(timezone=True), primary_key=True),
    sa.Column("purpose", sa.String(8), nullable=False),  # "window" or "bucket"
    sa.Column("ready", sa.Boolean, nullable=False),
    sa.Column("token", sa.String(32), nullable=False),
    sa.Column("computed_at", UtcDateTime(timezone=True), nullable=False),
    sa.Column("buyers", BIG),  # its rows in analytics_span_buyers, once ready
)

analytics_span_buyers = sa.Table(
    "analytics_span_buyers",
    metadata,
    sa.Column("program_id", ID, primary_key=True),
    sa.Column("span_start", UtcDateTime(timezone=True), primary_key=True),
    sa.Column("span_end", UtcDateTime(timezone=True), primary_key=True),
    sa.Column("member_id", ID, primary_key=True),
    sa.Column("orders", BIG, nullable=False),  # purchases not refunded in full
    sa.Column("first_at", UtcDateTime(timezone=True)),  # the first and last of those
    sa.Column("last_at", UtcDateTime(timezone=True)),
    sa.Column("latest_at", UtcDateTime(timezone=True), nullable=False),  # any purchase
    sa.Column("cycle_days", sa.Float),  # mean days between those, for two or more
)
