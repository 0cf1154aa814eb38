"""Writes through the API: ``Idempotency-Key`` handling around a use case.

Every ``POST`` (and ``PUT``/``PATCH``) route hands its use case to :func:`respond`. With an
``Idempotency-Key`` header the key is claimed in the use case's own transaction (see
``patron.services.transactions``); a replay answers the original status and body with
``Idempotent-Replayed: true``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import Response

from patron.api.deps import Caller
from patron.api.rendering import JsonResponse
from patron.domain.errors import FieldError, ValidationFailed
from patron.services.ports import UnitOfWork
from patron.services.transactions import IdempotencyRequest, Outcome, fingerprint, run_write

T = TypeVar("T")

MAX_KEY_LENGTH = 255


def respond(
    request: Request,
    who: Caller,
    action: Callable[[UnitOfWork], T],
    render: Callable[[T], Any],
    *,
    status: int | Callable[[T], int],
    body: Any = None,
) -> Response:
    """Run ``action`` as one transaction and answer ``render(result)`` with ``status``.

    ``body`` is the validated request body; with the method and path it is what an
    idempotency key is bound to.
    """
    idempotency = _idempotency(request, who, body)
    outcome = run_write(
        who.container.uow,
        who.container.clock,
        action,
        lambda result: Outcome(status(result) if callable(status) else status, render(result)),
        idempotency,
    )
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JsonResponse(outcome.body, status_code=outcome.status, headers=headers)


def _idempotency(request: Request, who: Caller, body: Any) -> IdempotencyRequest | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise ValidationFailed(
            [FieldError("Idempotency-Key", "1 to 255 printable ASCII characters", "header")]
        )
    return IdempotencyRequest(
        scope=who.key.id,
        key=key,
        fingerprint=fingerprint(request.method, request.url.path, body),
    )


REPLAYED: dict[int | str, dict[str, Any]] = {
    200: {"description": "The same business key again: the original result, nothing written"}
}
"""``responses=`` of a route whose resent business key (``external_id``) answers 200."""
