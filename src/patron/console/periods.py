"""The dashboard's period picker: which whole days of the program's time zone a page reads.

A period is a run of local days, ``first`` to ``last`` inclusive, read as the window
``[first 00:00, last + 1 day 00:00)`` of the program's time zone (so a day is a calendar day
there, 23 or 25 hours long across a clock change). The presets end today, partial as it is:
the manager who looks in the morning sees this morning's sales. ``custom`` takes ``from`` and
``to`` dates (both included).

The previous period is the same number of local days right before the first, so the two windows
meet and each begins at a local midnight (the analytics service's ``previous_window`` subtracts
a duration, which lands an hour off midnight when a clock change falls in between).

This module only picks dates; every figure comes from ``services.analytics``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from patron.domain.expiry import add_months

PRESETS: tuple[tuple[str, str], ...] = (
    ("7d", "7 days"),
    ("30d", "30 days"),
    ("90d", "90 days"),
    ("12m", "12 months"),
)
DEFAULT = "30d"
LONGEST_DAYS = 10 * 366
"""A custom period of more than ten years is a typing slip, not a question anyone asks."""
EARLIEST, LATEST = date(1970, 1, 1), date(2999, 12, 31)


@dataclass(frozen=True)
class Period:
    key: str  # one of PRESETS' keys, or "custom"
    first: date
    last: date
    timezone: str

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), ZoneInfo(self.timezone)).astimezone(UTC)

    @property
    def start(self) -> datetime:
        return self._midnight(self.first)

    @property
    def end(self) -> datetime:
        """Exclusive: the local midnight after the last day."""
        return self._midnight(self.last + timedelta(days=1))

    def previous(self) -> Period:
        """The same number of days right before this period."""
        last = self.first - timedelta(days=1)
        return Period(self.key, last - timedelta(days=self.days - 1), last, self.timezone)

    @property
    def label(self) -> str:
        """Written out, with an en dash: "3 Nov - 2 Dec 2026", "28 Dec 2025 - 3 Jan 2026", or
        "3 Nov 2026" for a single day."""
        end = f"{self.last.day} {self.last:%b %Y}"
        if self.first == self.last:
            return end
        if self.first.year == self.last.year:
            return f"{self.first.day} {self.first:%b} \u2013 {end}"
        return f"{self.first.day} {self.first:%b %Y} \u2013 {end}"

    @property
    def query(self) -> str:
        """The query string that selects this period again."""
        if self.key != "custom":
            return urlencode({"period": self.key})
        fields = {"period": "custom", "from": self.first.isoformat(), "to": self.last.isoformat()}
        return urlencode(fields)

    @property
    def slug(self) -> str:
        """For file names: ``2026-11-03-to-2026-12-02``."""
        return f"{self.first.isoformat()}-to-{self.last.isoformat()}"


class PeriodInvalid(Exception):
    """A custom period the picker cannot read; ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def preset(key: str, today: date, timezone: str) -> Period:
    """A preset period ending ``today``; an unknown key gives the default."""
    if key == "12m":
        start = add_months(datetime.combine(today, time()), -12).date() + timedelta(days=1)
        return Period(key, start, today, timezone)
    if key not in dict(PRESETS):
        key = DEFAULT
    days = int(key.removesuffix("d"))
    return Period(key, today - timedelta(days=days - 1), today, timezone)


def _day(errors: dict[str, str], name: str, text: str, what: str) -> date | None:
    if not text.strip():
        errors[name] = f"Enter the {what} date"
        return None
    try:
        found = date.fromisoformat(text.strip())
    except ValueError:
        errors[name] = f"The {what} date must be a real date, like 2026-11-03"
        return None
    if not EARLIEST <= found <= LATEST:
        errors[name] = f"The {what} date must be between {EARLIEST.year} and {LATEST.year}"
        return None
    return found


def choose(query: dict[str, str], now: datetime, timezone: str) -> Period:
    """The period a dashboard request asks for (``period``, and ``from``/``to`` when custom).

    Raises: PeriodInvalid, with a message per field, for a custom period with a missing or
    impossible date, a start after its end, or more than ten years."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    key = query.get("period", DEFAULT)
    if key != "custom":
        return preset(key, today, timezone)
    errors: dict[str, str] = {}
    first = _day(errors, "from", query.get("from", ""), "start")
    last = _day(errors, "to", query.get("to", ""), "end")
    if first and last:
        if first > last:
            errors["to"] = "The end date must be the same as or after the start date"
        elif (last - first).days >= LONGEST_DAYS:
            errors["from"] = "Choose a period of at most ten years"
    if errors or first is None or last is None:
        raise PeriodInvalid(errors)
    return Period("custom", first, last, timezone)
