"""Rewards, their eligibility, and voucher codes (SPEC §5).

A reward costs an amount of one wallet. A member may redeem it when it is active, inside its
availability window, in stock, open to the member's tier, under the per-member limit, and the
member's balance covers the cost; ``refusal`` names the first reason it is not. Voucher codes are
18 characters from a 30-letter alphabet without look-alikes (about 88 bits from the operating
system's CSPRNG), shown in groups of six and accepted with or without dashes, in any case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from patron.domain.ids import HUMAN_ALPHABET, human_code

RewardKind = Literal["amount_off", "percent_off", "free_item", "free_shipping", "perk", "credit"]
REWARD_KINDS: tuple[str, ...] = (
    "amount_off",
    "percent_off",
    "free_item",
    "free_shipping",
    "perk",
    "credit",
)
VOUCHER_LENGTH = 18
_SEPARATORS = re.compile(r"[\s-]")


@dataclass(frozen=True, slots=True)
class Reward:
    id: str
    program_id: str
    code: str
    name: str
    description: str | None
    cost_wallet: str
    cost_amount: int
    kind: str
    value: str | None
    stock: int | None
    per_member_limit: int | None
    tiers: list[str] | None
    available_from: datetime | None
    available_until: datetime | None
    voucher_valid_days: int | None
    active: bool
    created_at: datetime
    updated_at: datetime


def refusal(
    reward: Reward,
    *,
    now: datetime,
    tier_code: str | None,
    redeemed_by_member: int,
    available: int,
) -> str | None:
    """Why the member cannot redeem ``reward`` now, or None when they can."""
    if not reward.active:
        return "inactive"
    if reward.available_from is not None and now < reward.available_from:
        return "not_yet_available"
    if reward.available_until is not None and now >= reward.available_until:
        return "no_longer_available"
    if reward.stock is not None and reward.stock <= 0:
        return "out_of_stock"
    if reward.tiers is not None and tier_code not in reward.tiers:
        return "tier_required"
    if reward.per_member_limit is not None and redeemed_by_member >= reward.per_member_limit:
        return "per_member_limit_reached"
    if available < reward.cost_amount:
        return "insufficient_balance"
    return None


def new_voucher_code() -> str:
    return human_code(VOUCHER_LENGTH)


def normalize_voucher(code: str) -> str | None:
    """The stored form of a voucher code as typed by a person, or None if it cannot be one."""
    cleaned = _SEPARATORS.sub("", code).upper()
    if len(cleaned) != VOUCHER_LENGTH or not set(cleaned) <= set(HUMAN_ALPHABET):
        return None
    return cleaned


def display_voucher(code: str) -> str:
    return "-".join(code[i : i + 6] for i in range(0, len(code), 6))
