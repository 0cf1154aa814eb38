"""The steps every ledger use case shares (``patron.services.ledger``): the ``Context`` it runs
in, the checks of amounts and of the member's status, the replay of a business key, the
write-down of what has expired before a movement (``settle``, ``lapse``), and ``save``, which
stores a planned change, tells the outbox and returns what was ``Posted``.

The expiry and release jobs (``ledger_jobs``) build on the same steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from patron.domain import ledger
from patron.domain.audit import SYSTEM, Actor
from patron.domain.config import ProgramConfig, Wallet
from patron.domain.errors import (
    BusinessKeyConflict,
    FieldError,
    MemberFrozen,
    MemberInactive,
    MemberNotFound,
    ValidationFailed,
)
from patron.domain.expiry import lapsed, lapsed_by_inactivity
from patron.domain.ids import new_id
from patron.domain.ledger import Balance, Change, Entry, Header, Lot
from patron.domain.members import Member
from patron.domain.programs import Program
from patron.services import outbox
from patron.services.ports import BalanceKey, Clock, UnitOfWork
from patron.services.programs import load_config

MAX_AMOUNT = 10**15


@dataclass(frozen=True, slots=True)
class Posted:
    """The entries a use case posted (or found, on a replay) and the balances after it."""

    entries: tuple[Entry, ...]
    balances: dict[BalanceKey, Balance]
    replayed: bool = False

    @property
    def entry(self) -> Entry:
        return self.entries[0]


class StoppedClock:
    """A clock stopped at one moment: jobs and evaluations run "as of" an explicit ``now``."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at


@dataclass(frozen=True, slots=True)
class Context:
    """What every ledger use case needs: storage, time, who, which program and configuration."""

    uow: UnitOfWork
    clock: Clock
    actor: Actor
    program: Program

    @property
    def config(self) -> ProgramConfig:
        return load_config(self.uow, self.program)

    def wallet(self, code: str, *, path: str = "wallet") -> Wallet:
        wallet = self.config.wallets.get(code)
        if wallet is None:
            known = ", ".join(self.config.wallets)
            raise ValidationFailed([FieldError(path, f"unknown wallet {code!r} (known: {known})")])
        return wallet

    def header(self, entry_type: str, occurred_at: datetime, **fields: Any) -> Header:
        return Header(
            entry_id=new_id(),
            program_id=self.program.id,
            type=entry_type,
            occurred_at=occurred_at,
            recorded_at=self.clock.now(),
            actor=self.actor.label,
            config_version=self.program.config_version,
            **fields,
        )


def check_amount(amount: int, *, path: str = "amount") -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        raise ValidationFailed([FieldError(path, f"must be a whole number from 1 to {MAX_AMOUNT}")])


def member_for(ctx: Context, member_id: str, *, debit: bool) -> Member:
    """The member, if its status allows this movement.

    Raises: MemberNotFound, MemberInactive (closed or erased), MemberFrozen (debits only).
    """
    member = ctx.uow.members.get(ctx.program.id, member_id)
    if member is None:
        raise MemberNotFound(f"no member {member_id!r} in this program", member=member_id)
    return can_move(member, debit=debit)


def can_move(member: Member, *, debit: bool) -> Member:
    """``member`` if its status allows this movement. Raises: MemberInactive, MemberFrozen."""
    member_id = member.id
    if member.status in ("closed", "erased"):
        # not ``status=``: that is the problem document's HTTP status
        raise MemberInactive(f"member {member_id} is {member.status}", member_status=member.status)
    if debit and member.status == "frozen":
        raise MemberFrozen(f"member {member_id} is frozen: nothing can be debited")
    return member


def replay(
    ctx: Context, key: str | None, *, member_id: str, wallet: str, entry_type: str, amount: int
) -> Posted | None:
    """The earlier result of business ``key``, or None when it is new.

    Raises: BusinessKeyConflict when the key was used for a different movement.
    """
    if key is None:
        return None
    found = ctx.uow.ledger.entry_by_key(ctx.program.id, key)
    if found is None:
        return None
    if (found.member_id, found.wallet, found.type, abs(found.amount)) != (
        member_id,
        wallet,
        entry_type,
        amount,
    ):
        raise BusinessKeyConflict(
            f"the key {key!r} was already used for a different {found.type} entry", key=key
        )
    balances = ctx.uow.ledger.lock_balances(ctx.program.id, [(member_id, wallet)])
    return Posted((found,), balances, replayed=True)


def save(ctx: Context, change: Change, locked: dict[BalanceKey, Balance]) -> Posted:
    ctx.uow.ledger.save(ctx.program.id, change)
    outbox.entries(ctx, change.entries)
    after = dict(locked)
    for balance in change.balances:
        after[(balance.member_id, balance.wallet)] = balance
    return Posted(tuple(change.entries), after)


def settle(
    ctx: Context, member_id: str, wallet: str, *, at: datetime | None = None, taking: bool = True
) -> tuple[Balance, list[Lot]]:
    """Write down what of the member's locked wallet has expired by ``at`` (now by default) and
    the expiry job has not written yet: one ``expire`` entry, dated and worded as the job's.
    A movement that takes from lots (``taking``) always looks; a credit only when the wallet's
    inactivity deadline has passed, and then reads the lots. Returns the balance after it and
    the wallet's open lots left (none read: empty).
    """
    key = (member_id, wallet)
    balance = ctx.uow.ledger.held([key])[key]
    moment = at or ctx.clock.now()
    policy = ctx.config.wallets.get(wallet)
    if not taking and lapsed_by_inactivity(policy, balance, moment, ctx.program.timezone) is None:
        return balance, []
    lots = ctx.uow.ledger.open_lots(member_id, wallet)
    expired, left = lapse(ctx, balance, lots, moment)
    if expired is None:
        return balance, lots
    save(ctx, expired, {key: balance})
    return ctx.uow.ledger.held([key])[key], left


def lapse(
    ctx: Context, balance: Balance, lots: Sequence[Lot], at: datetime
) -> tuple[Change | None, list[Lot]]:
    """The plan that expires what of the wallet's open ``lots`` has lapsed by ``at`` (None when
    nothing has), by ``system``, dated and worded as the expiry job's entries; and the lots
    left."""
    policy = ctx.config.wallets.get(balance.wallet)
    timezone = ctx.program.timezone
    gone, dated = lapsed(policy, balance, lots, at, timezone)
    if not gone:
        return None, list(lots)
    reason = "inactivity" if lapsed_by_inactivity(policy, balance, at, timezone) else None
    header = replace(ctx.header("expire", dated or at, reason=reason), actor=SYSTEM.label)
    taken = {lot.id for lot in gone}
    return ledger.expire(balance, header, lots=gone), [lot for lot in lots if lot.id not in taken]
