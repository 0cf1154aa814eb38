"""The console's analytics tables: changes against the previous period, and rows of values."""

from __future__ import annotations

from datetime import UTC, datetime

from patron.services.analytics_series import bucket_for
from patron.services.analytics_tables import compare, figures_table, previous_window


def test_previous_window_is_the_same_length_right_before() -> None:
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC)
    assert previous_window(start, end) == (datetime(2026, 2, 22, tzinfo=UTC), start)


def test_compare() -> None:
    assert compare(150, 100) == (50, "50.0")
    assert compare("90.00", "120.00") == ("-30.00", "-25.0")
    assert compare(5, 0) == (5, None)
    assert compare(None, 3) == (None, None)


def test_bucket_for() -> None:
    day = datetime(2026, 1, 1, tzinfo=UTC)
    assert bucket_for(day, day.replace(month=2)) == "day"  # 31 days
    assert bucket_for(day, day.replace(month=2, day=2)) == "week"
    assert bucket_for(day, day.replace(month=7, day=4)) == "week"  # 184 days
    assert bucket_for(day, day.replace(month=7, day=5)) == "month"


def test_the_figures_table_has_the_previous_period() -> None:
    now = {"from": "a", "to": "b", "members": {"total": 12}, "points": {"issued": 300}}
    before = {"members": {"total": 10}, "points": {"issued": 0}}
    title, headers, rows = figures_table(now, before)
    assert title == "Figures, a to b"
    assert headers == ["figure", "value", "previous period", "change", "change %"]
    found = {row[0]: row[1:] for row in rows}
    assert found["Members"] == [12, 10, 2, "20.0"]
    assert found["Points issued"] == [300, 0, 300, None]
