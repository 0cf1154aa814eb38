"""Who is asking: the signed-in staff user (:class:`Staff`) and, on a program's pages, the program
and the role it holds there (:class:`Page`).

Order of checks, like the API's: no live session → the sign-in page (303); a program the staff
user holds no role in, or that does not exist → 404, so one program's staff learn nothing of
another; a role without the page's permission → 403 with what the role may do. A session waiting
for its second factor reaches nothing but the code page.

Pages render through :func:`page`, which adds what the layout needs (the user, its programs for
the switcher, the navigation its role may use, a fresh form token, the flash message of the last
post) to the template's own context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.responses import HTMLResponse, Response

from patron.bootstrap import Container
from patron.console import security
from patron.console.templating import render
from patron.domain.errors import Forbidden, NotFound
from patron.domain.programs import Program
from patron.domain.staff import ConsolePermission, StaffGrant, StaffRole, allowed
from patron.services import programs, staff_sessions
from patron.services.ports import UnitOfWork, UnitOfWorkFactory
from patron.services.staff_sessions import Policy, SignedIn
from patron.services.transactions import run_in_transaction, run_read
from patron.web_security import FormRefused as FormRefused
from patron.web_security import PageNotFound as PageNotFound
from patron.web_security import SignInRequired as SignInRequired


class PageForbidden(Forbidden):
    title = "Not allowed for your role"


def container(request: Request) -> Container:
    found: Container = request.app.state.container
    return found


def tokens(box: Container) -> security.Tokens:
    cached = getattr(box, "_console_tokens", None)
    if cached is None:
        cached = security.Tokens(box.settings.fingerprint_key())
        object.__setattr__(box, "_console_tokens", cached)
    return cached


def policy(box: Container) -> Policy:
    return Policy(
        session_hours=box.settings.console_session_hours,
        idle_minutes=box.settings.console_idle_minutes,
    )


def secure(request: Request) -> bool:
    """Whether cookies must be ``Secure``: the settings say so (an https public URL,
    production), or this request came over HTTPS (directly or through a trusted proxy)."""
    return container(request).settings.cookies_secure() or request.url.scheme == "https"


def address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass
class Staff:
    """The signed-in staff user of a request."""

    who: SignedIn
    box: Container
    request: Request
    programs: list[tuple[Program, StaffRole]] = field(default_factory=list)

    @property
    def actor(self) -> Any:
        return self.who.actor

    def form_token(self) -> str:
        return tokens(self.box).issue(self.who.session.id)

    def nonce(self, form: dict[str, str]) -> str:
        """The nonce of the form's token. Raises: FormRefused (missing, forged, foreign)."""
        found = tokens(self.box).verify(form.get("token", ""), self.who.session.id)
        if found is None:
            raise FormRefused(
                "this form is no longer valid (it was opened in another session or is missing "
                "its token); reload the page and try again"
            )
        return found


def signed_in(request: Request) -> Staff:
    box = container(request)
    token = request.cookies.get(security.SESSION_COOKIE)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    login = f"/console/login?next={quote(target, safe='')}"
    if not token:
        raise SignInRequired(login)

    def read(uow: UnitOfWork) -> tuple[Any, list[Program]]:
        # The session and the programs for the switcher in one read transaction.
        return staff_sessions.authenticate(uow, box.clock, token, policy(box)), uow.programs.all()

    found, every = run_read(box.uow, read)
    if found is None:
        raise SignInRequired(login)
    session, user, grants = found
    if session.second_factor_pending:
        raise SignInRequired("/console/login/code")
    if staff_sessions.needs_touch(session, box.clock.now()):
        run_in_transaction(
            box.uow, lambda uow: uow.staff.touch_session(session.id, box.clock.now())
        )
    me = Staff(SignedIn(user, session, grants), box, request)
    me.programs = [
        (p, role)
        for p in sorted(every, key=lambda p: p.name.casefold())
        if (role := me.who.role_in(p)) is not None
    ]
    return me


@dataclass
class Page:
    """A program page's context: the staff user, the program, its role and grant there."""

    staff: Staff
    program: Program
    role: StaffRole
    grant: StaffGrant | None

    @property
    def uow(self) -> UnitOfWorkFactory:
        """Units of work scoped to the program (row-level security on PostgreSQL)."""
        return self.staff.box.uow.scoped(self.program.id)

    @property
    def box(self) -> Container:
        return self.staff.box

    @property
    def base(self) -> str:
        return f"/console/programs/{self.program.slug}"

    def may(self, permission: ConsolePermission) -> bool:
        return allowed(self.role, permission)


def in_program(permission: ConsolePermission) -> Callable[..., Page]:
    def dependency(program: str, me: Staff = Depends(signed_in)) -> Page:
        try:
            found = run_read(me.box.uow, lambda uow: programs.get_program(uow, program))
        except NotFound:
            raise PageNotFound("no such program") from None
        role = me.who.role_in(found)
        if role is None:
            raise PageNotFound("no such program")
        if not allowed(role, permission):
            raise PageForbidden(f"your role ({role}) in {found.name} does not allow this")
        return Page(me, found, role, me.who.grants.get(found.id))

    return dependency


NAVIGATION: tuple[tuple[str, str, ConsolePermission], ...] = (
    ("Dashboard", "", "dashboard.read"),
    ("Members", "/members", "members.read"),
    ("Messages", "/messages", "messages.read"),
    ("Staff", "/staff", "staff.manage"),
    ("Audit log", "/audit", "audit.read"),
)


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    me: Staff | None = None,
    at: Page | None = None,
    status: int = 200,
) -> Response:
    """Render a console page with the layout's context and the security headers."""
    box = container(request)
    me = me or (at.staff if at else None)
    flash_cookie = request.cookies.get(security.FLASH_COOKIE)
    flash = tokens(box).unsign(flash_cookie) if flash_cookie else None
    nav = []
    if at is not None:
        nav = [
            {
                "label": label,
                "href": at.base + (path or "/"),
                "current": _current(request, at, path),
            }
            for label, path, permission in NAVIGATION
            if at.may(permission)
        ]
    layout = {
        "me": me,
        "at": at,
        "program": at.program if at else None,
        "tz": at.program.timezone if at else "UTC",
        "currency": at.program.currency if at else "USD",
        "nav": nav,
        "token": me.form_token() if me else "",
        "flash": flash,
        "path": request.url.path,
    }
    response = HTMLResponse(render(template, {**layout, **context}), status_code=status)
    if flash_cookie:
        security.clear_cookie(response, security.FLASH_COOKIE, secure=secure(request))
    return response


def _current(request: Request, at: Page, path: str) -> bool:
    here = request.url.path.removeprefix(at.base).rstrip("/")
    return here == path if not path else here.startswith(path)
