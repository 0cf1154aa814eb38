"""The window an analytics request reads: ``[from, to)``."""

from __future__ import annotations

from datetime import datetime, timedelta

from patron.domain.errors import FieldError, ValidationFailed

DEFAULT_DAYS = 30


def window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """``[from, to)``: by default the 30 days up to now. Raises ValidationFailed."""
    for name, value in (("from", start), ("to", end)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed([FieldError(name, "needs a UTC offset, e.g. ...T00:00:00Z")])
    end = end or now
    start = start or end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise ValidationFailed([FieldError("from", "must come before to")])
    return start, end
