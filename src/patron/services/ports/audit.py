"""Ports of the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from patron.domain.audit import AuditRecord


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What to find; every field given must match. ``action`` is exact, ``action_prefix`` a
    prefix (``member.``); ``actor`` is the actor's id or its name (an email, a key's name),
    the name compared without case."""

    target_type: str | None = None
    target_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    actor_kind: str | None = None
    actor: str | None = None
    action_prefix: str | None = None


class AuditRepository(Protocol):
    @property
    def recorded(self) -> int:
        """How many records this unit of work has added so far."""
        ...

    def add(self, record: AuditRecord) -> None: ...
    def find(
        self, program_id: str, where: AuditFilter, *, before: int | None, limit: int
    ) -> Sequence[AuditRecord]: ...
