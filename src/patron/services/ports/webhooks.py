"""Ports of the event outbox and webhook delivery."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """A business fact to publish (webhooks, messages) once its transaction has committed."""

    id: str
    program_id: str
    type: str
    subject: str | None
    payload: dict[str, Any]
    occurred_at: datetime
    published_at: datetime | None = None


class OutboxRepository(Protocol):
    def add(self, event: OutboxEvent) -> None: ...
    def add_many(self, events: Sequence[OutboxEvent]) -> None: ...
    def pending(self, program_id: str, limit: int) -> list[OutboxEvent]: ...
    def exists(self, program_id: str, event_type: str, subject: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: str
    program_id: str
    url: str
    events: list[str]
    secret: str
    status: str  # active, disabled
    created_at: datetime
    description: str | None = None
    previous_secret: str | None = None
    previous_secret_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    id: str
    program_id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: str  # pending, delivered, failed
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    delivery_id: str
    number: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery a worker has leased, with everything needed to send it."""

    delivery: WebhookDelivery
    endpoint: WebhookEndpoint
    event: OutboxEvent


class WebhookRepository(Protocol):
    def add_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    def update_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    def endpoint(self, program_id: str, endpoint_id: str) -> WebhookEndpoint | None: ...
    def endpoints(self, program_id: str) -> list[WebhookEndpoint]: ...
    def fan_out(self, program_id: str, now: datetime, limit: int) -> int:
        """Copy up to ``limit`` unpublished outbox facts into one pending delivery per
        subscribed active endpoint and mark them published; returns the facts handled. Facts
        already being handled by another worker are skipped, not waited for."""
        ...

    def claim(
        self, program_id: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[ClaimedDelivery]:
        """Lease due deliveries of active endpoints (skipping rows other workers hold) and
        count the attempt."""
        ...

    def finish(
        self,
        claimed: WebhookDelivery,
        attempt: WebhookAttempt,
        status: str,
        next_attempt_at: datetime | None,
    ) -> bool:
        """Record the attempt and the delivery's new state, unless another worker has
        claimed the delivery since (then only the attempt is logged); returns whether the
        state changed."""
        ...

    def deliveries(
        self, endpoint_id: str, *, status: str | None, after: str | None, limit: int
    ) -> list[WebhookDelivery]: ...
    def delivery(self, endpoint_id: str, delivery_id: str) -> WebhookDelivery | None: ...
    def attempts(self, delivery_ids: list[str]) -> list[WebhookAttempt]: ...
    def retry(self, delivery: WebhookDelivery, now: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class SendResult:
    status_code: int | None  # None when no HTTP answer came back
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender(Protocol):
    """Signs and sends webhook messages over HTTP (the adapter guards the targets)."""

    def check(self, url: str) -> str | None:
        """Why the deployment may not send to ``url`` (resolving its host), or None."""
        ...

    def send(self, url: str, message_id: str, body: bytes, secrets: list[str]) -> SendResult:
        """POST ``body`` signed with every secret; never raises for network failures."""
        ...
