"""Jinja2 for the console: one autoescaping environment, and the filters that write figures the
way people read them (UI.md "Plain words"): points with thousands separators, money in the
program's currency, dates in the program's time zone written out ("3 Mar 2027")."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

LOCALE = "en_US"


def points(value: int | Decimal | str | None) -> str:
    if value is None or value == "":
        return "—"
    return format_decimal(Decimal(value), locale=LOCALE)


def money(value: int | Decimal | str | None, currency: str) -> str:
    if value is None or value == "":
        return "—"
    return format_currency(Decimal(value), currency, locale=LOCALE)


def percent(value: str | float | Decimal | None, places: int = 1) -> str:
    if value is None or value == "":
        return "—"
    pattern = "#,##0." + "0" * places + "%" if places else "#,##0%"
    return format_percent(Decimal(value), format=pattern, locale=LOCALE)


def signed(value: int | Decimal) -> str:
    text = points(abs(Decimal(value)))
    return f"+{text}" if Decimal(value) > 0 else (f"\u2212{text}" if Decimal(value) < 0 else text)


def day(value: datetime | date | None, tz: str = "UTC") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(tz)).date()
    return f"{value.day} {value:%b %Y}"


def moment(value: datetime | None, tz: str = "UTC") -> str:
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(tz))
    return f"{local.day} {local:%b %Y, %H:%M}"


def iso_day(value: datetime | date, tz: str = "UTC") -> str:
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(tz)).date()
    return value.isoformat()


def build() -> Environment:
    env = Environment(
        loader=PackageLoader("patron.console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        points=points,
        money=money,
        percent=percent,
        signed=signed,
        day=day,
        moment=moment,
        iso_day=iso_day,
    )
    return env


ENV = build()


def render(template: str, context: dict[str, Any]) -> str:
    return ENV.get_template(template).render(context)
