"""The repositories of a batched unit of work (``patron.adapters.db.batched``) whose hot
methods queue their writes or answer from the batch's memory: the ledger, purchases, tiers,
referrals, campaigns, the outbox and the audit log (members and privacy are in
``batched_members``).

Each one is the plain repository on the queue's connection; a write queues under
``BatchQueue.deferring`` and then keeps the memory current, a read asks ``remembered``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import cast

from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.adapters.db.batched_queue import BatchQueue
from patron.adapters.db.campaigns import SqlCampaignRepository
from patron.adapters.db.ledger import SqlLedgerRepository
from patron.adapters.db.outbox import SqlOutboxRepository
from patron.adapters.db.purchases import SqlPurchaseRepository
from patron.adapters.db.referrals import SqlReferralRepository
from patron.adapters.db.repositories import SqlAuditRepository
from patron.adapters.db.tiers import SqlTierRepository
from patron.domain.audit import AuditRecord
from patron.domain.ledger import Balance, Change
from patron.domain.tiers import Grant
from patron.services.ports import (
    BalanceKey,
    Campaign,
    HeldTier,
    OutboxEvent,
    PurchaseTotals,
    Referral,
    StoredAward,
    StoredEvent,
    StoredEventAward,
    StoredPurchase,
    TierChange,
)

_NEW_BALANCE = {"available": 0, "pending": 0, "deficit": 0, "lifetime_earned": 0, "version": 0}


class BatchedLedger(SqlLedgerRepository):
    def __init__(self, queue: BatchQueue, dialect: str) -> None:
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


class BatchedPurchases(SqlPurchaseRepository):
    def __init__(self, queue: BatchQueue) -> None:
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


class BatchedTiers(SqlTierRepository):
    def __init__(self, queue: BatchQueue, dialect: str) -> None:
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


class BatchedReferrals(SqlReferralRepository):
    def __init__(self, queue: BatchQueue) -> None:
        super().__init__(cast(Connection, queue))
        self._queue = queue

    def of_referee(self, referee_id: str) -> Referral | None:
        load = partial(super().of_referee, referee_id)
        return self._queue.remembered("referrals", referee_id, load)

    def update(self, referral: Referral) -> None:
        with self._queue.deferring():
            super().update(referral)
        self._queue.memory.referrals[referral.referee_id] = referral


class BatchedCampaigns(SqlCampaignRepository):
    def __init__(self, queue: BatchQueue) -> None:
        super().__init__(cast(Connection, queue))
        self._queue = queue

    def live(self, program_id: str, at: datetime) -> list[Campaign]:
        active = self._queue.remembered("campaigns", program_id, partial(self.active, program_id))
        return [c for c in active if c.start <= at < c.end]


class BatchedOutbox(SqlOutboxRepository):
    def __init__(self, queue: BatchQueue) -> None:
        super().__init__(cast(Connection, queue))
        self._queue = queue

    def add_many(self, events: Sequence[OutboxEvent]) -> None:
        with self._queue.deferring():
            super().add_many(events)


class BatchedAudit(SqlAuditRepository):
    def __init__(self, queue: BatchQueue) -> None:
        super().__init__(cast(Connection, queue))
        self._queue = queue

    def add(self, record: AuditRecord) -> None:
        with self._queue.deferring():
            super().add(record)
