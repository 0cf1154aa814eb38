"""Money: ``Decimal`` in the domain and the API, integer minor units in storage (ADR 0003)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from patron.domain.errors import FieldError, ValidationFailed

_SHAPE = 'must be a decimal amount such as "3.50"'


def to_minor(value: object, exponent: int, *, path: str = "amount") -> int:
    """``"3.50"`` (or 3.5) in a currency with ``exponent`` 2 → 350. Refuses extra digits."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValidationFailed([FieldError(path, _SHAPE)])
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationFailed([FieldError(path, _SHAPE)]) from None
    if not amount.is_finite():
        raise ValidationFailed([FieldError(path, "must be a finite amount")])
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValidationFailed(
            [FieldError(path, f"has more than {exponent} digit(s) after the decimal point")]
        )
    return int(scaled)


def from_minor(minor: int, exponent: int) -> str:
    """350 with ``exponent`` 2 → ``"3.50"``."""
    return f"{Decimal(minor).scaleb(-exponent):.{exponent}f}"
