"""The queue of a batched unit of work (``patron.adapters.db.batched``): its deferred writes
and its memory of the batch's reads, behind the connection every repository of the batch uses.

Queued inserts of one table with the same statement become one multi-row insert; a balance
changed many times is written once, checking the version it had when it was locked; tiers held
are written once per member; the queue is written in foreign-key order
(``metadata.sorted_tables``). A statement that is not queued first writes the whole queue; if
it writes, it makes the memory forget what was read from its table (``_READ_FROM``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Result

from patron.adapters.db import tables as t
from patron.adapters.db.ledger import WRITE_BALANCE
from patron.domain.ledger import Balance
from patron.domain.members import Member
from patron.domain.tiers import Grant
from patron.services.ports import (
    BalanceKey,
    Campaign,
    HeldTier,
    PurchaseTotals,
    Referral,
    RetryableError,
    StoredPurchase,
    TierChange,
)

T = TypeVar("T")
_RANK = {table.name: rank for rank, table in enumerate(t.metadata.sorted_tables)}
_HELD_COLUMNS = [f.name for f in fields(HeldTier)]


def _hold(postgres: bool) -> Any:
    insert = (postgresql.insert if postgres else sqlite.insert)(t.member_tiers)
    return insert.on_conflict_do_update(
        index_elements=[t.member_tiers.c.member_id],
        set_={n: insert.excluded[n] for n in _HELD_COLUMNS if n != "member_id"},
    )


_HOLD = {postgres: _hold(postgres) for postgres in (False, True)}
_MEMBER_TIER = (
    t.members.update()
    .where(t.members.c.id == sa.bindparam("m"))
    .values(tier_code=sa.bindparam("code"))
)


def _held_row(tier: HeldTier) -> dict[str, Any]:
    return {n: getattr(tier, n) for n in _HELD_COLUMNS}


@dataclass
class _Group:
    """Queued executions of one statement: written as one ``executemany``."""

    statement: Any
    rows: list[dict[str, Any]]
    rank: int
    order: int
    shape: Any  # what another execution must share to join this group; None: it cannot


# What each memorised read was read from: a write to one of these tables that was not queued
# (and so did not keep the memory current) makes the batch forget those reads.
_READ_FROM: dict[str, tuple[str, ...]] = {
    "members": ("members", "members_by_id", "identifiers"),
    "member_consents": ("members", "members_by_id"),
    "member_tiers": ("held", "members", "members_by_id"),
    "purchases": ("purchases", "counts", "totals"),
    "purchase_awards": ("moments",),
    "event_awards": ("moments",),
    "tier_grants": ("grants",),
    "tier_history": ("changes",),
    "referrals": ("referrals",),
    "campaigns": ("campaigns",),
}


@dataclass
class _Memory:
    """The batch's reads, answered from memory and kept current by its queued writes."""

    members: dict[tuple[str, str], Member | None] = field(default_factory=dict)  # external id
    members_by_id: dict[tuple[str, str], Member | None] = field(default_factory=dict)
    purchases: dict[tuple[str, str], StoredPurchase | None] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    # member -> {rule ids asked for: their award moments}
    moments: dict[str, dict[tuple[str, ...], list[tuple[str, datetime]]]] = field(
        default_factory=dict
    )
    # member -> {(since, until): totals}
    totals: dict[str, dict[tuple[datetime | None, datetime | None], PurchaseTotals]] = field(
        default_factory=dict
    )
    held: dict[str, HeldTier | None] = field(default_factory=dict)
    grants: dict[str, list[Grant]] = field(default_factory=dict)
    changes: dict[str, list[TierChange]] = field(default_factory=dict)  # tier history
    referrals: dict[str, Referral | None] = field(default_factory=dict)
    campaigns: dict[str, list[Campaign]] = field(default_factory=dict)
    # (program, column, value) -> the member holding that identifier; None: free
    identifiers: dict[tuple[str, str, str], str | None] = field(default_factory=dict)
    # a member this batch enrolled -> the reads (of _EMPTY) with nothing yet to find for it
    fresh: dict[str, set[str]] = field(default_factory=dict)


# What a member enrolled by this batch has in each memorised read before any write of its own.
_EMPTY: dict[str, Callable[[], Any]] = {
    "counts": lambda: 0,
    "moments": list,
    "totals": lambda: PurchaseTotals(0, 0, None),
    "held": lambda: None,
    "grants": list,
    "referrals": lambda: None,
}


class BatchQueue:
    """The deferred writes of one transaction, and the connection every repository uses."""

    def __init__(self, conn: Connection) -> None:
        self.real = conn
        self.groups: list[_Group] = []
        self._last: dict[str, _Group] = {}  # the latest group of each table
        self.holds: dict[str, tuple[str, HeldTier]] = {}  # member -> (program, tier held now)
        self.balances: dict[BalanceKey, tuple[int, Balance]] = {}  # (version when locked, now)
        self.memory = _Memory()
        self.new_members: set[str] = set()  # enrolled by this batch: no balance rows yet
        self._deferring = 0
        self.refill: Callable[[], None] | None = None  # reads the batch ahead again
        self._forgotten = False

    # -- the connection the repositories see ----------------------------------------------

    @property
    def dialect(self) -> Any:
        return self.real.dialect

    def execute(self, statement: Any, parameters: Any = None, **kw: Any) -> Result[Any]:
        if self._deferring:
            self._queue(statement, parameters)
            return cast(Result[Any], None)
        self.flush()
        result = self.real.execute(statement, parameters, **kw)
        if not isinstance(statement, sa.Select | sa.CompoundSelect):
            self._forget(getattr(getattr(statement, "table", None), "name", None))
        return result

    def _forget(self, table: str | None) -> None:
        """A write nobody queued went to ``table``: forget what was read from it (everything,
        when the table is unknown)."""
        kinds = _READ_FROM.get(table, ()) if table is not None else None
        if kinds is None:
            self.memory = _Memory()
        elif not kinds:
            return
        else:
            for kind in kinds:
                getattr(self.memory, kind).clear()
            for empty in self.memory.fresh.values():
                empty.difference_update(kinds)
        self._forgotten = True

    def fresh(self) -> None:
        self._forgotten = False

    def recall(self) -> _Memory:
        """The memory, read ahead again first if a write made us forget it (so one unusual
        use case in a batch does not turn every later read into a round trip)."""
        if self._forgotten and self.refill is not None:
            self._forgotten = False
            self.refill()
        return self.memory

    def remembered(
        self, kind: str, key: Hashable, load: Callable[[], T], *, owner: str | None = None
    ) -> T:
        """The remembered answer of one read (``kind`` names the memory, ``owner`` the member
        whose answers it keeps apart), or ``load()``'s, remembered. On a miss after a write made
        us forget, the batch is read ahead again first."""
        known = _known(self.memory, kind, owner)
        if key not in known:
            known = _known(self.recall(), kind, owner)
            if key not in known:
                member = owner if owner is not None else key
                empty = self.memory.fresh.get(member) if isinstance(member, str) else None
                known[key] = _EMPTY[kind]() if empty and kind in empty else load()
        return cast(T, known[key])

    def enrolled(self, member_id: str) -> None:
        """``member_id`` was enrolled by this batch: nothing of it is in the database yet."""
        self.memory.fresh[member_id] = set(_EMPTY)
        self.new_members.add(member_id)

    def touched(self, member_id: str, *kinds: str) -> None:
        """A queued write of ``member_id`` changed what these reads would find for it."""
        empty = self.memory.fresh.get(member_id)
        if empty:
            empty.difference_update(kinds)

    def close(self) -> None:
        self.real.close()

    # -- queueing ---------------------------------------------------------------------------

    @contextmanager
    def deferring(self) -> Iterator[None]:
        """Inside, the repositories' statements are queued instead of executed."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1

    def _queue(self, statement: Any, parameters: Any) -> None:
        rows = [parameters] if isinstance(parameters, dict) else list(parameters or [{}])
        name = getattr(getattr(statement, "table", None), "name", "")
        # Statements with the same structure and no values of their own (``insert()`` with
        # parameters) may share one executemany; one with inline values stays on its own.
        shape: Any = None
        if parameters:
            cache_key = statement._generate_cache_key()
            if cache_key is not None and not cache_key.bindparams:
                shape = (cache_key.key, tuple(rows[0]))
        last = self._last.get(name)
        if shape is not None and last is not None and last.shape == shape:
            last.rows.extend(rows)  # only onto the latest group of its table: order is kept
            return
        group = _Group(statement, rows, _RANK.get(name, -1), len(self.groups), shape)
        self.groups.append(group)
        self._last[name] = group

    def queue_balances(self, balances: Sequence[Balance]) -> None:
        for balance in balances:
            key = (balance.member_id, balance.wallet)
            locked = self.balances[key][0] if key in self.balances else balance.version
            self.balances[key] = (locked, balance)

    @property
    def pending(self) -> bool:
        return bool(self.groups or self.balances or self.holds)

    def flush(self) -> None:
        """Write every queued change, in foreign-key order, then the balances."""
        if not self.pending:
            return
        groups, self.groups, self._last = self.groups, [], {}
        balances, self.balances = self.balances, {}
        holds, self.holds = self.holds, {}
        for group in sorted(groups, key=lambda g: (g.rank, g.order)):
            params = group.rows if group.rows != [{}] else None
            self.real.execute(group.statement, params)
        if holds:
            self.real.execute(
                _HOLD[self.real.dialect.name == "postgresql"],
                [{"program_id": p, **_held_row(tier)} for p, tier in holds.values()],
            )
            self.real.execute(
                _MEMBER_TIER,
                [{"m": tier.member_id, "code": tier.code} for _, tier in holds.values()],
            )
        if balances:
            updated = self.real.execute(
                WRITE_BALANCE,
                [
                    {
                        "m": b.member_id,
                        "w": b.wallet,
                        "v": locked,
                        "to_version": b.version + 1,
                        "available": b.available,
                        "pending": b.pending,
                        "deficit": b.deficit,
                        "lifetime_earned": b.lifetime_earned,
                        "last_activity_at": b.last_activity_at,
                    }
                    for locked, b in balances.values()
                ],
            )
            if updated.rowcount != len(balances):
                raise RetryableError("a balance moved while a batch held it")


def _known(memory: _Memory, kind: str, owner: str | None) -> dict[Any, Any]:
    answers: dict[Any, Any] = getattr(memory, kind)
    return answers if owner is None else answers.setdefault(owner, {})
