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
