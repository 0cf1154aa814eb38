"""Webhook endpoints, their signing secrets, and the delivery log (admin keys only).

A secret is shown when the endpoint is created and when it is rotated, never on reads.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from patron.api.deps import ProgramCaller, in_program
from patron.api.pagination import decode_cursor, limit_param, page
from patron.api.rendering import JsonResponse, rfc3339, rfc3339_or_none
from patron.api.responses import (
    DeliveryOut,
    DeliveryPage,
    WebhookOut,
    WebhookPage,
    WebhookWithSecret,
)
from patron.api.writes import respond
from patron.services import webhooks
from patron.services.ledger import Context
from patron.services.ports import UnitOfWork, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from patron.services.transactions import run_read

router = APIRouter(prefix="/v1/programs/{program}/webhooks", tags=["webhooks"])

Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
EventType = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    events: Annotated[list[EventType], Field(min_length=1, max_length=50)]
    description: Description | None = None


class EndpointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: Annotated[list[EventType], Field(min_length=1, max_length=50)] | None = None
    description: Description | None = None
    status: Literal["active", "disabled"] | None = None


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_hours: Annotated[int, Field(ge=0, le=168)] = Field(
        default=24, description="how long the previous secret keeps signing beside the new one"
    )


def _endpoint(e: WebhookEndpoint, *, secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": e.id,
        "url": e.url,
        "events": e.events,
        "status": e.status,
        "description": e.description,
        "created_at": rfc3339(e.created_at),
        "previous_secret_valid_until": rfc3339_or_none(e.previous_secret_until),
    }
    if secret:
        out["secret"] = e.secret
    return out


def _delivery(d: WebhookDelivery, log: list[WebhookAttempt]) -> dict[str, Any]:
    return {
        "id": d.id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "status": d.status,
        "attempts": d.attempts,
        "response_code": d.last_status_code,
        "error": d.last_error,
        "created_at": rfc3339_or_none(d.created_at),
        "last_attempt_at": rfc3339_or_none(d.last_attempt_at),
        "next_attempt_at": rfc3339_or_none(d.next_attempt_at) if d.status == "pending" else None,
        "delivered_at": rfc3339_or_none(d.delivered_at),
        "log": [
            {
                "attempt": a.number,
                "at": rfc3339(a.at),
                "response_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in log
        ],
    }


def _ctx(uow: UnitOfWork, who: ProgramCaller) -> Context:
    return Context(uow, who.container.clock, who.actor, who.program)


@router.post("", status_code=201, response_model=WebhookWithSecret)
def create(
    body: EndpointIn, request: Request, who: ProgramCaller = Depends(in_program("webhooks.manage"))
) -> Response:
    """Subscribe a URL to event types (``["*"]``: all). Answers the signing secret once."""
    # Resolving the host happens before the transaction: no database work waits on DNS.
    webhooks.check_target(who.container.webhooks, body.url)

    def action(uow: UnitOfWork) -> dict[str, Any]:
        made = webhooks.create(_ctx(uow, who), body.url, body.events, body.description)
        return _endpoint(made, secret=True)

    return respond(request, who, action, lambda r: r, status=201, body=body.model_dump(mode="json"))


@router.get("", response_model=WebhookPage)
def list_endpoints(who: ProgramCaller = Depends(in_program("webhooks.manage"))) -> Response:
    found = run_read(who.uow, lambda uow: uow.webhooks.endpoints(who.program.id))
    return JsonResponse({"items": [_endpoint(e) for e in found], "next_cursor": None})


@router.get("/{endpoint}", response_model=WebhookOut)
def get(endpoint: str, who: ProgramCaller = Depends(in_program("webhooks.manage"))) -> Response:
    found = run_read(who.uow, lambda uow: webhooks.get(_ctx(uow, who), endpoint))
    return JsonResponse(_endpoint(found))


@router.patch("/{endpoint}", response_model=WebhookOut)
def patch(
    endpoint: str,
    body: EndpointPatch,
    request: Request,
    who: ProgramCaller = Depends(in_program("webhooks.manage")),
) -> Response:
    """Change the URL, the event types, the description, or disable / re-enable."""
    changes = body.model_dump(exclude_none=True)
    if "url" in changes:
        webhooks.check_target(who.container.webhooks, changes["url"])

    def action(uow: UnitOfWork) -> dict[str, Any]:
        return _endpoint(webhooks.update(_ctx(uow, who), endpoint, changes))

    return respond(request, who, action, lambda r: r, status=200, body=body.model_dump(mode="json"))


@router.post("/{endpoint}/rotate-secret", response_model=WebhookWithSecret)
def rotate_secret(
    endpoint: str,
    request: Request,
    body: RotateIn | None = None,
    who: ProgramCaller = Depends(in_program("webhooks.manage")),
) -> Response:
    """A new signing secret; the previous one also signs for ``overlap_hours`` (default 24)."""
    wanted = body or RotateIn()

    def action(uow: UnitOfWork) -> dict[str, Any]:
        rotated = webhooks.rotate(_ctx(uow, who), endpoint, timedelta(hours=wanted.overlap_hours))
        return _endpoint(rotated, secret=True)

    return respond(
        request, who, action, lambda r: r, status=200, body=wanted.model_dump(mode="json")
    )


@router.get("/{endpoint}/deliveries", response_model=DeliveryPage)
def deliveries(
    endpoint: str,
    who: ProgramCaller = Depends(in_program("webhooks.manage")),
    status: Literal["pending", "delivered", "failed"] | None = Query(None),
    limit: int = Depends(limit_param),
    cursor: str | None = None,
) -> Response:
    """The delivery log, newest first: status, attempts, last response code, every attempt."""
    after = decode_cursor(cursor)

    def read(uow: UnitOfWork) -> list[tuple[WebhookDelivery, list[WebhookAttempt]]]:
        webhooks.get(_ctx(uow, who), endpoint)
        found = uow.webhooks.deliveries(endpoint, status=status, after=after, limit=limit + 1)
        log = uow.webhooks.attempts([d.id for d in found[:limit]])
        return [(d, [a for a in log if a.delivery_id == d.id]) for d in found]

    rows = run_read(who.uow, read)
    return JsonResponse(
        page(rows, limit=limit, position=lambda r: r[0].id, render=lambda r: _delivery(*r))
    )


@router.post("/{endpoint}/deliveries/{delivery}/retry", status_code=202, response_model=DeliveryOut)
def retry(
    endpoint: str,
    delivery: str,
    request: Request,
    who: ProgramCaller = Depends(in_program("webhooks.manage")),
) -> Response:
    """Send a delivery again at the next worker tick, with a fresh schedule of retries."""

    def action(uow: UnitOfWork) -> dict[str, Any]:
        return _delivery(webhooks.retry(_ctx(uow, who), endpoint, delivery), [])

    return respond(request, who, action, lambda r: r, status=202)
