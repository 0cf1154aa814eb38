"""Purchases and refunds as requests give them (API.md: Purchase, Refund)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    model_validator,
)

from patron.domain.errors import FieldError, ValidationFailed
from patron.domain.money import to_minor
from patron.domain.rules import Line, Payment, Purchase
from patron.schemas.timestamps import Timestamp
from patron.services.purchases import MEMBER_REFS, MemberRef

MAX_MONEY = 10**12
"""Every amount of money a request carries is below this (in the currency's major unit), and so
is a purchase's total: a larger one is a typing error, and its minor units and the points it earns
must still fit the ledger's 64-bit integers."""
MONEY_TEXT = re.compile(r"\s*\d+(\.\d+)?\s*")
"""A money string: digits with an optional decimal part (no sign, exponent, or NaN)."""


def _money_shape(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("must be a decimal amount")
    if isinstance(value, str) and not MONEY_TEXT.fullmatch(value):
        raise ValueError('must be a decimal amount such as "19.99"')
    return value


Money = Annotated[
    Decimal, BeforeValidator(_money_shape), Field(ge=0, lt=MAX_MONEY, allow_inf_nan=False)
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MemberRefIn(_Strict):
    id: Text | None = None
    external_id: Text | None = None
    email: Text | None = None
    phone: Text | None = None
    card_number: Text | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> MemberRefIn:
        given = [name for name in MEMBER_REFS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"name the member by exactly one of: {', '.join(MEMBER_REFS)}")
        return self

    def ref(self) -> MemberRef:
        name = next(n for n in MEMBER_REFS if getattr(self, n) is not None)
        return MemberRef(name, str(getattr(self, name)))


def by_identifier(member: object) -> bool:
    """Whether a request names its member by an identifier (email, phone, card...) rather than
    by id: such requests count against the member lookup rate limit when nobody is found."""
    return isinstance(member, MemberRefIn) and member.id is None


class LineIn(_Strict):
    sku: Text
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    category: Text | None = None
    quantity: Annotated[StrictInt, Field(ge=1, le=1_000_000)]
    unit_price: Money
    discount: Money = Decimal(0)


class PaymentIn(_Strict):
    method: Text
    card_type: Text | None = None
    amount: Money


class PurchaseIn(_Strict):
    external_id: Text
    member: MemberRefIn | None = None
    occurred_at: Timestamp | None = None
    channel: Text | None = None
    store_id: Text | None = None
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=1000)]
    tax: Money = Decimal(0)
    shipping: Money = Decimal(0)
    payments: Annotated[list[PaymentIn], Field(max_length=50)] = []

    def to_domain(self, exponent: int, now: datetime) -> Purchase:
        """The purchase, with amounts checked against the currency. Raises: ValidationFailed."""
        errors: list[FieldError] = []

        def money(value: Decimal, path: str) -> Decimal:
            try:
                to_minor(value, exponent, path=path)
            except ValidationFailed as exc:
                errors.extend(exc.errors)
            return value

        lines = []
        for i, line in enumerate(self.lines):
            price = money(line.unit_price, f"lines[{i}].unit_price")
            discount = money(line.discount, f"lines[{i}].discount")
            if discount > line.quantity * price:
                errors.append(
                    FieldError(f"lines[{i}].discount", "is more than quantity x unit_price")
                )
            lines.append(Line(line.sku, line.quantity, price, discount, line.category, line.name))
        payments = tuple(
            Payment(p.method, money(p.amount, f"payments[{i}].amount"), p.card_type)
            for i, p in enumerate(self.payments)
        )
        tax, shipping = money(self.tax, "tax"), money(self.shipping, "shipping")
        gross = sum((line.quantity * line.unit_price for line in self.lines), Decimal(0))
        if gross + self.tax + self.shipping >= MAX_MONEY:
            errors.append(FieldError("lines", f"the purchase's total must be below {MAX_MONEY}"))
        if errors:
            raise ValidationFailed(errors)
        return Purchase(
            external_id=self.external_id,
            occurred_at=self.occurred_at or now,
            lines=tuple(lines),
            channel=self.channel,
            store_id=self.store_id,
            tax=tax,
            shipping=shipping,
            payments=payments,
        )


class RefundLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Text
    quantity: Annotated[StrictInt, Field(ge=1, le=1_000_000)]


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: Text
    occurred_at: Timestamp | None = None
    lines: Annotated[list[RefundLineIn], Field(min_length=1, max_length=1000)] | None = None
    amount: Annotated[Money, Field(gt=0)] | None = None
