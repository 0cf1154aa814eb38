"""Who did what: actors and audit records.

Every write of every use case records one ``AuditRecord`` in the same transaction as the change,
so the trail has exactly the writes that committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

ActorKind = Literal["api_key", "user", "system", "cli", "member"]


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    id: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}"


SYSTEM = Actor(kind="system", id="system", name="Patron")
CLI = Actor(kind="cli", id="cli", name="patron CLI")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    program_id: str | None
    actor: Actor
    action: str
    target_type: str
    target_id: str
    at: datetime
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    id: int | None = None
