"""Programs (tenants), their identity fields and validation of currency and time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.numbers import get_currency_precision, list_currencies

from patron.domain.errors import FieldError

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")

_CURRENCIES = frozenset(list_currencies())


@dataclass(frozen=True, slots=True)
class Program:
    id: str
    slug: str
    name: str
    currency: str
    timezone: str
    country: str | None
    config_version: int
    created_at: datetime

    @property
    def currency_exponent(self) -> int:
        return currency_exponent(self.currency)


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point of the currency's minor unit (EUR 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(currency))


def program_field_errors(
    *, slug: str | None, currency: str | None, timezone: str | None, country: str | None
) -> list[FieldError]:
    """Errors in a program's identity fields (None means: not being set)."""
    errors: list[FieldError] = []
    if slug is not None and not SLUG_RE.match(slug):
        errors.append(
            FieldError("slug", "lower-case letters, digits and dashes, 1-64 characters", "slug")
        )
    if currency is not None and currency not in _CURRENCIES:
        errors.append(FieldError("currency", f"unknown ISO 4217 currency {currency!r}", "currency"))
    if timezone is not None and not _valid_timezone(timezone):
        errors.append(FieldError("timezone", f"unknown IANA time zone {timezone!r}", "timezone"))
    if country is not None and not COUNTRY_RE.match(country):
        errors.append(FieldError("country", "an ISO 3166-1 alpha-2 code such as 'FR'", "country"))
    return errors


def _valid_timezone(name: str) -> bool:
    if name not in available_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
