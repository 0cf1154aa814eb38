"""Writes from portal forms: CSRF check, one application per token, redirect with a message.

As in the console, the form's one-time token is the idempotency key, scoped to the member: the
first post runs the use case and stores where it redirected and what it said; a second post of
the same token (a double tap, a reload of the POST) answers that same redirect without running
anything, so a reward is redeemed once. A token posted with other values is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from patron.domain.errors import IdempotencyConflict
from patron.portal.deps import FormRefused, Site, Visit
from patron.services.ports import UnitOfWork
from patron.services.transactions import IdempotencyRequest, Outcome, run_write

T = TypeVar("T")


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def redirect(at: Site, location: str, flash: str | None = None) -> Response:
    response = RedirectResponse(location, status_code=303)
    if flash:
        at.flash(response, flash)
    return response


def perform(
    visit: Visit,
    form: dict[str, str],
    action: Callable[[UnitOfWork], T],
    done: Callable[[T], tuple[str, str]],
) -> Response:
    """Run ``action`` once per form token, then redirect to ``done``'s (location, message)."""
    nonce = visit.nonce(form)
    values = {k: v for k, v in sorted(form.items()) if k != "token"}
    box = visit.box
    claim = IdempotencyRequest(
        scope=f"member:{visit.member.id}",
        key=f"portal:{nonce}",
        fingerprint=box.uow.fingerprint("POST", visit.site.request.url.path, values),
    )

    def run(uow: UnitOfWork) -> dict[str, Any]:
        location, message = done(action(uow))
        return {"location": location, "flash": message}

    try:
        outcome = run_write(visit.site.uow, box.clock, run, lambda body: Outcome(303, body), claim)
    except IdempotencyConflict:
        raise FormRefused(visit.words.t("form_expired")) from None
    return redirect(visit.site, outcome.body["location"], outcome.body["flash"])
