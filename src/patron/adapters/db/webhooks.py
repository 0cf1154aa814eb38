"""Storage of webhook endpoints, deliveries and their attempt log.

Work sharing between workers (several ``patron worker`` processes on PostgreSQL): both the
fan-out of outbox facts and the claiming of due deliveries select their rows ``FOR UPDATE SKIP
LOCKED``, so a second worker takes the next rows instead of waiting for, or repeating, the
first one's. A claim moves the delivery's ``next_attempt_at`` to the end of a lease and commits
before anything is sent; the result is recorded only if the delivery is still on that attempt.
SQLite has one writer at a time, which gives the same guarantees without the clause.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.domain.ids import new_id
from patron.domain.webhooks import subscribed
from patron.services.ports import (
    ClaimedDelivery,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

_e = t.webhook_endpoints.c
_d = t.webhook_deliveries.c
_a = t.webhook_attempts.c
_o = t.outbox.c
_ENDPOINT = [f.name for f in fields(WebhookEndpoint)]
_DELIVERY = [f.name for f in fields(WebhookDelivery)]
_EVENT = [f.name for f in fields(OutboxEvent)]
_ATTEMPT = [f.name for f in fields(WebhookAttempt)]


class SqlWebhookRepository:
    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    # --- endpoints ---------------------------------------------------------------------------

    def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self._conn.execute(
            t.webhook_endpoints.insert(), [{n: getattr(endpoint, n) for n in _ENDPOINT}]
        )

    def update_endpoint(self, endpoint: WebhookEndpoint) -> None:
        values = {n: getattr(endpoint, n) for n in _ENDPOINT if n not in ("id", "program_id")}
        self._conn.execute(
            t.webhook_endpoints.update().where(_e.id == endpoint.id).values(**values)
        )

    def endpoint(self, program_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        row = self._conn.execute(
            sa.select(*(_e[n] for n in _ENDPOINT)).where(
                _e.program_id == program_id, _e.id == endpoint_id
            )
        ).first()
        return WebhookEndpoint(**row._asdict()) if row else None

    def endpoints(self, program_id: str) -> list[WebhookEndpoint]:
        rows = self._conn.execute(
            sa.select(*(_e[n] for n in _ENDPOINT))
            .where(_e.program_id == program_id)
            .order_by(_e.id)
        )
        return [WebhookEndpoint(**row._asdict()) for row in rows]

    # --- the delivery pipeline -------------------------------------------------------------

    def fan_out(self, program_id: str, now: datetime, limit: int) -> int:
        pending = self._conn.execute(
            sa.select(_o.id, _o.type, _o.occurred_at)
            .where(_o.program_id == program_id, _o.published_at.is_(None))
            .order_by(_o.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not pending:
            return 0
        active = [e for e in self.endpoints(program_id) if e.status == "active"]
        rows = [
            {
                "id": new_id(),
                "program_id": program_id,
                "endpoint_id": endpoint.id,
                "event_id": event.id,
                "event_type": event.type,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for event in pending
            for endpoint in active
            # An endpoint receives the facts that happened once it existed.
            if subscribed(endpoint.events, event.type) and event.occurred_at >= endpoint.created_at
        ]
        if rows:
            self._conn.execute(
                self._insert(t.webhook_deliveries).on_conflict_do_nothing(
                    index_elements=[_d.endpoint_id, _d.event_id]
                ),
                rows,
            )
        self._conn.execute(
            t.outbox.update()
            .where(_o.id.in_([event.id for event in pending]))
            .values(published_at=now)
        )
        return len(pending)

    def claim(
        self, program_id: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[ClaimedDelivery]:
        due = (
            self._conn.execute(
                sa.select(_d.id)
                .join(t.webhook_endpoints, _e.id == _d.endpoint_id)
                .where(
                    _d.program_id == program_id,
                    _d.status == "pending",
                    _d.next_attempt_at <= now,
                    _e.status == "active",
                )
                .order_by(_d.next_attempt_at, _d.id)
                .limit(limit)
                .with_for_update(of=t.webhook_deliveries, skip_locked=True)
            )
            .scalars()
            .all()
        )
        if not due:
            return []
        self._conn.execute(
            t.webhook_deliveries.update()
            .where(_d.id.in_(due))
            .values(attempts=_d.attempts + 1, next_attempt_at=lease_until, last_attempt_at=now)
        )
        rows = self._conn.execute(
            sa.select(
                *(_d[n].label(f"d_{n}") for n in _DELIVERY),
                *(_e[n].label(f"e_{n}") for n in _ENDPOINT),
                *(_o[n].label(f"o_{n}") for n in _EVENT),
            )
            .join(t.webhook_endpoints, _e.id == _d.endpoint_id)
            .join(t.outbox, _o.id == _d.event_id)
            .where(_d.id.in_(due))
            .order_by(_d.next_attempt_at, _d.id)
        )
        claimed = []
        for row in rows:
            values = row._asdict()
            claimed.append(
                ClaimedDelivery(
                    delivery=WebhookDelivery(**{n: values[f"d_{n}"] for n in _DELIVERY}),
                    endpoint=WebhookEndpoint(**{n: values[f"e_{n}"] for n in _ENDPOINT}),
                    event=OutboxEvent(**{n: values[f"o_{n}"] for n in _EVENT}),
                )
            )
        return claimed

    def finish(
        self,
        claimed: WebhookDelivery,
        attempt: WebhookAttempt,
        status: str,
        next_attempt_at: datetime | None,
    ) -> bool:
        self._conn.execute(
            t.webhook_attempts.insert(),
            [{"id": new_id(), **{n: getattr(attempt, n) for n in _ATTEMPT}}],
        )
        changed = self._conn.execute(
            t.webhook_deliveries.update()
            .where(
                _d.id == claimed.id,
                _d.attempts == claimed.attempts,
                _d.status == "pending",
            )
            .values(
                status=status,
                next_attempt_at=next_attempt_at,
                last_status_code=attempt.status_code,
                last_error=attempt.error,
                delivered_at=attempt.at if status == "delivered" else None,
            )
        )
        return changed.rowcount == 1

    # --- the delivery log --------------------------------------------------------------------

    def deliveries(
        self, endpoint_id: str, *, status: str | None, after: str | None, limit: int
    ) -> list[WebhookDelivery]:
        query = sa.select(*(_d[n] for n in _DELIVERY)).where(_d.endpoint_id == endpoint_id)
        if status is not None:
            query = query.where(_d.status == status)
        if after is not None:
            query = query.where(_d.id < after)
        rows = self._conn.execute(query.order_by(_d.id.desc()).limit(limit))
        return [WebhookDelivery(**row._asdict()) for row in rows]

    def delivery(self, endpoint_id: str, delivery_id: str) -> WebhookDelivery | None:
        row = self._conn.execute(
            sa.select(*(_d[n] for n in _DELIVERY)).where(
                _d.endpoint_id == endpoint_id, _d.id == delivery_id
            )
        ).first()
        return WebhookDelivery(**row._asdict()) if row else None

    def attempts(self, delivery_ids: list[str]) -> list[WebhookAttempt]:
        if not delivery_ids:
            return []
        rows = self._conn.execute(
            sa.select(*(_a[n] for n in _ATTEMPT))
            .where(_a.delivery_id.in_(delivery_ids))
            .order_by(_a.delivery_id, _a.id)
        )
        return [WebhookAttempt(**row._asdict()) for row in rows]

    def retry(self, delivery: WebhookDelivery, now: datetime) -> None:
        self._conn.execute(
            t.webhook_deliveries.update()
            .where(_d.id == delivery.id)
            # A retry by hand starts a fresh schedule of attempts (the log keeps the old ones).
            .values(status="pending", attempts=0, next_attempt_at=now)
        )
