"""Shapes of purchases (API.md: Purchase, PurchaseResult)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    model_validator,
)

from patron.api.ledger_schemas import render_balances
from patron.api.timestamps import Timestamp
from patron.domain.errors import FieldError, ValidationFailed
from patron.domain.money import from_minor, to_minor
from patron.domain.rules import Line, Payment, Purchase
from patron.domain.timestamps import rfc3339_or_none
from patron.services.balances import TierView, WalletView
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


def render_tier(tier: TierView | None) -> dict[str, Any] | None:
    """A tier as the Member shape shows it: ``{code, name, since, until}``."""
    if tier is None:
        return None
    return {
        "code": tier.code,
        "name": tier.name,
        "since": rfc3339_or_none(tier.since),
        "until": rfc3339_or_none(tier.until),
    }


def render_result(
    result: dict[str, Any],
    exponent: int,
    balances: dict[str, WalletView] | None,
    tier: TierView | None = None,
) -> dict[str, Any]:
    """A stored result (integer units) as PurchaseResult (money as decimal strings), with the
    member's balances and tier as they stand."""
    money_wallets = set(result.get("money_wallets", []))

    def amount(wallet: str, value: int) -> int | str:
        return from_minor(value, exponent) if wallet in money_wallets else value

    return {
        "id": result["id"],
        "external_id": result["external_id"],
        "member_id": result["member_id"],
        "eligible_amount": from_minor(result["eligible_amount"], exponent),
        "config_version": result["config_version"],
        "awards": [
            {
                "rule_id": a["rule_id"],
                "wallet": a["wallet"],
                "amount": amount(a["wallet"], a["amount"]),
                "status": a["status"],
                "available_at": a["available_at"],
                "explanation": a["explanation"],
            }
            for a in result["awards"]
        ],
        "earned": {w: amount(w, n) for w, n in result["earned"].items()},
        "skipped": result.get("skipped", []),
        "balances": render_balances(balances, exponent) if balances is not None else None,
        "tier": render_tier(tier),
    }


def render_refund(
    result: dict[str, Any], exponent: int, balances: dict[str, WalletView] | None
) -> dict[str, Any]:
    money_wallets = set(result.get("money_wallets", []))
    return {
        "external_id": result["external_id"],
        "purchase": result["purchase"],
        "refunded_amount": result["refunded_amount"],
        "clawed_back": {
            w: from_minor(n, exponent) if w in money_wallets else n
            for w, n in result["clawed_back"].items()
        },
        **({"balances": render_balances(balances, exponent)} if balances is not None else {}),
    }
