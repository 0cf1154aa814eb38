"""The timestamp every business date of a request is given as (see ``patron.domain.dates``).

``Timestamp`` accepts only a string in RFC 3339 with an offset: pydantic's own ``datetime``
would also take an integer (as Unix seconds, or milliseconds when large) or a float, and a
client sending one almost certainly meant something else. The bounds (not before 2000, not in
the future, not before the member's enrolment...) are checked by the use cases, which know the
clock and the member.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from patron.domain.dates import TIMESTAMP_HINT, check_timestamp_text


def _text(value: Any) -> str:
    try:
        return check_timestamp_text(value)
    except ValueError:
        raise PydanticCustomError("invalid_timestamp", TIMESTAMP_HINT) from None


Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_text),
    Field(examples=["2026-03-07T10:00:00Z"]),
]
