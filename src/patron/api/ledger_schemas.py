"""Shapes of balances, ledger entries and adjustments (API.md: Member balances, Entry)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt, StrictStr, StringConstraints

from patron.api.rendering import Timestamp, rfc3339
from patron.domain.money import from_minor
from patron.services.balances import EntryView, WalletView


def render_balances(wallets: dict[str, WalletView], exponent: int) -> dict[str, Any]:
    """Points as integers, money as decimal strings in the program currency."""

    def amount(value: int, kind: str) -> int | str:
        return value if kind == "points" else from_minor(value, exponent)

    return {
        code: {
            "available": amount(w.available, w.kind),
            "pending": amount(w.pending, w.kind),
            "lifetime_earned": amount(w.lifetime_earned, w.kind),
            "expiring": [
                {"amount": amount(n, w.kind), "expires_at": rfc3339(at)} for n, at in w.expiring
            ],
        }
        for code, w in wallets.items()
    }


class EntryOut(BaseModel):
    id: str
    type: str
    wallet: str
    amount: int | str
    status: str
    occurred_at: Timestamp
    recorded_at: Timestamp
    reference: str | None
    reverses: str | None
    reason: str | None
    actor: str | None
    config_version: int | None
    explanation: list[dict[str, Any]]

    @classmethod
    def of(cls, view: EntryView, exponent: int) -> dict[str, Any]:
        e = view.entry
        return cls(
            id=e.id,
            type=e.type,
            wallet=e.wallet,
            amount=from_minor(e.amount, exponent) if view.money else e.amount,
            status=e.status,
            occurred_at=e.occurred_at,
            recorded_at=e.recorded_at,
            reference=e.reference,
            reverses=e.reverses,
            reason=e.reason,
            actor=e.actor,
            config_version=e.config_version,
            explanation=list(e.explanation),
        ).model_dump(mode="json")


class EntryPage(BaseModel):
    items: list[EntryOut]
    next_cursor: str | None


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    """The receiving member's id, in the same program."""
    wallet: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    amount: StrictInt | StrictStr | StrictFloat
    """Positive: points as an integer, money as a decimal (string or number)."""
    reason: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
        | None
    ) = None


class AdjustmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wallet: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    amount: StrictInt | StrictStr | StrictFloat
    """Signed: points as an integer, money as a decimal (string or number)."""
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
