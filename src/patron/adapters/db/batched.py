"""A unit of work for bulk writes: a batch's inserts are sent together, its hot reads come first.

``patron import`` (and the demo's simulated days) run hundreds of use cases in one transaction.
Run one by one, each purchase costs about 25 statements, and the time goes to round trips and to
SQLAlchemy's per-statement overhead, not to the work. This unit of work runs the very same use
cases, unchanged, on repositories that differ in two ways:

- **Deferred writes.** The writes of the hot path (ledger entries, postings, lots, consumptions,
  balances, purchases, their awards, tiers held, tier history, outbox facts, audit records) are
  queued instead of executed. Queued inserts of one table with the same statement become one
  multi-row insert; a balance changed many times is written once, checking the version it had
  when it was locked; the queue is written in foreign-key order (``metadata.sorted_tables``).
- **Batch reads.** :meth:`BatchedUnitOfWork.prefetch` reads, in a few statements, what the
  batch's use cases will ask for one by one: the members by external id, their balances (locked,
  in sorted order as every use case locks them), purchases by business key, purchase counts, award
  moments of limited rules, tier window totals, held tiers, tier history, grants, referrals, the
  program's active campaigns, and who holds the identifiers (external id, email, phone)
  enrolments check.
  Each of those reads is then answered from memory, kept current by the queued writes themselves
  (a queued purchase counts in its member's totals at once).
- **New members.** A member enrolled by the batch (``members.add`` is queued too) is known to
  have nothing in the database: its balance rows are created in memory (and queued), and its
  purchase count, award moments, tier totals, held tier, grants and referral are empty until a
  queued write says otherwise. A write that is not queued ends that knowledge for what it may
  have changed. How identifiers are checked from memory is in
  ``patron.adapters.db.batched_members``.

Correctness does not depend on the batch reads being complete, only on these rules:

- every statement that is *not* answered from memory first writes the whole queue, so it sees
  everything the batch did before it, in order;
- a write that is not queued (and so could change data behind the memorised answers) drops the
  answers read from its table (all of them, for a statement whose table is unknown); the next
  read that misses reads the whole batch ahead again;
- ``commit`` writes the queue first, so nothing queued is ever lost, and a refusal by the
  database (a unique key, a foreign key, a moved balance) fails the whole transaction, which the
  importer then applies again in halves (``patron.services.imports``).

So an unusual use case (a refund, a redemption, a budgeted rule, a referral reward) is exactly as
correct as on a plain unit of work, merely slower. ``tests/integration/test_batched_uow.py``
imports the same files through both and compares every row.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from functools import partial
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Result

from patron.adapters.db import tables as t
from patron.adapters.db.batched_members import BatchedMembers, BatchedPrivacy
from patron.adapters.db.campaigns import SqlCampaignRepository
from patron.adapters.db.ledger import WRITE_BALANCE, SqlLedgerRepository
from patron.adapters.db.outbox import SqlOutboxRepository
from patron.adapters.db.purchases import SqlPurchaseRepository
from patron.adapters.db.referrals import SqlReferralRepository
from patron.adapters.db.repositories import SqlAuditRepository
from patron.adapters.db.tiers import SqlTierRepository
from patron.adapters.db.uow import SqlUnitOfWork
from patron.domain.audit import AuditRecord
from patron.domain.ledger import Balance, Change
from patron.domain.members import Member
from patron.domain.tiers import Grant
from patron.services.ports import (
    BalanceKey,
    BatchReads,
    Campaign,
    HeldTier,
    OutboxEvent,
    PurchaseTotals,
    Referral,
    RetryableError,
    StoredAward,
    StoredEvent,
    StoredEventAward,
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


class _Queue:
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


_NEW_BALANCE = {"available": 0, "pending": 0, "deficit": 0, "lifetime_earned": 0, "version": 0}


def _known(memory: _Memory, kind: str, owner: str | None) -> dict[Any, Any]:
    answers: dict[Any, Any] = getattr(memory, kind)
    return answers if owner is None else answers.setdefault(owner, {})


# --- repositories whose hot methods queue or remember ------------------------------------------


class _Ledger(SqlLedgerRepository):
    def __init__(self, queue: _Queue, dialect: str) -> None:
        super().__init__(cast(Connection, queue), dialect)
        self._queue = queue

    def lock_balances(
        self, program_id: str, keys: Sequence[BalanceKey]
    ) -> dict[BalanceKey, Balance]:
        # A member enrolled by this batch has no balance rows: made here, inserted at commit.
        new = sorted({k for k in keys if k[0] in self._queue.new_members and k not in self._held})
        if new:
            with self._queue.deferring():
                self._conn.execute(
                    t.balances.insert(),
                    [
                        {"member_id": m, "wallet": w, "program_id": program_id} | _NEW_BALANCE
                        for m, w in new
                    ],
                )
            self._held.update({(m, w): Balance(m, w) for m, w in new})
        return super().lock_balances(program_id, keys)

    def save(self, program_id: str, change: Change) -> None:
        with self._queue.deferring():
            super().save(program_id, replace(change, balances=[]))
        self._queue.queue_balances(change.balances)
        for balance in change.balances:
            key = (balance.member_id, balance.wallet)
            if key in self._held:
                self._held[key] = replace(balance, version=balance.version + 1)


class _Purchases(SqlPurchaseRepository):
    def __init__(self, queue: _Queue) -> None:
        super().__init__(cast(Connection, queue))
        self._queue = queue

    def get(self, program_id: str, external_id: str) -> StoredPurchase | None:
        load = partial(super().get, program_id, external_id)
        return self._queue.remembered("purchases", (program_id, external_id), load)

    def add(self, purchase: StoredPurchase) -> None:
        with self._queue.deferring():
            super().add(purchase)
        memory = self._queue.memory
        memory.purchases[(purchase.program_id, purchase.external_id)] = purchase
        member = purchase.member_id
        if member is None:
            return
        self._queue.touched(member, "counts", "totals")
        if member in memory.counts:
            memory.counts[member] += 1
        standing = purchase.eligible_left > 0 or purchase.eligible_amount == 0
        at = purchase.occurred_at
        windows = memory.totals.get(member, {})
        for (since, until), before in list(windows.items()):
            if (since is not None and at < since) or (until is not None and at >= until):
                continue
            last = before.last_at
            if standing and (last is None or at > last):
                last = at
            windows[(since, until)] = PurchaseTotals(
                before.eligible + purchase.eligible_left, before.standing + standing, last
            )

    def add_awards(self, awards: Sequence[StoredAward]) -> None:
        with self._queue.deferring():
            super().add_awards(awards)
        moments = self._queue.memory.moments
        for award in awards:
            self._queue.touched(award.member_id, "moments")
            for rules, known in moments.get(award.member_id, {}).items():
                if award.rule_id in rules:
                    known.append((award.rule_id, award.occurred_at))

    def add_event(self, event: StoredEvent, awards: Sequence[StoredEventAward]) -> None:
        with self._queue.deferring():
            super().add_event(event, awards)
        if awards:  # which awards count as a member's moments is the repository's to say
            self._queue.memory.moments.pop(event.member_id, None)
            self._queue.touched(event.member_id, "moments")

    def count_for_member(self, member_id: str) -> int:
        load = partial(super().count_for_member, member_id)
        return self._queue.remembered("counts", member_id, load)

    def award_moments(self, member_id: str, rule_ids: Sequence[str]) -> list[tuple[str, datetime]]:
        load = partial(super().award_moments, member_id, rule_ids)
        return list(self._queue.remembered("moments", tuple(rule_ids), load, owner=member_id))

    def totals(
        self, member_id: str, since: datetime | None, until: datetime | None
    ) -> PurchaseTotals:
        load = partial(super().totals, member_id, since, until)
        return self._queue.remembered("totals", (since, until), load, owner=member_id)


class _Tiers(SqlTierRepository):
    def __init__(self, queue: _Queue, dialect: str) -> None:
        super().__init__(cast(Connection, queue), dialect)
        self._queue = queue

    def held(self, member_id: str) -> HeldTier | None:
        return self._queue.remembered("held", member_id, partial(super().held, member_id))

    def hold(self, program_id: str, tier: HeldTier) -> None:
        # What ``SqlTierRepository.hold`` writes (the tier held, the member's tier code), once
        # per member per flush: only the latest tier of a batch needs writing.
        self._queue.holds[tier.member_id] = (program_id, tier)
        memory = self._queue.memory
        memory.held[tier.member_id] = tier
        by_id = memory.members_by_id.get((program_id, tier.member_id))
        if by_id is not None:
            memory.members_by_id[(program_id, tier.member_id)] = replace(by_id, tier_code=tier.code)
        key = (program_id, by_id.external_id) if by_id and by_id.external_id else None
        if key is not None and key in memory.members:
            found = memory.members[key]
            if found is not None:
                memory.members[key] = replace(found, tier_code=tier.code)
            return
        for key, member in memory.members.items():  # known by external id only
            if member is not None and member.id == tier.member_id:
                memory.members[key] = replace(member, tier_code=tier.code)

    def add_change(self, change: TierChange) -> None:
        with self._queue.deferring():
            super().add_change(change)
        known = self._queue.memory.changes.get(change.member_id)
        if known is not None:
            known.append(change)

    def history(self, member_id: str) -> list[TierChange]:
        load = partial(super().history, member_id)
        return list(self._queue.remembered("changes", member_id, load))

    def grants(self, member_id: str) -> list[Grant]:
        return list(self._queue.remembered("grants", member_id, partial(super().grants, member_id)))


class _Referrals(SqlReferralRepository):
    def __init__(self, queue: _Queue) -> None:
        super().__init__(cast(Connection, queue))
        self._queue = queue

    def of_referee(self, referee_id: str) -> Referral | None:
        load = partial(super().of_referee, referee_id)
        return self._queue.remembered("referrals", referee_id, load)

    def update(self, referral: Referral) -> None:
        with self._queue.deferring():
            super().update(referral)
        self._queue.memory.referrals[referral.referee_id] = referral


class _Campaigns(SqlCampaignRepository):
    def __init__(self, queue: _Queue) -> None:
        super().__init__(cast(Connection, queue))
        self._queue = queue

    def live(self, program_id: str, at: datetime) -> list[Campaign]:
        active = self._queue.remembered("campaigns", program_id, partial(self.active, program_id))
        return [c for c in active if c.start <= at < c.end]


class _Outbox(SqlOutboxRepository):
    def __init__(self, queue: _Queue) -> None:
        super().__init__(cast(Connection, queue))
        self._queue = queue

    def add_many(self, events: Sequence[OutboxEvent]) -> None:
        with self._queue.deferring():
            super().add_many(events)


class _Audit(SqlAuditRepository):
    def __init__(self, queue: _Queue) -> None:
        super().__init__(cast(Connection, queue))
        self._queue = queue

    def add(self, record: AuditRecord) -> None:
        with self._queue.deferring():
            super().add(record)


# --- the unit of work ----------------------------------------------------------------------


class BatchedUnitOfWork(SqlUnitOfWork):
    """A :class:`SqlUnitOfWork` whose hot writes are queued to commit and whose hot reads can be
    fetched for a whole batch at once (see the module docstring)."""

    queue: _Queue | None = None  # made on entering

    def __enter__(self) -> BatchedUnitOfWork:
        super().__enter__()
        conn = self.connection
        dialect = conn.dialect.name
        queue = self.queue = _Queue(conn)
        plain = cast(Connection, queue)
        # Every repository shares the queue's connection: whatever it runs sees the queue first.
        for repo in list(vars(self).values()):
            if getattr(repo, "_conn", None) is conn:
                repo._conn = plain
        self.ledger = _Ledger(queue, dialect)
        self.purchases = _Purchases(queue)
        self.members = BatchedMembers(queue)
        self.tiers = _Tiers(queue, dialect)
        self.referrals = _Referrals(queue)
        self.campaigns = _Campaigns(queue)
        self.outbox = _Outbox(queue)
        self.audit = _Audit(queue)
        self.privacy = BatchedPrivacy(queue, dialect)
        return self

    def prefetch(self, reads: BatchReads) -> None:
        """Fetch what a batch will read, in a few statements (see :class:`BatchReads`)."""
        assert self.queue is not None, "unit of work not entered"
        queue = self.queue
        queue.refill = lambda: self.prefetch(reads)
        queue.flush()
        program = reads.program_id
        found = self.members.by_external_ids(program, reads.member_external_ids)
        # Only members of this program: an id from elsewhere is refused by the use case itself.
        by_id = self.members.by_ids(program, reads.member_ids)
        ids = sorted({m.id for m in found.values()} | set(by_id))
        if reads.wallets and ids:
            # Locked first, and in sorted order, as every use case locks them.
            self.ledger.lock_balances(program, [(m, w) for m in ids for w in reads.wallets])
        memory = queue.memory  # after the locks: creating a balance row forgets everything
        for ref in reads.member_external_ids:
            memory.members[(program, ref)] = found.get(ref)
        for member_id in reads.member_ids:
            memory.members_by_id[(program, member_id)] = by_id.get(member_id)
        stored = self.purchases.get_many(program, reads.purchase_keys)
        for key in reads.purchase_keys:
            memory.purchases[(program, key)] = stored.get(key)
        held_by = self.members.holders(program, reads.identifiers)
        for column, value in reads.identifiers:
            memory.identifiers[(program, column, value)] = held_by.get((column, value))
        if not ids:
            queue.fresh()
            return
        memory.counts.update(self.purchases.counts_for_members(ids))
        rules = tuple(reads.limited_rules)
        if rules:
            for member, moments in self.purchases.award_moments_of(ids, rules).items():
                memory.moments.setdefault(member, {})[rules] = moments
        for since, until in reads.windows:
            for member, totals in self.purchases.totals_of(ids, since, until).items():
                memory.totals.setdefault(member, {})[(since, until)] = totals
        held = self.tiers.held_many(ids)
        memory.held.update({m: held.get(m) for m in ids})
        memory.grants.update(self.tiers.grants_of(ids))
        memory.changes.update(self.tiers.history_of(ids))
        members = {m.id: m for m in [*found.values(), *by_id.values()]}
        # Only a member who enrolled referred has a referral (``referrals.on_enrolment``).
        referred = [m for m in ids if members[m].referred_by is not None]
        memory.referrals.update(dict.fromkeys(ids))
        memory.referrals.update(self.referrals.of_referees(referred))
        memory.campaigns[program] = self.campaigns.active(program)
        queue.fresh()  # creating balance rows above made it forget what this just read

    def commit(self) -> None:
        assert self.queue is not None, "unit of work not entered"
        self.queue.flush()
        super().commit()
