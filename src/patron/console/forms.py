"""Writes from console forms: CSRF check, one application per token, audit, redirect.

A console write is an API write in everything but its transport (API.md Part 2): the same
services, the same audit log (actor = the staff user), the same idempotency store. The form's
one-time token (``security``) is the idempotency key, scoped to the staff user: the first post
runs the use case and stores where it redirected and what it said; a second post of the same
token (a double click, a resent form, a reload of the POST) answers that same redirect and
message without running anything. A token posted with different values is refused.

When the use case records no audit record of its own, :func:`perform` records one with the
form's ``audit`` action and target, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from patron.console import security
from patron.console.deps import FormRefused, Page, Staff, secure, tokens
from patron.domain.errors import IdempotencyConflict
from patron.services import audit
from patron.services.ports import UnitOfWork, UnitOfWorkFactory
from patron.services.transactions import IdempotencyRequest, Outcome, run_write

T = TypeVar("T")


async def form_data(request: Request) -> dict[str, str]:
    """The posted form's fields as strings (files are not accepted)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@dataclass(frozen=True, slots=True)
class Done:
    location: str
    flash: str


def redirect(request: Request, location: str, flash: str | None = None) -> Response:
    response = RedirectResponse(location, status_code=303)
    if flash:
        box = request.app.state.container
        security.set_cookie(
            response,
            security.FLASH_COOKIE,
            tokens(box).sign(flash),
            secure=secure(request),
            max_age=120,
        )
    return response


def perform(
    request: Request,
    me: Staff,
    form: dict[str, str],
    action: Callable[[UnitOfWork], T],
    done: Callable[[T], Done],
    *,
    uow: UnitOfWorkFactory,
    program_id: str | None,
    audit_as: tuple[str, tuple[str, str]] | None = None,
) -> Response:
    """Run ``action`` once per form token, then redirect with its message.

    Raises: FormRefused (bad token or a token reused with other values), and whatever the use
    case raises (the caller shows it at the form).
    """
    nonce = me.nonce(form)
    values = {k: v for k, v in sorted(form.items()) if k != "token"}
    claim = IdempotencyRequest(
        scope=f"staff:{me.who.user.id}",
        key=f"console:{nonce}",
        fingerprint=me.box.uow.fingerprint("POST", request.url.path, values),
    )

    def audited(unit: UnitOfWork) -> dict[str, Any]:
        already = unit.audit.recorded
        result = action(unit)
        finished = done(result)
        if audit_as is not None and unit.audit.recorded == already:
            name, target = audit_as
            audit.record(
                unit,
                program_id=program_id,
                actor=me.actor,
                action=name,
                target=target,
                at=me.box.clock.now(),
                after={k: v for k, v in values.items() if k not in ("password", "confirm")},
            )
        return {"location": finished.location, "flash": finished.flash}

    try:
        outcome = run_write(uow, me.box.clock, audited, lambda body: Outcome(303, body), claim)
    except IdempotencyConflict:
        raise FormRefused(
            "this form was already sent with other values; reload the page to start again"
        ) from None
    return redirect(request, outcome.body["location"], outcome.body["flash"])


def perform_in(
    request: Request,
    at: Page,
    form: dict[str, str],
    action: Callable[[UnitOfWork], T],
    done: Callable[[T], Done],
    *,
    audit_as: tuple[str, tuple[str, str]] | None = None,
) -> Response:
    """:func:`perform` in the page's program (scoped units of work)."""
    return perform(
        request,
        at.staff,
        form,
        action,
        done,
        uow=at.uow,
        program_id=at.program.id,
        audit_as=audit_as,
    )


def field_errors(error: Any) -> dict[str, str]:
    """``{field: message}`` of a ValidationFailed, first message per field."""
    found: dict[str, str] = {}
    for item in getattr(error, "errors", []):
        found.setdefault(item.path.split(".")[0].split("[")[0], item.message)
    return found
