"""The signed-in staff user's own account: sessions (sign out elsewhere) and two-step sign-in."""

from __future__ import annotations

import segno
from fastapi import Depends, Request
from starlette.responses import Response

from patron.console.deps import Staff, page, signed_in
from patron.console.forms import Done, field_errors, form_data, perform
from patron.console.routing import router as make_router
from patron.domain.errors import ValidationFailed
from patron.services import staff_sessions
from patron.services.ports import UnitOfWork
from patron.services.sealing import Sealer
from patron.services.transactions import run_read

router = make_router("/console/account")


def _sealer(me: Staff) -> Sealer:
    return Sealer(me.box.settings.fingerprint_key(), purpose="patron staff totp")


def _qr(uri: str) -> str:
    return str(
        segno.make(uri, error="m").svg_inline(scale=4, border=2, title="Two-step sign-in code")
    )


def _account(
    request: Request,
    me: Staff,
    *,
    secret: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    sessions = run_read(me.box.uow, lambda uow: uow.staff.sessions_of(me.who.user.id))
    now = me.box.clock.now()
    live = [s for s in sessions if s.revoked_at is None and s.expires_at > now]
    setup = None
    if secret is not None:
        uri = staff_sessions.totp_uri(secret, me.who.user.email)
        setup = {"secret": secret, "qr": _qr(uri)}
    return page(
        request,
        "account.html",
        {"title": "Your account", "sessions": live, "setup": setup, "errors": errors or {}},
        me=me,
        status=status,
    )


@router.get("")
def account(request: Request, me: Staff = Depends(signed_in)) -> Response:
    return _account(request, me)


@router.get("/two-step")
def two_step_page(request: Request, me: Staff = Depends(signed_in)) -> Response:
    return _account(request, me, secret=staff_sessions.new_totp_secret())


@router.post("/two-step")
def two_step(
    request: Request, me: Staff = Depends(signed_in), form: dict[str, str] = Depends(form_data)
) -> Response:
    secret = form.get("secret", "")
    try:
        return perform(
            request,
            me,
            form,
            lambda uow: staff_sessions.enable_totp(
                uow, me.box.clock, _sealer(me), me.who.user, secret, form.get("code", "")
            ),
            lambda _: Done("/console/account", "Two-step sign-in is on."),
            uow=me.box.uow,
            program_id=None,
        )
    except ValidationFailed as error:
        return _account(request, me, secret=secret, errors=field_errors(error), status=422)


@router.post("/two-step/off")
def two_step_off(
    request: Request, me: Staff = Depends(signed_in), form: dict[str, str] = Depends(form_data)
) -> Response:
    return perform(
        request,
        me,
        form,
        lambda uow: staff_sessions.disable_totp(uow, me.box.clock, me.who.user, me.actor),
        lambda _: Done("/console/account", "Two-step sign-in is off."),
        uow=me.box.uow,
        program_id=None,
    )


@router.post("/sessions/{session_id}/revoke")
def revoke(
    session_id: str,
    request: Request,
    me: Staff = Depends(signed_in),
    form: dict[str, str] = Depends(form_data),
) -> Response:
    def action(uow: UnitOfWork) -> bool:
        return staff_sessions.revoke(uow, me.box.clock, me.actor, me.who.user.id, session_id)

    return perform(
        request,
        me,
        form,
        action,
        lambda done: Done(
            "/console/account", "That session is signed out." if done else "Nothing to sign out."
        ),
        uow=me.box.uow,
        program_id=None,
    )
