"""The one written form of a moment in everything Patron hands out (API answers, problem
details, exports, webhook payloads, audit records): RFC 3339 in UTC with ``Z``, to the second,
``2026-03-01T10:00:00Z``; and dates as ``YYYY-MM-DD``.

Whole seconds because every moment a person or a rule deals with (a purchase, an expiry, a tier
period) is at most to the second, and one fixed width is easier to read, compare and parse than
``.isoformat()``'s microseconds that come and go. A naive datetime is taken as UTC, which is how
the storage layer hands them back.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
"""What :func:`rfc3339` writes."""

DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def rfc3339(moment: datetime) -> str:
    at = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return (
        f"{at.year:04d}-{at.month:02d}-{at.day:02d}T{at.hour:02d}:{at.minute:02d}:{at.second:02d}Z"
    )


def rfc3339_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)
