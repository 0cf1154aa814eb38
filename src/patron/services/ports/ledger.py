"""Ports of the points ledger: balances, lots, entries, and the ledger audit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from patron.domain.ledger import Balance, Change, Consumption, Entry, Lot

BalanceKey = tuple[str, str]
"""(member id, wallet code)."""


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken ledger invariant found by ``patron audit``."""

    check: str
    subject: str
    detail: str


@dataclass(frozen=True, slots=True)
class ExpiryTotal:
    """What an expiry takes from one wallet: how many open lots, what remains of them in
    ``member:pending`` and in ``member:available``, and the latest expiry date among them."""

    lots: int
    from_pending: int
    from_available: int
    latest: datetime | None


class LedgerRepository(Protocol):
    def lock_balances(
        self, program_id: str, keys: Sequence[BalanceKey]
    ) -> dict[BalanceKey, Balance]:
        """Lock (creating if missing) the balance rows, in sorted order, for this transaction."""
        ...

    def held(self, keys: Sequence[BalanceKey]) -> dict[BalanceKey, Balance]:
        """Those of ``keys`` this transaction has locked, as its changes left them (no read)."""
        ...

    def save(self, program_id: str, change: Change) -> None: ...
    def entry_by_key(self, program_id: str, key: str) -> Entry | None: ...
    def get_entry(self, program_id: str, entry_id: str) -> Entry | None: ...
    def cancellation_of(self, entry_id: str) -> Entry | None: ...
    def open_lots(self, member_id: str, wallet: str) -> list[Lot]:
        """Lots with something remaining, pending or available."""
        ...

    def open_lots_of(self, keys: Sequence[BalanceKey]) -> dict[BalanceKey, list[Lot]]:
        """``open_lots`` of many wallets in one read."""
        ...

    def lots_of_entry(self, entry_id: str) -> list[Lot]: ...
    def lots_by_id(self, lot_ids: Sequence[str]) -> list[Lot]: ...
    def consumptions_of(self, entry_id: str) -> list[Consumption]: ...
    def expiry_totals(
        self, keys: Sequence[BalanceKey], until: datetime | None
    ) -> dict[BalanceKey, ExpiryTotal]:
        """Per wallet of ``keys`` with any, the totals of its open lots expiring by ``until``
        (every open lot when ``until`` is None); read under the wallets' balance locks."""
        ...

    def expire_lots(self, entries: Mapping[BalanceKey, str], until: datetime | None) -> int:
        """Let each wallet's saved expire entry (``entries``: wallet → entry id) consume all that
        remains of the wallet's open lots expiring by ``until`` (every open lot when None), and
        empty those lots; how many lots. They are the lots ``expiry_totals`` summed, as long as
        the balance locks are held."""
        ...

    def due_for_release(self, program_id: str, now: datetime, limit: int) -> list[BalanceKey]: ...
    def due_for_expiry(self, program_id: str, now: datetime, limit: int) -> list[BalanceKey]: ...
    def idle_wallets(
        self,
        program_id: str,
        wallet: str,
        bounds: tuple[datetime | None, datetime],
        *,
        after: str | None = None,
        limit: int,
    ) -> list[Balance]:
        """Balances of ``wallet`` holding something, last active within ``bounds`` (first, or
        None for no lower bound; last, inclusive), by member id after ``after``."""
        ...

    def balances(self, program_id: str, member_ids: Sequence[str]) -> list[Balance]: ...
    def expiring(
        self, member_ids: Sequence[str], wallets: Sequence[str]
    ) -> list[tuple[str, str, datetime, bool, int]]:
        """(member id, wallet, expires_at, pending, amount) of open lots with an expiry date,
        whether or not it has passed, in no order."""
        ...

    def activity(
        self, program_id: str, member_id: str, *, before: str | None, limit: int
    ) -> list[Entry]: ...
    def total(
        self,
        member_id: str,
        wallet: str,
        types: Sequence[str],
        since: datetime | None,
        until: datetime | None,
    ) -> int:
        """Sum of the member's entry amounts of ``types`` with ``since <= occurred_at < until``."""
        ...

    def expiring_between(
        self, program_id: str, wallet: str, start: datetime, end: datetime
    ) -> list[tuple[str, datetime, int]]:
        """(member, expires_at, amount) of available lots expiring in ``[start, end)``."""
        ...

    def verify(self, program_id: str | None) -> list[Violation]:
        """Recompute every balance from the postings and check every ledger invariant."""
        ...
