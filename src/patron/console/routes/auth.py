"""Signing in and out: email and password, the TOTP code, set-password links (docs/console.md).

Failed sign-ins are counted per account (the email) and per client address by the rate limiter's
``staff_sign_in`` bucket; over either limit, sign-in is refused with when to retry, whatever the
password, so passwords cannot be guessed by trying. A success is not counted.
"""

from __future__ import annotations

import contextlib
import secrets
from typing import Any

from fastapi import Depends, Request
from starlette.responses import Response

from patron.adapters.ratelimit import RateLimited
from patron.console import security
from patron.console.deps import (
    FormRefused,
    address,
    container,
    page,
    policy,
    secure,
    tokens,
)
from patron.console.forms import field_errors, form_data, redirect
from patron.console.routing import router as make_router
from patron.domain.errors import ValidationFailed
from patron.services import staff_sessions
from patron.services.sealing import Sealer
from patron.services.staff_sessions import LinkNotValid, SignInFailed
from patron.services.transactions import run_in_transaction, run_read

router = make_router()


def _binding(request: Request) -> str:
    return request.cookies.get(security.FORM_COOKIE, "")


def _anonymous(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> Response:
    """A page before sign-in: its form token is bound to a random pre-session cookie."""
    box = container(request)
    binding = _binding(request) or secrets.token_urlsafe(24)
    response = page(
        request, template, {**context, "anon_token": tokens(box).issue(binding)}, status=status
    )
    if not _binding(request):
        security.set_cookie(response, security.FORM_COOKIE, binding, secure=secure(request))
    return response


def _check_anonymous(request: Request, form: dict[str, str]) -> None:
    box = container(request)
    if tokens(box).verify(form.get("token", ""), _binding(request)) is None:
        raise FormRefused("this form has expired; reload the page and try again")


def _safe_next(target: str | None) -> str:
    """Only a console path of this site (never another site after signing in)."""
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return "/console/"


def _with_session(request: Request, response: Response, token: str) -> Response:
    box = container(request)
    security.set_cookie(
        response,
        security.SESSION_COOKIE,
        token,
        secure=secure(request),
        max_age=int(box.settings.console_session_hours * 3600),
    )
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return _anonymous(request, "login.html", {"next": _safe_next(next), "email": "", "error": None})


@router.post("/login")
def login(request: Request, form: dict[str, str] = Depends(form_data)) -> Response:
    _check_anonymous(request, form)
    box = container(request)
    email = form.get("email", "").strip()
    password = form.get("password", "")
    target = _safe_next(form.get("next"))
    where = address(request)
    account = email.casefold() or "-"
    try:
        box.limiter.check("staff_sign_in", key=account, address=where)
        session, token = run_in_transaction(
            box.uow,
            lambda uow: staff_sessions.sign_in(
                uow,
                box.clock,
                email=email,
                password=password,
                policy=policy(box),
                address=where,
                agent=request.headers.get("user-agent", ""),
            ),
        )
    except SignInFailed:
        with contextlib.suppress(RateLimited):
            box.limiter.hit("staff_sign_in", key=account, address=where)
        return _anonymous(
            request,
            "login.html",
            {"next": target, "email": email, "error": "Wrong email or password."},
            status=401,
        )
    except RateLimited as error:
        return _anonymous(
            request,
            "login.html",
            {
                "next": target,
                "email": email,
                "error": f"Too many failed sign-ins. Try again in {error.retry_after} seconds.",
            },
            status=429,
        )
    location = "/console/login/code?next=" + target if session.second_factor_pending else target
    return _with_session(request, redirect(request, location), token)


def _pending(request: Request) -> Any:
    box = container(request)
    token = request.cookies.get(security.SESSION_COOKIE, "")
    found = (
        run_read(
            box.uow, lambda uow: staff_sessions.authenticate(uow, box.clock, token, policy(box))
        )
        if token
        else None
    )
    return found[0] if found else None


@router.get("/login/code")
def code_page(request: Request, next: str | None = None) -> Response:
    session = _pending(request)
    if session is None:
        return redirect(request, "/console/login")
    if not session.second_factor_pending:
        return redirect(request, _safe_next(next))
    return _anonymous(request, "code.html", {"next": _safe_next(next), "error": None})


@router.post("/login/code")
def code(request: Request, form: dict[str, str] = Depends(form_data)) -> Response:
    _check_anonymous(request, form)
    box = container(request)
    session = _pending(request)
    if session is None:
        return redirect(request, "/console/login")
    target = _safe_next(form.get("next"))
    where = address(request)
    sealer = Sealer(box.settings.fingerprint_key(), purpose="patron staff totp")
    try:
        box.limiter.check("staff_sign_in", key=session.staff_id, address=where)
        run_in_transaction(
            box.uow,
            lambda uow: staff_sessions.pass_second_factor(
                uow, box.clock, sealer, session, form.get("code", "")
            ),
        )
    except SignInFailed:
        with contextlib.suppress(RateLimited):
            box.limiter.hit("staff_sign_in", key=session.staff_id, address=where)
        return _anonymous(
            request,
            "code.html",
            {"next": target, "error": "Wrong or already used code."},
            status=401,
        )
    except RateLimited as error:
        return _anonymous(
            request,
            "code.html",
            {
                "next": target,
                "error": f"Too many wrong codes. Try again in {error.retry_after} seconds.",
            },
            status=429,
        )
    return redirect(request, target)


@router.post("/logout")
def logout(request: Request, form: dict[str, str] = Depends(form_data)) -> Response:
    box = container(request)
    token = request.cookies.get(security.SESSION_COOKIE, "")
    found = (
        run_read(
            box.uow, lambda uow: staff_sessions.authenticate(uow, box.clock, token, policy(box))
        )
        if token
        else None
    )
    if found is not None:
        session = found[0]
        if tokens(box).verify(form.get("token", ""), session.id) is None:
            raise FormRefused("this form has expired; reload the page and try again")
        run_in_transaction(box.uow, lambda uow: staff_sessions.sign_out(uow, box.clock, session))
    response = redirect(request, "/console/login", "You are signed out.")
    security.clear_cookie(response, security.SESSION_COOKIE, secure=secure(request))
    return response


@router.get("/set-password/{token}")
def set_password_page(token: str, request: Request) -> Response:
    box = container(request)
    try:
        user = run_read(box.uow, lambda uow: staff_sessions.link_holder(uow, box.clock, token))
    except LinkNotValid as error:
        return page(
            request,
            "error.html",
            {"status": 410, "title": "This link cannot be used", "detail": str(error)},
            status=410,
        )
    return _anonymous(request, "set_password.html", {"user": user, "errors": {}})


@router.post("/set-password/{token}")
def set_password(
    token: str, request: Request, form: dict[str, str] = Depends(form_data)
) -> Response:
    _check_anonymous(request, form)
    box = container(request)
    try:
        _session, session_token = run_in_transaction(
            box.uow,
            lambda uow: staff_sessions.set_password(
                uow,
                box.clock,
                token=token,
                password=form.get("password", ""),
                confirm=form.get("confirm", ""),
                policy=policy(box),
                address=address(request),
                agent=request.headers.get("user-agent", ""),
            ),
        )
    except LinkNotValid as error:
        return page(
            request,
            "error.html",
            {"status": 410, "title": "This link cannot be used", "detail": str(error)},
            status=410,
        )
    except ValidationFailed as error:
        user = run_read(box.uow, lambda uow: staff_sessions.link_holder(uow, box.clock, token))
        return _anonymous(
            request, "set_password.html", {"user": user, "errors": field_errors(error)}, status=422
        )
    response = redirect(request, "/console/", "Your password is set. Welcome to Patron.")
    return _with_session(request, response, session_token)
