"""Business dates: the one check every date a caller gives Patron passes.

A business date says when something happened in the merchant's world: a purchase's, refund's or
event's ``occurred_at``, a member's ``enrolled_at``. Each is checked here, the same way wherever
it comes in (the API, ``patron import``, the services themselves):

- **a string, RFC 3339 with an offset** (``2026-03-07T10:00:00Z``, ``...+01:00``): an integer
  (Unix time? milliseconds?) or a date without offset is ambiguous and refused at the edge
  (``RFC3339``, used by the entrypoints' input models);
- **not before 2000-01-01T00:00:00Z** (``EARLIEST``): no loyalty ledger holds older facts, and
  a date like 1900-01-01 is a default value that leaked, not a purchase. Programs can import
  history from before they were created in Patron, so the program's own creation is no bound;
- **not in the future**, beyond ``AHEAD`` (5 minutes) of the server clock for the skew of till
  clocks (``enrolled_at`` allows none: a member is never enrolled later than now);
- **not before what it depends on** (a ``Floor``): a member's event not before their
  enrolment, a refund not before its purchase, a member's purchase not earlier than the claim
  window before their enrolment (see ``services/earning.py``).

A failure is a ``ValidationFailed`` naming the field, so the API answers 422 problem+json with
the path and the import rejects the row with the same reason; nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from patron.domain.errors import FieldError, ValidationFailed

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""No business date may come before this."""

AHEAD = timedelta(minutes=5)
"""How far ahead of the server clock a business date may be (till clocks drift)."""

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
"""A timestamp with an offset: what ``check_timestamp_text`` accepts."""

TIMESTAMP_HINT = "must be an RFC 3339 timestamp string with an offset, like 2026-03-07T10:00:00Z"


def check_timestamp_text(value: object) -> str:
    """``value`` itself when it is an RFC 3339 timestamp string with an offset.

    Raises: ValueError (with ``TIMESTAMP_HINT``) for a number, a date, a naive time."""
    if not isinstance(value, str) or not RFC3339.match(value):
        raise ValueError(TIMESTAMP_HINT)
    return value


@dataclass(frozen=True, slots=True)
class Floor:
    """A moment a business date may not precede, and how to say so."""

    at: datetime
    message: str
    type: str


def check_business_date(
    at: datetime,
    *,
    path: str,
    now: datetime,
    ahead: timedelta = AHEAD,
    floor: Floor | None = None,
) -> None:
    """Raises: ValidationFailed at ``path`` when ``at`` is before ``EARLIEST``, later than
    ``now + ahead``, or before ``floor``."""
    error = None
    if at < EARLIEST:
        error = FieldError(path, "may not be before 2000-01-01T00:00:00Z", "too_early")
    elif at > now + ahead:
        error = FieldError(path, "may not be in the future", "future")
    elif floor is not None and at < floor.at:
        error = FieldError(path, floor.message, floor.type)
    if error is not None:
        raise ValidationFailed([error])
