"""Normalisation of member identifiers, so that uniqueness is checked on one canonical form.

- email: syntax checked by ``email-validator`` (no network), stored as given but compared on a
  case-folded key, so ``Ada@Example.com`` and ``ada@example.com`` are one member;
- phone: parsed by ``phonenumbers`` (Google's libphonenumber) and stored in E.164; a number
  without ``+`` is read in the program's country when the program has one;
- card number: spaces and dashes dropped, the Luhn check digit verified;
- referral code: trimmed and upper-cased (codes are generated from a look-alike-free alphabet).
"""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from patron.domain.errors import FieldError, ValidationFailed
from patron.domain.ids import luhn_valid

_SEPARATORS = re.compile(r"[\s\-.()]")


def normalize_email(value: str, *, path: str = "email") -> tuple[str, str]:
    """Return (email as stored, comparison key) or raise ValidationFailed."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed([FieldError(path, f"not an email address: {exc}", "email")]) from exc
    return result.normalized, result.normalized.casefold()


def email_key(value: str) -> str | None:
    """Comparison key of an email for lookups; None when it is not an email at all."""
    try:
        return normalize_email(value)[1]
    except ValidationFailed:
        return None


def normalize_phone(value: str, *, region: str | None, path: str = "phone") -> str:
    """Return the number in E.164 or raise ValidationFailed."""
    raw = value.strip()
    try:
        number = phonenumbers.parse(raw, None if raw.startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        hint = "" if raw.startswith("+") or region else " (give it with +country code)"
        raise ValidationFailed([FieldError(path, f"not a phone number{hint}", "phone")]) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed([FieldError(path, "not a valid phone number", "phone")])
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def phone_key(value: str, *, region: str | None) -> str | None:
    try:
        return normalize_phone(value, region=region)
    except ValidationFailed:
        return None


def normalize_card_number(value: str) -> str | None:
    """Digits of a card number if its check digit holds, else None."""
    digits = _SEPARATORS.sub("", value)
    return digits if luhn_valid(digits) else None


def normalize_referral_code(value: str) -> str:
    return value.strip().upper()
