"""Webhook endpoints and the delivery of outbox facts to them (SPEC §7, Standard Webhooks).

The pipeline has two steps, each safe to run from several workers at once:

1. **Fan-out** (one transaction per batch): unpublished outbox facts become one ``pending``
   delivery per subscribed active endpoint, and the facts are marked published. Only committed
   facts are in the outbox, so a fact from a rolled-back transaction is never delivered.
2. **Delivery**: a worker claims a batch of due deliveries (lease + attempt counted, committed),
   sends them outside any transaction, then records each result in one more transaction. 2xx is
   delivered; anything else is retried on ``RETRY_DELAYS`` and, after the last, ``failed``
   (retry by hand with ``POST .../deliveries/{id}/retry``). ``410 Gone`` disables the endpoint,
   as the specification suggests. A worker that dies after its claim leaves the delivery due
   again when the lease ends; it is then sent again with the same ``webhook-id``.

Delivery is therefore at least once; receivers deduplicate by ``webhook-id`` (the fact's id,
identical on every retry and redelivery). Message bodies are rendered from the stored fact with
sorted keys, so a redelivery is byte-for-byte the first delivery.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import orjson

from patron.domain import webhooks as rules
from patron.domain.errors import FieldError, NotFound, ValidationFailed
from patron.domain.ids import new_id
from patron.domain.timestamps import rfc3339, rfc3339_or_none
from patron.services import audit
from patron.services.ledger import Context
from patron.services.ports import (
    ClaimedDelivery,
    OutboxEvent,
    SendResult,
    UnitOfWork,
    UnitOfWorkFactory,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSender,
)
from patron.services.transactions import run_in_transaction

FAN_OUT_BATCH = 500
CLAIM_BATCH = 20
SENDERS = 8
ROTATION_OVERLAP = timedelta(hours=24)


def new_secret() -> str:
    """A signing secret in the specification's format: ``whsec_`` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def check_target(sender: WebhookSender, url: str) -> None:
    """Raises ValidationFailed when the deployment may not send to ``url``. Resolves the host,
    so call it before opening a transaction."""
    reason = sender.check(url)
    if reason is not None:
        raise ValidationFailed([FieldError("url", reason, "webhook_target")])


def _check_events(events: list[str]) -> list[str]:
    reason = rules.events_error(events)
    if reason is not None:
        raise ValidationFailed([FieldError("events", reason)])
    return sorted(set(events))


def _public(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """What the audit log may keep of an endpoint (never its secrets)."""
    return {"url": endpoint.url, "events": endpoint.events, "status": endpoint.status}


def create(ctx: Context, url: str, events: list[str], description: str | None) -> WebhookEndpoint:
    """Raises: ValidationFailed (events, too many endpoints). The URL must have passed
    :func:`check_target`."""
    wanted = _check_events(events)
    if len(ctx.uow.webhooks.endpoints(ctx.program.id)) >= rules.MAX_ENDPOINTS:
        raise ValidationFailed(
            [FieldError("url", f"a program may have at most {rules.MAX_ENDPOINTS} endpoints")]
        )
    endpoint = WebhookEndpoint(
        id=new_id(),
        program_id=ctx.program.id,
        url=url,
        events=wanted,
        secret=new_secret(),
        status="active",
        created_at=ctx.clock.now(),
        description=description,
    )
    ctx.uow.webhooks.add_endpoint(endpoint)
    _audit(ctx, "webhook.created", endpoint, None, _public(endpoint))
    return endpoint


def get(ctx: Context, endpoint_id: str) -> WebhookEndpoint:
    found = ctx.uow.webhooks.endpoint(ctx.program.id, endpoint_id)
    if found is None:
        raise NotFound(f"no webhook endpoint {endpoint_id!r} in this program")
    return found


def update(ctx: Context, endpoint_id: str, changes: dict[str, Any]) -> WebhookEndpoint:
    """Change ``url`` (checked beforehand), ``events``, ``description`` or ``status``
    (``active``/``disabled``)."""
    current = get(ctx, endpoint_id)
    if "events" in changes:
        changes = {**changes, "events": _check_events(changes["events"])}
    updated = replace(current, **changes)
    ctx.uow.webhooks.update_endpoint(updated)
    _audit(ctx, "webhook.updated", updated, _public(current), _public(updated))
    return updated


def rotate(
    ctx: Context, endpoint_id: str, overlap: timedelta = ROTATION_OVERLAP
) -> WebhookEndpoint:
    """A new secret. The previous one keeps signing beside it for ``overlap``, so receivers can
    switch without dropping a message."""
    current = get(ctx, endpoint_id)
    now = ctx.clock.now()
    updated = replace(
        current,
        secret=new_secret(),
        previous_secret=current.secret if overlap > timedelta(0) else None,
        previous_secret_until=now + overlap if overlap > timedelta(0) else None,
    )
    ctx.uow.webhooks.update_endpoint(updated)
    until = updated.previous_secret_until
    after = {"previous_secret_valid_until": rfc3339_or_none(until)}
    _audit(ctx, "webhook.secret_rotated", updated, None, after)
    return updated


def retry(ctx: Context, endpoint_id: str, delivery_id: str) -> WebhookDelivery:
    """Send a delivery again now (whatever its state); raises NotFound."""
    get(ctx, endpoint_id)
    found = ctx.uow.webhooks.delivery(endpoint_id, delivery_id)
    if found is None:
        raise NotFound(f"no delivery {delivery_id!r} for this endpoint")
    ctx.uow.webhooks.retry(found, ctx.clock.now())
    return replace(found, status="pending", attempts=0, next_attempt_at=ctx.clock.now())


def _audit(
    ctx: Context,
    action: str,
    endpoint: WebhookEndpoint,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        ctx.uow,
        program_id=ctx.program.id,
        actor=ctx.actor,
        action=action,
        target=("webhook", endpoint.id),
        at=ctx.clock.now(),
        before=before,
        after=after,
    )


# --- delivery ---------------------------------------------------------------------------------


def message(event: OutboxEvent) -> bytes:
    """The body of a delivery: ``{type, timestamp, data}`` as the specification suggests."""
    return orjson.dumps(
        {
            "type": event.type,
            "timestamp": rfc3339(event.occurred_at),
            "data": {**event.payload, "program_id": event.program_id},
        },
        option=orjson.OPT_SORT_KEYS,
    )


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    keys = [endpoint.secret]
    if (
        endpoint.previous_secret is not None
        and endpoint.previous_secret_until is not None
        and endpoint.previous_secret_until > now
    ):
        keys.append(endpoint.previous_secret)
    return keys


def fan_out(uow_factory: UnitOfWorkFactory, program_id: str, now: datetime) -> int:
    """Turn every committed, unpublished fact into deliveries; returns the facts handled.
    Runs in the program's scope (``UnitOfWorkFactory.scoped``), whoever calls it."""
    uow_factory = uow_factory.scoped(program_id)
    handled = 0
    while done := run_in_transaction(
        uow_factory, lambda uow: uow.webhooks.fan_out(program_id, now, FAN_OUT_BATCH)
    ):
        handled += done
    return handled


def deliver_due(
    uow_factory: UnitOfWorkFactory,
    sender: WebhookSender,
    program_id: str,
    now: datetime,
    *,
    batch: int = CLAIM_BATCH,
    after_claim: Callable[[list[ClaimedDelivery]], None] | None = None,
) -> int:
    """Send every delivery due at ``now``; returns the attempts made. Claimed deliveries move
    past ``now`` (lease or retry time), so the loop ends even when every attempt fails. Runs in
    the program's scope, whoever calls it."""
    uow_factory = uow_factory.scoped(program_id)
    attempts = 0
    with ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="patron-webhook") as pool:
        while True:
            claimed = run_in_transaction(
                uow_factory,
                lambda uow: uow.webhooks.claim(program_id, now, now + rules.LEASE, batch),
            )
            if not claimed:
                return attempts
            if after_claim is not None:
                after_claim(claimed)
            results = list(pool.map(lambda c: _send(sender, c, now), claimed))
            run_in_transaction(uow_factory, _recorder(claimed, results, now))
            attempts += len(claimed)


def _recorder(
    claimed: list[ClaimedDelivery], results: list[SendResult], now: datetime
) -> Callable[[UnitOfWork], None]:
    return lambda uow: _record(uow, claimed, results, now)


def _send(sender: WebhookSender, claimed: ClaimedDelivery, now: datetime) -> SendResult:
    return sender.send(
        claimed.endpoint.url,
        claimed.event.id,
        message(claimed.event),
        signing_secrets(claimed.endpoint, now),
    )


def _record(
    uow: UnitOfWork, claimed: list[ClaimedDelivery], results: list[SendResult], now: datetime
) -> None:
    for item, result in zip(claimed, results, strict=True):
        delivery = item.delivery
        attempt = WebhookAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts,
            at=now,
            status_code=result.status_code,
            error=result.error,
            duration_ms=result.duration_ms,
        )
        if result.ok:
            uow.webhooks.finish(delivery, attempt, "delivered", None)
            continue
        gone = result.status_code == 410
        delay = None if gone else rules.retry_delay(delivery.attempts)
        if delay is None:
            uow.webhooks.finish(delivery, attempt, "failed", None)
        else:
            uow.webhooks.finish(delivery, attempt, "pending", now + delay)
        if gone:
            current = uow.webhooks.endpoint(delivery.program_id, delivery.endpoint_id)
            if current is not None and current.status == "active":
                uow.webhooks.update_endpoint(replace(current, status="disabled"))
