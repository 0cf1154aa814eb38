"""How purchases and refunds are answered (API.md: PurchaseResult, RefundResult); the
requests' shapes are in ``patron.schemas.purchases``."""

from __future__ import annotations

from typing import Any

from patron.api.ledger_schemas import render_balances
from patron.domain.money import from_minor
from patron.domain.timestamps import rfc3339_or_none
from patron.services.balances import TierView, WalletView


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
