"""Reading balances and activity: what the Member shape and the activity list show.

A balance shows what is left at the moment of reading: lots past their expiry date, and a
wallet past its inactivity deadline, are gone at once even if the expiry job has not written
them down yet (``domain.expiry.outlook``); the cached row is read as it is, and the lots with a
date come from the one read that lists what expires next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from patron.domain.config import Tiers
from patron.domain.expiry import outlook
from patron.domain.ledger import Balance, Entry
from patron.domain.members import Member
from patron.domain.programs import Program
from patron.services.ports import HeldTier, UnitOfWork
from patron.services.programs import load_config

EXPIRING_SHOWN = 5
"""How many upcoming expiry dates a Member shows per wallet."""


@dataclass(frozen=True, slots=True)
class WalletView:
    kind: str
    available: int = 0
    pending: int = 0
    lifetime_earned: int = 0
    expiring: list[tuple[int, datetime]] = field(default_factory=list)


def wallet_views(
    uow: UnitOfWork, program: Program, member_ids: Sequence[str], *, now: datetime
) -> dict[str, dict[str, WalletView]]:
    """Every wallet of the configuration for each member as of ``now``, zero where nothing was
    posted yet."""
    config = load_config(uow, program)
    keys = [(member_id, code) for member_id in member_ids for code in config.wallets]
    # A write that locked these balances (an earn answering with them) holds them already.
    stored = uow.ledger.held(keys)
    if len(stored) < len(keys):
        stored = {(b.member_id, b.wallet): b for b in uow.ledger.balances(program.id, member_ids)}
    dated: dict[tuple[str, str], list[tuple[datetime, bool, int]]] = {}
    for member_id, code, expires_at, pending, amount in uow.ledger.expiring(
        member_ids, list(config.wallets)
    ):
        dated.setdefault((member_id, code), []).append((expires_at, pending, amount))
    views: dict[str, dict[str, WalletView]] = {}
    for member_id in member_ids:
        views[member_id] = {}
        for code, wallet in config.wallets.items():
            balance = stored.get((member_id, code)) or Balance(member_id, code)
            seen = outlook(wallet, balance, dated.get((member_id, code), ()), now, program.timezone)
            views[member_id][code] = WalletView(
                kind=wallet.kind,
                available=seen.available,
                pending=seen.pending,
                lifetime_earned=balance.lifetime_earned,
                expiring=seen.expiring[:EXPIRING_SHOWN],
            )
    return views


def activity(
    uow: UnitOfWork, program: Program, member_id: str, *, before: str | None, limit: int
) -> list[Entry]:
    """The member's entries, newest first."""
    return uow.ledger.activity(program.id, member_id, before=before, limit=limit)


@dataclass(frozen=True, slots=True)
class TierView:
    code: str
    name: str
    since: datetime | None
    until: datetime | None


@dataclass(frozen=True, slots=True)
class MemberView:
    """A member with the balances of every wallet and its tier, as the Member shape shows it."""

    member: Member
    wallets: dict[str, WalletView]
    tier: TierView | None = None


def member_views(
    uow: UnitOfWork, program: Program, found: Sequence[Member], *, now: datetime
) -> list[MemberView]:
    ids = [m.id for m in found]
    views = wallet_views(uow, program, ids, now=now)
    tiers = load_config(uow, program).tiers
    held = uow.tiers.held_many(ids) if tiers else {}
    return [
        MemberView(m, views[m.id], _tier_view(tiers, held.get(m.id), m.enrolled_at)) for m in found
    ]


def tier_view(
    uow: UnitOfWork, program: Program, member_id: str, held: HeldTier | None = None
) -> TierView | None:
    """The member's tier as the Member shape shows it (None when the program has no tiers);
    ``held``, when the caller has just computed it, saves reading it."""
    tiers = load_config(uow, program).tiers
    if tiers is None:
        return None
    held = held or uow.tiers.held(member_id)
    member = uow.members.get(program.id, member_id) if held is None else None
    return _tier_view(tiers, held, member.enrolled_at if member else None)


def _tier_view(
    tiers: Tiers | None, held: HeldTier | None, enrolled_at: datetime | None
) -> TierView | None:
    """The tier held, or the base level since enrolment for a member never evaluated."""
    if tiers is None:
        return None
    level = (tiers.level(held.code) if held else None) or tiers.levels[0]
    if held is None:
        return TierView(level.code, level.name, enrolled_at, None)
    return TierView(level.code, level.name, held.since, held.until)


@dataclass(frozen=True, slots=True)
class EntryView:
    entry: Entry
    money: bool
