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

This module assembles the unit of work and reads the batch ahead; the queue and its memory are
in ``batched_queue``, the repositories that queue or remember in ``batched_repositories`` and
``batched_members``.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy.engine import Connection

from patron.adapters.db.batched_members import BatchedMembers, BatchedPrivacy
from patron.adapters.db.batched_queue import BatchQueue
from patron.adapters.db.batched_repositories import (
    BatchedAudit,
    BatchedCampaigns,
    BatchedLedger,
    BatchedOutbox,
    BatchedPurchases,
    BatchedReferrals,
    BatchedTiers,
)
from patron.adapters.db.uow import SqlUnitOfWork
from patron.services.ports import BatchReads


class BatchedUnitOfWork(SqlUnitOfWork):
    """A :class:`SqlUnitOfWork` whose hot writes are queued to commit and whose hot reads can be
    fetched for a whole batch at once (see the module docstring)."""

    queue: BatchQueue | None = None  # made on entering

    def __enter__(self) -> BatchedUnitOfWork:
        super().__enter__()
        conn = self.connection
        dialect = conn.dialect.name
        queue = self.queue = BatchQueue(conn)
        plain = cast(Connection, queue)
        # Every repository shares the queue's connection: whatever it runs sees the queue first.
        for repo in list(vars(self).values()):
            if getattr(repo, "_conn", None) is conn:
                repo._conn = plain
        self.ledger = BatchedLedger(queue, dialect)
        self.purchases = BatchedPurchases(queue)
        self.members = BatchedMembers(queue)
        self.tiers = BatchedTiers(queue, dialect)
        self.referrals = BatchedReferrals(queue)
        self.campaigns = BatchedCampaigns(queue)
        self.outbox = BatchedOutbox(queue)
        self.audit = BatchedAudit(queue)
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
