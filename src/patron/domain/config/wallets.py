"""Wallets and their policies: expiry, pending (return-window) days and expiry reminders.

``points`` is always a points wallet; other wallets are points or money (``kind: money``, decimal
amounts in the program currency, e.g. cash-back store credit). ``expiry: null`` and
``{"mode": "none"}`` both mean that nothing expires; the stored document says ``{"mode": "none"}``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StrictInt, model_validator

from patron.domain.config.values import PositiveAmount, Section

ExpiryRounding = Literal["end_of_month", "end_of_quarter", "end_of_year"]
Months = Annotated[StrictInt, Field(ge=1, le=120)]


class AfterEarn(Section):
    """Each lot expires ``months`` after the purchase's ``occurred_at``, optionally rounded up to
    the end of that month, quarter or year (program time zone)."""

    mode: Literal["after_earn"]
    months: Months
    round: ExpiryRounding | None = None


class Inactivity(Section):
    """The whole balance expires after ``months`` without an earn or a redemption."""

    mode: Literal["inactivity"]
    months: Months


class NoExpiry(Section):
    mode: Literal["none"]


Expiry = Annotated[AfterEarn | Inactivity | NoExpiry, Field(discriminator="mode")]


def _null_is_none(value: object) -> object:
    return {"mode": "none"} if value is None else value


def _sorted_days(days: list[int]) -> list[int]:
    if len(set(days)) != len(days):
        raise ValueError("each reminder day may be listed once")
    return sorted(days, reverse=True)


ReminderDays = Annotated[
    list[Annotated[StrictInt, Field(ge=1, le=365)]],
    Field(max_length=10),
    AfterValidator(_sorted_days),
]


class Wallet(Section):
    kind: Literal["points", "money"] = "points"
    expiry: Annotated[Expiry, BeforeValidator(_null_is_none)] = NoExpiry(mode="none")
    pending_days: Annotated[StrictInt, Field(ge=0, le=365)] = 0
    reminder_days: ReminderDays = []
    unit_value: PositiveAmount | None = None
    """What one unit costs the program in its currency, for liability figures (default: 0.01
    for a points wallet; a money wallet's unit is the currency itself)."""

    @model_validator(mode="after")
    def _reminders_need_expiry(self) -> Wallet:
        if self.reminder_days and isinstance(self.expiry, NoExpiry):
            raise ValueError("reminder_days needs an expiry policy: nothing here ever expires")
        return self

    @property
    def is_money(self) -> bool:
        return self.kind == "money"

    @property
    def value_per_unit(self) -> Decimal:
        if self.is_money:
            return Decimal(1)
        return self.unit_value if self.unit_value is not None else Decimal("0.01")
