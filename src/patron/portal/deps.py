"""Who is asking: the program of the path (:class:`Site`) and the member signed in to it
(:class:`Visit`).

- The program comes from the path's slug; an unknown slug is a 404 page. Everything is read
  through units of work scoped to it (row-level security on PostgreSQL).
- Finding the program also notes, in ``request.state.frame_ancestors``, the origins its
  configuration lets frame the portal (``portal.embed_origins``, the launcher's panel): the
  portal's header middleware (``app.py``) sends them as ``frame-ancestors`` on every response of
  the program's pages, error pages included. A response of no program (a static file, an unknown
  program) keeps ``frame-ancestors 'none'``.
- The session cookie ``patron_portal`` has the program's path (``/portal/{slug}``), so a browser
  may hold sessions of several programs and none is sent to another program's pages. It is
  ``HttpOnly``, ``SameSite=Lax``, ``Secure`` when the public URL is https (or the request came
  over https), and lives at most as long as the session (30 days).
- Every request checks the session (live, not signed out) and its member (still active): a
  frozen, closed or erased member is signed out at once.
- Forms carry a token bound to the session (or, on the sign-in pages, to a pre-session cookie):
  ``patron.web_security.Tokens`` under the portal's own derived key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.responses import HTMLResponse, Response

from patron import web_security
from patron.bootstrap import Container
from patron.domain.config.document import ProgramConfig
from patron.domain.errors import NotFound
from patron.domain.members import Member
from patron.domain.portal import PortalSession
from patron.domain.programs import Program
from patron.portal.i18n import Words
from patron.portal.templating import render
from patron.services import portal, programs
from patron.services.ports import UnitOfWork, UnitOfWorkFactory
from patron.services.programs import load_config
from patron.services.transactions import run_read
from patron.web_security import FormRefused as FormRefused
from patron.web_security import PageNotFound as PageNotFound
from patron.web_security import SignInRequired as SignInRequired

SESSION_COOKIE = "patron_portal"
FORM_COOKIE = "patron_portal_form"
FLASH_COOKIE = "patron_portal_flash"


def container(request: Request) -> Container:
    found: Container = request.app.state.container
    return found


def tokens(box: Container) -> web_security.Tokens:
    cached = getattr(box, "_portal_tokens", None)
    if cached is None:
        cached = web_security.Tokens(box.settings.fingerprint_key(), "patron portal forms")
        object.__setattr__(box, "_portal_tokens", cached)
    return cached


def secure(request: Request) -> bool:
    return container(request).settings.cookies_secure() or request.url.scheme == "https"


def address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass
class Site:
    """A program's portal: the program, its configuration, its words."""

    box: Container
    request: Request
    program: Program
    config: ProgramConfig
    words: Words

    @property
    def uow(self) -> UnitOfWorkFactory:
        return self.box.uow.scoped(self.program.id)

    @property
    def base(self) -> str:
        return f"/portal/{self.program.slug}"

    @property
    def theme_url(self) -> str:
        """The program's colours (``routes/launcher.py``), versioned so it is cached for good."""
        return f"{self.base}/theme.css?v={self.program.config_version}"

    @property
    def public_base(self) -> str:
        return self.box.settings.base_url()

    def set_cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        web_security.set_cookie(
            response, name, value, path=self.base, secure=secure(self.request), max_age=max_age
        )

    def clear_cookie(self, response: Response, name: str) -> None:
        web_security.clear_cookie(response, name, path=self.base, secure=secure(self.request))

    def flash(self, response: Response, text: str) -> None:
        self.set_cookie(response, FLASH_COOKIE, tokens(self.box).sign(text), 120)

    def form_binding(self) -> str:
        """The pre-session cookie a sign-in form is bound to (made when missing)."""
        return self.request.cookies.get(FORM_COOKIE) or ""


def site(program: str, request: Request) -> Site:
    box = container(request)

    def read(uow: UnitOfWork) -> tuple[Program, ProgramConfig]:
        found = programs.get_program(uow, program)
        return found, load_config(uow, found)

    try:
        found, config = run_read(box.uow, read)
    except NotFound:
        raise PageNotFound("no such program") from None
    words = Words(config.locale or "en", found.timezone, found.currency)
    request.state.frame_ancestors = tuple(config.portal_settings.embed_origins)
    return Site(box, request, found, config, words)


@dataclass
class Visit:
    """A signed-in member on its program's portal."""

    site: Site
    session: PortalSession
    member: Member

    @property
    def box(self) -> Container:
        return self.site.box

    @property
    def program(self) -> Program:
        return self.site.program

    @property
    def words(self) -> Words:
        return self.site.words

    def form_token(self) -> str:
        return tokens(self.box).issue(self.session.id)

    def nonce(self, form: dict[str, str]) -> str:
        """The nonce of the form's token. Raises: FormRefused (missing, forged, foreign)."""
        found = tokens(self.box).verify(form.get("token", ""), self.session.id)
        if found is None:
            raise FormRefused(self.words.t("form_expired"))
        return found


def signed_in(request: Request, at: Site = Depends(site)) -> Visit:
    token = request.cookies.get(SESSION_COOKIE, "")
    login = f"{at.base}/login"
    if not token:
        raise SignInRequired(login)
    now = at.box.clock.now()
    found = run_read(at.uow, lambda uow: portal.authenticate(uow, at.program, token, now))
    if found is None:
        raise SignInRequired(login)
    return Visit(at, found[0], found[1])


def page(
    at: Site,
    template: str,
    context: dict[str, Any],
    *,
    visit: Visit | None = None,
    status: int = 200,
    current: str = "",
) -> Response:
    """Render a portal page with the layout's context."""
    request = at.request
    flash_cookie = request.cookies.get(FLASH_COOKIE)
    flash = tokens(at.box).unsign(flash_cookie) if flash_cookie else None
    binding = None
    token = ""
    if visit is not None:
        token = visit.form_token()
    else:
        binding = at.form_binding() or secrets.token_urlsafe(18)
        token = tokens(at.box).issue(binding)
    w = at.words
    layout = {
        "t": w.t,
        "w": w,
        "lang": w.locale,
        "program": at.program,
        "base": at.base,
        "theme": at.theme_url,
        "brand": at.config.portal_settings.brand_color,
        "visit": visit,
        "token": token,
        "flash": flash,
        "current": current,
        "quote": lambda text: quote(text, safe=""),
    }
    response = HTMLResponse(render(template, {**layout, **context}), status_code=status)
    if flash_cookie:
        at.clear_cookie(response, FLASH_COOKIE)
    if binding is not None and binding != at.form_binding():
        at.set_cookie(response, FORM_COOKIE, binding, 3600)
    return response
