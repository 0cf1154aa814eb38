"""Writes through the API: ``Idempotency-Key`` handling and the audit record around a use case.

Every ``POST`` (and ``PUT``/``PATCH``) route that writes hands its use case to :func:`respond`.
With an ``Idempotency-Key`` header the key is claimed in the use case's own transaction (see
``patron.services.transactions``); a replay answers the original status and body with
``Idempotent-Replayed: true``.

``POST`` routes that write nothing (a configuration check, a purchase preview) answer through
:func:`answer`: without a key they are plain reads; with one, their answer is kept under the key
like a write's, so every ``POST`` honours ``Idempotency-Key`` the same way (API.md). A bulk grant,
which runs in several transactions, claims its key with ``claim_for_steps`` instead.

The audit trail is kept here, in one place, so no write route can forget it: when the use case
succeeds and did not record an audit record of its own (the richer, service-level records such as
``member.updated`` with the fields that changed), :func:`respond` records one in the same
transaction. Its action and target come from the route (:func:`describe`), its ``after`` is the
rendered response (secrets left out). Replays add nothing: an idempotent replay never runs the
use case, and a business-key replay (a result with ``replayed`` true) wrote nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import Response

from patron.api.deps import Caller
from patron.api.rendering import JsonResponse
from patron.domain.errors import FieldError, ValidationFailed
from patron.services import audit
from patron.services.ports import UnitOfWork
from patron.services.transactions import IdempotencyRequest, Outcome, run_read, run_write

T = TypeVar("T")

MAX_KEY_LENGTH = 255

PROGRAM_PREFIX = "/v1/programs/{program}"

CREATED: Mapping[str, str] = {"members": "enrolled", "purchases": "recorded", "events": "recorded"}
"""The verb of a ``POST`` to a collection, when it is not ``created``."""

VERBS: Mapping[str, str] = {
    "adjustments": "adjusted",
    "transfers": "transferred",
    "redemptions": "redeemed",
    "tier": "tier_granted",
    "refunds": "refunded",
    "claim": "claimed",
    "cancel": "cancelled",
    "use": "used",
    "rotate-secret": "secret_rotated",
    "retry": "retried",
    "erase": "erased",
    "config": "config_replaced",
}
"""The verb of a write addressed to a sub-resource or action of an object (the last segment)."""

KEYS: Mapping[str, str] = {
    "purchases": "external_id",
    "events": "external_id",
    "grants": "external_id",
    "rewards": "code",
    "segments": "code",
    "campaigns": "code",
}
"""The response field that names an object created in a collection (default ``id``): the one
its own routes address it by."""

SECRET_FIELDS = frozenset({"secret", "key"})


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
    idempotency = idempotency_of(request, who, body)

    def audited(uow: UnitOfWork) -> tuple[T, Any]:
        already = uow.audit.recorded
        result = action(uow)
        rendered = render(result)
        if uow.audit.recorded == already and not getattr(result, "replayed", False):
            _record(uow, request, who, rendered)
        return result, rendered

    outcome = run_write(
        who.uow,
        who.container.clock,
        audited,
        lambda done: Outcome(status(done[0]) if callable(status) else status, done[1]),
        idempotency,
    )
    return response_of(outcome)


def answer(
    request: Request,
    who: Caller,
    action: Callable[[UnitOfWork], T],
    render: Callable[[T], Any],
    *,
    body: Any,
    status: int = 200,
) -> Response:
    """Answer a ``POST`` that writes nothing: a read, unless it carries an ``Idempotency-Key``,
    whose answer is then stored under the key (and nothing else is written or audited)."""
    idempotency = idempotency_of(request, who, body)
    if idempotency is None:
        return JsonResponse(render(run_read(who.uow, action)), status_code=status)
    outcome = run_write(
        who.uow,
        who.container.clock,
        lambda uow: render(action(uow)),
        lambda rendered: Outcome(status, rendered),
        idempotency,
    )
    return response_of(outcome)


def response_of(outcome: Outcome) -> Response:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JsonResponse(outcome.body, status_code=outcome.status, headers=headers)


def describe(
    method: str, template: str, params: Mapping[str, str], rendered: Any, program_id: str
) -> tuple[str, tuple[str, str]]:
    """The audit action and target of a write, from its route template and path parameters.

    - ``PATCH``/``PUT`` on an object (``.../rewards/{code}``): ``reward.updated`` /
      ``.replaced``, target that object;
    - a sub-resource or action of an object (``.../members/{member}/adjustments``,
      ``.../redemptions/{id}/cancel``): ``<object>.<verb>`` (``VERBS``, else the last segment),
      target that object;
    - ``POST`` to a collection (``.../rewards``): ``<object>.created`` (or ``CREATED``), target
      the new object, named by the response's ``KEYS`` field;
    - the program's own documents (``.../config``): target the program.
    """
    if not template.startswith(PROGRAM_PREFIX):  # POST /v1/programs
        named = rendered.get("id") if isinstance(rendered, dict) else None
        return "program.created", ("program", str(named or program_id))
    rest = template.removeprefix(PROGRAM_PREFIX)
    parts = [p for p in rest.split("/") if p]
    objects = [
        (parts[i - 1], parts[i][1:-1])
        for i in range(1, len(parts))
        if parts[i].startswith("{") and not parts[i - 1].startswith("{")
    ]
    last = parts[-1] if parts else ""
    if last.startswith("{") and objects:
        collection, param = objects[-1]
        verb = {"PATCH": "updated", "PUT": "replaced", "DELETE": "deleted"}.get(method, "written")
        return f"{_singular(collection)}.{verb}", (_singular(collection), params[param])
    if objects:
        collection, param = objects[-1]
        noun = _singular(collection)
        return f"{noun}.{VERBS.get(last, last.replace('-', '_'))}", (noun, params[param])
    if len(parts) == 1 and method == "POST" and last not in VERBS:
        noun = _singular(last)
        named = rendered.get(KEYS.get(last, "id")) if isinstance(rendered, dict) else None
        return f"{noun}.{CREATED.get(last, 'created')}", (noun, str(named or "-"))
    verb = VERBS.get(last, last.replace("-", "_")) if last else "updated"
    return f"program.{verb}", ("program", program_id)


def _singular(collection: str) -> str:
    name = collection.replace("-", "_")
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name.removesuffix("s")


def _record(uow: UnitOfWork, request: Request, who: Caller, rendered: Any) -> None:
    program = getattr(who, "program", None)
    program_id = program.id if program is not None else None
    if program_id is None and isinstance(rendered, dict):  # a program just created
        program_id = rendered.get("id")
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    action, target = describe(
        request.method, template, request.path_params, rendered, program_id or ""
    )
    audit.record(
        uow,
        program_id=program_id,
        actor=who.actor,
        action=action,
        target=target,
        at=who.container.clock.now(),
        after=_public(rendered) if isinstance(rendered, dict) else {"response": rendered},
    )


def _public(value: Any) -> Any:
    """The rendered response without secrets (signing secrets, API keys)."""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if k not in SECRET_FIELDS}
    if isinstance(value, list):
        return [_public(v) for v in value]
    return value


def idempotency_of(request: Request, who: Caller, body: Any) -> IdempotencyRequest | None:
    """The request's ``Idempotency-Key`` bound to its fingerprint, or None without one.

    Raises: ValidationFailed (a malformed key).
    """
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
        fingerprint=who.uow.fingerprint(request.method, request.url.path, body),
    )


REPLAYED: dict[int | str, dict[str, Any]] = {
    200: {"description": "The same business key again: the original result, nothing written"}
}
"""``responses=`` of a route whose resent business key (``external_id``) answers 200."""
