"""Value types shared by the sections of a program configuration.

Money-like values (amounts, factors, percents, thresholds) are ``Decimal``: a JSON string such as
``"1.00"`` or a JSON number is accepted, booleans, NaN and infinities are not. Counts and points
are strict integers: ``5`` is accepted, ``5.0``, ``"5"`` and ``true`` are refused, because a
configuration that silently turns ``"5"`` into 5 also silently turns ``"5x"`` into an error later.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

CODE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
RULE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_.]{0,63}$"

Code = Annotated[str, Field(strict=True, pattern=CODE_PATTERN)]
"""A wallet or tier code: lower-case letters, digits and underscores, starting with a letter."""

Label = Annotated[str, Field(strict=True, min_length=1, max_length=200)]
Name = Annotated[str, Field(strict=True, min_length=1, max_length=120)]


def _refuse_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("must be a decimal number, not a boolean")
    return value


Amount = Annotated[Decimal, BeforeValidator(_refuse_bool), Field(ge=0, allow_inf_nan=False)]
"""A non-negative decimal (money, a spend threshold)."""

PositiveAmount = Annotated[Decimal, BeforeValidator(_refuse_bool), Field(gt=0, allow_inf_nan=False)]

Points = Annotated[StrictInt, Field(ge=1, le=1_000_000_000)]
"""A positive whole number of points awarded by a rule."""

Count = Annotated[StrictInt, Field(ge=1, le=1_000_000)]

Period = Literal["day", "week", "month", "year", "lifetime"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{value!r} is listed twice")
        seen.add(value)
    return values


Names = Annotated[
    list[Annotated[str, Field(strict=True, min_length=1, max_length=200)]],
    Field(min_length=1, max_length=10_000),
    AfterValidator(_unique),
]
"""A non-empty list of distinct strings (SKUs, categories, channels, ...)."""


def _moment(value: object) -> object:
    """Accept ``YYYY-MM-DD`` as a date and anything longer as an ISO 8601 date-time."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a date (YYYY-MM-DD) or an ISO 8601 date-time") from None
    if isinstance(value, date):
        return value
    raise ValueError("must be a date (YYYY-MM-DD) or an ISO 8601 date-time")


Moment = Annotated[date | datetime, BeforeValidator(_moment)]
"""A window bound. A date, or a date-time without offset, is read in the program time zone; a
date as ``end`` includes that whole day."""


class Section(BaseModel):
    """Base of every configuration object: unknown keys are refused, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Limit(Section):
    """At most ``count`` awards per member per ``period`` (calendar periods in the program zone)."""

    count: Count
    period: Period
