"""Ports of rewards and their redemptions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from patron.domain.rewards import Reward


@dataclass(frozen=True, slots=True)
class Redemption:
    id: str
    program_id: str
    member_id: str
    reward_id: str | None
    wallet: str
    amount: int
    entry_id: str
    status: str
    voucher_code: str | None
    voucher_expires_at: datetime | None
    created_at: datetime
    used_at: datetime | None = None
    used_reference: str | None = None
    cancelled_at: datetime | None = None


class RewardRepository(Protocol):
    def add(self, reward: Reward) -> None: ...
    def update(self, reward: Reward) -> None: ...
    def get(self, program_id: str, code: str) -> Reward | None: ...
    def by_id(self, reward_id: str) -> Reward | None: ...
    def all(self, program_id: str) -> list[Reward]: ...
    def take_stock(self, reward_id: str) -> bool:
        """Take one unit if any is left (None stock is unlimited); False when none is."""
        ...

    def return_stock(self, reward_id: str) -> None: ...
    def redeemed_by(self, member_id: str, reward_ids: Sequence[str]) -> dict[str, int]: ...
    def add_redemption(self, redemption: Redemption) -> None: ...
    def redemption(self, program_id: str, redemption_id: str) -> Redemption | None: ...
    def voucher(self, program_id: str, code: str) -> Redemption | None: ...
    def live_vouchers(self, program_id: str, member_id: str, now: datetime) -> list[Redemption]:
        """The member's vouchers still to be used: issued, and not expired by ``now``."""
        ...

    def set_status(
        self,
        redemption_id: str,
        *,
        from_status: str,
        to_status: str,
        at: datetime,
        reference: str | None = None,
    ) -> bool:
        """Move a redemption from one status to another; False if it was not in ``from_status``."""
        ...

    def expire_vouchers(self, program_id: str, now: datetime) -> int: ...
