"""Signing in to the portal: asking for a link by email, using a link, signing out.

- ``GET /login`` asks for an email; ``POST /login`` rate-limits the request (per email and per
  client address, bucket ``portal_sign_in``), records it (``portal.request_by_email``: one row,
  whoever holds the address; the worker mints and emails the link when an active member does)
  and always answers the same redirect to the same "check your email" page. The page tells
  nothing of whether an address is enrolled, by its words or by its time: the request does the
  same work for every address.
- ``GET /sign-in/{token}`` of a link minted for single sign-on (``sso``) signs in at once: the
  merchant's site sends the shopper straight there. An emailed link shows a one-button page that
  posts the token: mail scanners that fetch every link must not spend it. A used, expired or
  unknown link answers a page that says so, with the form to ask for a new one.
- ``POST /logout`` ends the session.
"""

from __future__ import annotations

from fastapi import Depends
from starlette.responses import RedirectResponse, Response

from patron.domain.identifiers import email_key
from patron.portal.deps import (
    SESSION_COOKIE,
    FormRefused,
    Site,
    Visit,
    address,
    page,
    signed_in,
    site,
    tokens,
)
from patron.portal.forms import form_data, redirect
from patron.portal.routing import router as make_router
from patron.services import portal
from patron.services.transactions import run_in_transaction, run_read

router = make_router()


def _check_form(at: Site, form: dict[str, str]) -> None:
    if tokens(at.box).verify(form.get("token", ""), at.form_binding()) is None:
        raise FormRefused(at.words.t("form_expired"))


@router.get("/login")
def login_page(at: Site = Depends(site), ref: str = "") -> Response:
    return page(at, "login.html", {"title": at.words.t("login_title"), "ref": ref[:20]})


@router.post("/login")
def login(form: dict[str, str] = Depends(form_data), at: Site = Depends(site)) -> Response:
    _check_form(at, form)
    email = form.get("email", "").strip()[:320]
    key = email_key(email) if email else None
    if key is None:
        return page(
            at,
            "login.html",
            {"title": at.words.t("login_title"), "ref": "", "error": at.words.t("email_invalid")},
            status=422,
        )
    at.box.limiter.hit("portal_sign_in", key=key, address=address(at.request))
    run_in_transaction(
        at.uow, lambda uow: portal.request_by_email(uow, at.box.clock, at.program, email)
    )
    response = RedirectResponse(f"{at.base}/login/sent", status_code=303)
    at.set_cookie(response, "patron_portal_email", email, 600)
    return response


@router.get("/login/sent")
def sent(at: Site = Depends(site)) -> Response:
    email = at.request.cookies.get("patron_portal_email", "")
    return page(at, "sent.html", {"title": at.words.t("sent_title"), "email": email})


def _refused(at: Site, reason: str) -> Response:
    titles = {
        "used": "link_used",
        "expired": "link_expired",
        "member": "link_member",
    }
    title = at.words.t(titles.get(reason, "link_unknown"))
    return page(at, "link_refused.html", {"title": title, "ref": ""}, status=410)


def _open(at: Site, token: str) -> Response:
    try:
        opened = run_in_transaction(
            at.uow, lambda uow: portal.open_session(uow, at.box.clock, at.program, token)
        )
    except portal.LinkNotValid as error:
        return _refused(at, error.reason)
    response = RedirectResponse(f"{at.base}/", status_code=303)
    seconds = int((opened.session.expires_at - at.box.clock.now()).total_seconds())
    at.set_cookie(response, SESSION_COOKIE, opened.token, max(seconds, 1))
    if opened.link.return_url:
        at.set_cookie(response, "patron_portal_return", opened.link.return_url, max(seconds, 1))
    return response


@router.get("/sign-in/{token}")
def use_link(token: str, at: Site = Depends(site)) -> Response:
    link = run_read(at.uow, lambda uow: portal.peek(uow, at.program, token))
    if link is not None and link.source == "sso":
        return _open(at, token)
    if link is None:
        return _refused(at, "unknown")
    if link.used_at is not None:
        return _refused(at, "used")
    if at.box.clock.now() >= link.expires_at:
        return _refused(at, "expired")
    return page(at, "link.html", {"title": at.words.t("link_title"), "link_token": token})


@router.post("/sign-in/{token}")
def use_link_post(
    token: str, form: dict[str, str] = Depends(form_data), at: Site = Depends(site)
) -> Response:
    _check_form(at, form)
    return _open(at, token)


@router.post("/logout")
def logout(
    form: dict[str, str] = Depends(form_data), visit: Visit = Depends(signed_in)
) -> Response:
    visit.nonce(form)
    at = visit.site
    run_in_transaction(at.uow, lambda uow: portal.sign_out(uow, at.box.clock, visit.session))
    response = redirect(at, f"{at.base}/login", at.words.t("signed_out"))
    at.clear_cookie(response, SESSION_COOKIE)
    at.clear_cookie(response, "patron_portal_return")
    return response
