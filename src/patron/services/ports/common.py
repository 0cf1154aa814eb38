"""Ports every use case may need: the clock, idempotent outcomes, and the retryable failure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class StoredOutcome:
    """The remembered answer to an idempotent request."""

    fingerprint: str
    status: int | None  # None while the first request is still running
    body: Any


class IdempotencyRepository(Protocol):
    def claim(
        self, scope: str, key: str, fingerprint: str, at: datetime
    ) -> StoredOutcome | None: ...
    def complete(self, scope: str, key: str, status: int, body: Any) -> None: ...
    def purge(self, before: datetime, limit: int) -> int:
        """Forget up to ``limit`` keys created before ``before``; returns how many."""
        ...


class RetryableError(Exception):
    """A transient storage failure (deadlock, serialization failure, lock time-out).

    Adapters raise it; the transaction runner retries the whole use case.
    """
