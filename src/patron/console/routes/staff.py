"""The Staff screen of a program (owners only, ``staff.manage``): who may use the console here,
with which role and support limits; invite, change, sign out everywhere, remove.

An invitation goes through ``services.staff.create`` — the same use case as ``patron staff
create`` — with the owner as actor, and answers a one-time set-password link. That link is shown
once, on the page the form redirects to, and is never stored: it travels in a short-lived cookie
sealed (AES-GCM) to the owner's session, which the page reads and clears. A double submit of the
invitation replays the redirect without running the use case again, so it issues no second link
and the page then says the link was already shown.

Owners of every program (``patron staff create --role owner`` without ``--program``) are listed
too but changed only from the command line.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.exceptions import InvalidTag
from fastapi import Depends, Request
from starlette.responses import Response

from patron.console import security
from patron.console.deps import Page, in_program, page
from patron.console.forms import Done, field_errors, form_data, perform_in
from patron.console.routing import router as make_router
from patron.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from patron.domain.staff import ROLES, StaffGrant, StaffUser
from patron.services import staff, staff_sessions
from patron.services.ports import UnitOfWork
from patron.services.sealing import Sealer
from patron.services.transactions import run_read

router = make_router("/console/programs/{program}/staff")

LINK_COOKIE = "patron_console_link"
LINK_SECONDS = 300


def _sealer(at: Page) -> Sealer:
    return Sealer(at.box.settings.fingerprint_key(), purpose="patron console one-time link")


def _members(at: Page) -> list[tuple[StaffUser, StaffGrant | None]]:
    """The program's staff: its grants, then the owners of every program (grant None)."""

    def read(uow: UnitOfWork) -> list[tuple[StaffUser, StaffGrant | None]]:
        found: list[tuple[StaffUser, StaffGrant | None]] = []
        for grant in uow.staff.grants_in(at.program.id):
            user = uow.staff.get(grant.staff_id)
            if user is not None:
                found.append((user, grant))
        held = {u.id for u, _ in found}
        found += [(u, None) for u in uow.staff.every() if u.every_program and u.id not in held]
        return sorted(found, key=lambda pair: pair[0].email.casefold())

    return run_read(at.uow, read)


def _one(at: Page, staff_id: str) -> tuple[StaffUser, StaffGrant | None]:
    for user, grant in _members(at):
        if user.id == staff_id:
            return user, grant
    raise NotFound("no such staff user in this program")


def _number(form: dict[str, str], name: str, errors: list[FieldError]) -> int | None:
    text = form.get(name, "").replace(",", "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        errors.append(FieldError(name, "a whole number of points, like 500"))
        return None


def _limits(form: dict[str, str]) -> tuple[int | None, int | None]:
    errors: list[FieldError] = []
    limit = _number(form, "support_limit", errors)
    daily = _number(form, "support_daily_limit", errors)
    if errors:
        raise ValidationFailed(errors)
    return limit, daily


def _list(
    request: Request,
    at: Page,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    link: dict[str, str] | None = None
    sealed = request.cookies.get(LINK_COOKIE)
    if sealed:
        try:
            held = json.loads(_sealer(at).open(sealed))
        except (ValueError, InvalidTag):  # a forged or stale cookie shows nothing
            held = {}
        if held.get("session") == at.staff.who.session.id and held.get("token"):
            url = f"{at.box.settings.base_url()}/console/set-password/{held['token']}"
            link = {"url": url, "email": str(held.get("email", ""))}
    response = page(
        request,
        "staff.html",
        {
            "title": "Staff",
            "people": _members(at),
            "roles": ROLES,
            "values": values or {"role": "viewer"},
            "errors": errors or {},
            "problem": problem,
            "link": link,
            "now": at.box.clock.now(),
        },
        at=at,
        status=status,
    )
    if sealed:
        security.clear_cookie(response, LINK_COOKIE, secure=at.box.settings.cookies_secure())
    return response


@router.get("")
def staff_list(request: Request, at: Page = Depends(in_program("staff.manage"))) -> Response:
    return _list(request, at)


@router.post("")
def invite(
    request: Request,
    at: Page = Depends(in_program("staff.manage")),
    form: dict[str, str] = Depends(form_data),
) -> Response:
    issued: list[dict[str, str]] = []

    def action(uow: UnitOfWork) -> staff.Created:
        limit, daily = _limits(form)
        made = staff.create(
            uow,
            at.box.clock,
            at.staff.actor,
            email=form.get("email", ""),
            name=form.get("name", "").strip() or None,
            role=form.get("role", ""),
            program=at.program,
            support_limit=limit,
            support_daily_limit=daily,
        )
        issued.append(
            {"session": at.staff.who.session.id, "email": made.user.email, "token": made.link_token}
        )
        return made

    def done(made: staff.Created) -> Done:
        verb = "Invited" if made.new else "Gave a role to"
        return Done(
            f"{at.base}/staff",
            f"{verb} {made.user.email} as {form.get('role')}.",
        )

    try:
        response = perform_in(request, at, form, action, done)
    except ValidationFailed as error:
        values = {k: v for k, v in form.items() if k != "token"}
        return _list(request, at, values=values, errors=field_errors(error), status=422)
    if issued:
        security.set_cookie(
            response,
            LINK_COOKIE,
            _sealer(at).seal(json.dumps(issued[0])),
            secure=at.box.settings.cookies_secure(),
            max_age=LINK_SECONDS,
        )
    return response


def _person(
    request: Request,
    at: Page,
    staff_id: str,
    *,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    user, grant = _one(at, staff_id)
    now = at.box.clock.now()
    sessions = run_read(at.uow, lambda uow: uow.staff.sessions_of(user.id))
    live = [s for s in sessions if s.revoked_at is None and s.expires_at > now]
    context: dict[str, Any] = {
        "title": user.name,
        "person": user,
        "grant": grant,
        "live": live,
        "roles": ROLES,
        "errors": errors or {},
        "problem": problem,
        "yourself": user.id == at.staff.who.user.id,
    }
    return page(request, "staff_member.html", context, at=at, status=status)


@router.get("/{staff_id}")
def person(
    staff_id: str, request: Request, at: Page = Depends(in_program("staff.manage"))
) -> Response:
    return _person(request, at, staff_id)


def _act(
    request: Request,
    at: Page,
    staff_id: str,
    form: dict[str, str],
    action: Any,
    message: str,
    *,
    location: str | None = None,
) -> Response:
    try:
        user, grant = _one(at, staff_id)
        email = user.email
    except NotFound:  # gone already: a resent form still answers what the first post did
        email, grant = staff_id, StaffGrant(at.program.id, staff_id, "viewer")
    if grant is None:
        return _person(
            request,
            at,
            staff_id,
            problem="This owner holds every program; change it with the patron command.",
            status=409,
        )
    try:
        return perform_in(
            request,
            at,
            form,
            action,
            lambda _: Done(
                location or f"{at.base}/staff/{staff_id}",
                message.format(email=email, program=at.program.name),
            ),
        )
    except ValidationFailed as error:
        return _person(request, at, staff_id, errors=field_errors(error), status=422)
    except Conflict as error:
        return _person(request, at, staff_id, problem=str(error), status=409)


@router.post("/{staff_id}/access")
def change_access(
    staff_id: str,
    request: Request,
    at: Page = Depends(in_program("staff.manage")),
    form: dict[str, str] = Depends(form_data),
) -> Response:
    def action(uow: UnitOfWork) -> StaffGrant:
        limit, daily = _limits(form)
        return staff.change(
            uow,
            at.box.clock,
            at.staff.actor,
            at.program,
            staff_id,
            role=form.get("role", ""),
            support_limit=limit,
            support_daily_limit=daily,
        )

    return _act(request, at, staff_id, form, action, "Saved the role and limits of {email}.")


@router.post("/{staff_id}/end-sessions")
def end_sessions(
    staff_id: str,
    request: Request,
    at: Page = Depends(in_program("staff.manage")),
    form: dict[str, str] = Depends(form_data),
) -> Response:
    return _act(
        request,
        at,
        staff_id,
        form,
        lambda uow: staff_sessions.revoke_all(
            uow, at.box.clock, at.staff.actor, at.program.id, staff_id
        ),
        "Signed {email} out everywhere.",
    )


@router.post("/{staff_id}/remove")
def remove(
    staff_id: str,
    request: Request,
    at: Page = Depends(in_program("staff.manage")),
    form: dict[str, str] = Depends(form_data),
) -> Response:
    return _act(
        request,
        at,
        staff_id,
        form,
        lambda uow: staff.remove(uow, at.box.clock, at.staff.actor, at.program, staff_id),
        "Removed {email} from {program}.",
        location=f"{at.base}/staff",
    )
