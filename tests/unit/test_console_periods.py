"""The dashboard's periods: whole local days, their previous period, their labels and errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from patron.console.dashboard_view import CARDS, GROUPS, Card
from patron.console.periods import Period, PeriodInvalid, choose
from patron.services.analytics_tables import FIGURES

NOW = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)  # 3 December in Paris already


def test_the_presets_end_today_in_the_programs_time_zone() -> None:
    period = choose({}, NOW, "Europe/Paris")
    assert (period.key, period.first, period.last) == ("30d", date(2026, 11, 4), date(2026, 12, 3))
    assert period.start == datetime(2026, 11, 3, 23, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 12, 3, 23, 0, tzinfo=UTC)
    assert period.label == "4 Nov \u2013 3 Dec 2026"
    assert choose({}, NOW, "America/New_York").last == date(2026, 12, 2)
    assert choose({"period": "7d"}, NOW, "UTC").first == date(2026, 11, 26)
    assert choose({"period": "nonsense"}, NOW, "UTC").key == "30d"
    year = choose({"period": "12m"}, NOW, "UTC")
    assert (year.first, year.last, year.days) == (date(2025, 12, 3), date(2026, 12, 2), 365)
    assert year.label == "3 Dec 2025 \u2013 2 Dec 2026"


def test_the_previous_period_is_as_many_local_days_right_before() -> None:
    # 30 days over the end of summer time: 30 days less an hour, starting at midnight.
    period = Period("30d", date(2026, 10, 10), date(2026, 11, 8), "Europe/Paris")
    before = period.previous()
    assert (before.first, before.last) == (date(2026, 9, 10), date(2026, 10, 9))
    assert before.end == period.start
    assert before.start == datetime(2026, 9, 9, 22, 0, tzinfo=UTC)  # midnight in Paris
    assert period.end - period.start == timedelta(days=30, hours=1)


def test_a_custom_period_and_its_query() -> None:
    period = choose({"period": "custom", "from": "2026-11-03", "to": "2026-11-03"}, NOW, "UTC")
    assert (period.days, period.label) == (1, "3 Nov 2026")
    assert period.query == "period=custom&from=2026-11-03&to=2026-11-03"
    assert period.slug == "2026-11-03-to-2026-11-03"
    assert choose({"period": "90d"}, NOW, "UTC").query == "period=90d"


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({}, {"from": "Enter the start date", "to": "Enter the end date"}),
        ({"from": "3/11/2026", "to": "2026-11-31"}, {"from": "real date", "to": "real date"}),
        ({"from": "2026-11-04", "to": "2026-11-03"}, {"to": "same as or after"}),
        ({"from": "1969-12-31", "to": "2026-11-03"}, {"from": "between 1970 and 2999"}),
        ({"from": "2010-01-01", "to": "2026-11-03"}, {"from": "at most ten years"}),
    ],
)
def test_a_bad_custom_period_names_its_fields(
    query: dict[str, str], errors: dict[str, str]
) -> None:
    with pytest.raises(PeriodInvalid) as raised:
        choose({"period": "custom", **query}, NOW, "UTC")
    assert set(raised.value.errors) == set(errors)
    for field, words in errors.items():
        assert words in raised.value.errors[field]


def test_every_figure_has_a_card_and_a_place() -> None:
    keys = {".".join(path) for _, path in FIGURES}
    assert set(CARDS) == keys
    placed = [key for _, group in GROUPS for key in group]
    assert sorted(placed) == sorted(keys)


@pytest.mark.parametrize(
    ("change", "good_when", "trend", "tone"),
    [
        (5, "up", "up", "good"),
        (-5, "up", "down", "bad"),
        ("-0.1000", "down", "down", "good"),
        (5, "", "up", "neutral"),
        (0, "up", "flat", "neutral"),
        (None, "up", "none", "neutral"),
    ],
)
def test_a_change_has_a_direction_and_a_tone(
    change: int | str | None, good_when: str, trend: str, tone: str
) -> None:
    card = Card("points.issued", "Points issued", 1, 1, change, None, "points", good_when, "")
    assert (card.trend, card.tone) == (trend, tone)
