"""The members of a batched unit of work (``patron.adapters.db.batched``): found by external id
or id from the batch's memory, enrolled into the queue, and checked for taken identifiers
against the identifiers the batch read ahead.

An enrolment checks that its external id, email and phone are free, and that the card number
and referral code it generated are too. The first three were read ahead for the whole batch
(``BatchReads.identifiers``), and every member the batch enrols adds its own, so the memory
answers them. A generated code the memory does not hold is taken to be free: a collision of
two random codes is rare, and the unique constraints refuse it when the queue is written, so
the importer applies those rows again in smaller batches, where the use case draws new codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import cast

from sqlalchemy.engine import Connection

from patron.adapters.db.batched_queue import BatchQueue as Queue
from patron.adapters.db.privacy import SqlPrivacyRepository
from patron.adapters.db.repositories import SqlMemberRepository
from patron.domain.members import Consent, Member
from patron.services.ports import MemberFilter

IDENTIFIERS = ("external_id", "email_key", "phone", "card_number", "referral_code")
GENERATED = ("card_number", "referral_code")


class BatchedMembers(SqlMemberRepository):
    """Members read from and enrolled into the batch's memory and queue."""

    def __init__(self, queue: Queue) -> None:
        super().__init__(cast(Connection, queue))
        self._queue = queue

    def find(
        self, program_id: str, where: MemberFilter, *, after: str | None, limit: int
    ) -> Sequence[Member]:
        ref = where.external_id
        if ref is None or after is not None or limit < 1 or where != MemberFilter(external_id=ref):
            return super().find(program_id, where, after=after, limit=limit)

        def load() -> Member | None:
            found = super(BatchedMembers, self).find(program_id, where, after=None, limit=1)
            return found[0] if found else None

        member = self._queue.remembered("members", (program_id, ref), load)
        # A copy: a use case that changes a member it found must not change what we remember.
        return [] if member is None else [replace(member, consents=dict(member.consents))]

    def get(self, program_id: str, member_id: str) -> Member | None:
        load = partial(super().get, program_id, member_id)
        member = self._queue.remembered("members_by_id", (program_id, member_id), load)
        return None if member is None else replace(member, consents=dict(member.consents))

    def add(self, member: Member) -> None:
        with self._queue.deferring():
            super().add(member)
        queue, program = self._queue, member.program_id
        memory = queue.memory
        kept = replace(member, consents=dict(member.consents))
        if member.external_id is not None:
            memory.members[(program, member.external_id)] = kept
        memory.members_by_id[(program, member.id)] = kept
        for column in IDENTIFIERS:
            if (value := getattr(member, column)) is not None:
                memory.identifiers[(program, column, value)] = member.id
        queue.enrolled(member.id)

    def add_consents(self, member: Member, consents: Sequence[Consent]) -> None:
        with self._queue.deferring():
            super().add_consents(member, consents)
        memory, key = self._queue.memory, (member.program_id, member.id)
        known = memory.members_by_id.get(key)
        if known is not None:
            known.consents.update({c.channel: c for c in consents})
            if known.external_id is not None:
                memory.members[(member.program_id, known.external_id)] = known

    def taken_identifiers(
        self, program_id: str, candidate: Member, *, exclude_id: str | None
    ) -> list[str]:
        """From memory for an enrolment whose identifiers the batch read ahead; a generated
        code the memory does not hold counts as free (see the module docstring)."""
        if exclude_id is None:
            answer = _taken(self._queue.memory.identifiers, program_id, candidate)
            if answer is None:  # read the batch ahead again if a write made us forget it
                answer = _taken(self._queue.recall().identifiers, program_id, candidate)
            if answer is not None:
                return answer
        return super().taken_identifiers(program_id, candidate, exclude_id=exclude_id)


def _taken(
    known: dict[tuple[str, str, str], str | None], program_id: str, candidate: Member
) -> list[str] | None:
    """The identifiers of ``candidate`` someone holds, or None when memory cannot say."""
    taken = []
    for column in IDENTIFIERS:
        value = getattr(candidate, column)
        if value is None:
            continue
        key = (program_id, column, value)
        if key in known:
            if known[key] is not None:
                taken.append("email" if column == "email_key" else column)
        elif column not in GENERATED:
            return None
    return sorted(taken)


class BatchedPrivacy(SqlPrivacyRepository):
    """Erasure lookups with the program's secret read once a batch."""

    def __init__(self, queue: Queue, dialect: str) -> None:
        super().__init__(cast(Connection, queue), dialect)
        self._secrets: dict[str, str | None] = {}

    def secret(self, program_id: str, at: datetime, *, create: bool) -> str | None:
        """The program's erasure secret, read once a batch (every imported member asks)."""
        if create or program_id not in self._secrets:
            self._secrets[program_id] = super().secret(program_id, at, create=create)
        return self._secrets[program_id]
