"""Ports of messages: templates, the message log and the outbox's message side (SPEC §11)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from patron.services.ports.webhooks import OutboxEvent


@dataclass(frozen=True, slots=True)
class StoredTemplate:
    program_id: str
    event: str
    channel: str
    subject: str | None
    body: str
    category: str
    active: bool
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True, slots=True)
class Message:
    """One message of the log. ``status``: ``queued`` (due at ``next_attempt_at``; ``reason``
    ``quiet_hours`` when held, ``retrying`` after a transient failure), ``sent``, ``skipped``
    (``reason`` says why) or ``failed``."""

    id: str
    program_id: str
    member_id: str
    event: str
    channel: str
    category: str
    subject_key: str
    event_id: str | None
    status: str
    reason: str | None
    to_address: str | None
    subject: str | None
    body: str | None
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    sent_at: datetime | None
    created_at: datetime
    detail: str | None = None
    resend_of: str | None = None


@dataclass(frozen=True, slots=True)
class MessageUpdate:
    """What happened to a claimed message."""

    id: str
    status: str
    reason: str | None
    detail: str | None
    next_attempt_at: datetime | None
    sent_at: datetime | None = None
    attempts_back: bool = False
    """The claim's attempt did not happen (held for quiet hours): give it back."""


class MessageRecorder(Protocol):
    """Writes the results of a program's deliveries one at a time, each committed before
    ``record`` returns, as cheaply as the storage allows (one round trip on PostgreSQL).
    Used by one thread at a time; a context manager that releases its connection."""

    def record(self, update: MessageUpdate) -> None: ...
    def __enter__(self) -> MessageRecorder: ...
    def __exit__(self, *exc: object) -> None: ...


class MessageRepository(Protocol):
    def templates(self, program_id: str) -> list[StoredTemplate]: ...
    def template(self, program_id: str, event: str, channel: str) -> StoredTemplate | None: ...
    def put_template(self, template: StoredTemplate) -> None: ...
    def key(self, program_id: str, now: datetime, *, create: bool) -> str | None:
        """The program's unsubscribe key (made first when ``create``)."""
        ...

    def unplanned(self, program_id: str, limit: int) -> list[OutboxEvent]:
        """Facts not yet turned into messages, oldest first, locked (skipping locked ones)."""
        ...

    def mark_planned(self, event_ids: Sequence[str], now: datetime) -> None: ...
    def add(self, messages: Sequence[Message]) -> int:
        """Insert, skipping any whose (member, event, channel, subject) exists; the count
        inserted."""
        ...

    def claim(
        self, program_id: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Message]:
        """Due queued messages, locked and leased (attempt counted)."""
        ...

    def record(self, program_id: str, updates: Sequence[MessageUpdate]) -> None:
        """Write what happened to these messages of the program (others are left alone)."""
        ...

    def marketing_sent(
        self, member_id: str, channel: str, since: datetime, exempt: Sequence[str]
    ) -> int:
        """Marketing messages sent to the member on the channel since ``since``, not counting
        the ``exempt`` events."""
        ...

    def of_member(
        self, program_id: str, member_id: str, limit: int, before: str | None = None
    ) -> list[Message]:
        """Newest first; ``before``: a message id from the previous page."""
        ...

    def get(self, program_id: str, message_id: str) -> Message | None: ...
    def resends(self, message_id: str) -> int: ...
    def forget(self, member_id: str, now: datetime) -> None:
        """An erased member's messages: addresses and contents gone, queued ones skipped."""
        ...
