"""Staff accounts and their roles per program (SPEC §9; API.md Part 2, "Staff users").

``patron staff create`` (and the console's Staff screen) calls :func:`create`: it makes the
account, or finds it by email, gives it its role in a program (or, for an owner without a program,
every program), and issues a one-time link, valid 24 hours, where the person sets a password. The
link's token is shown once and stored only as its SHA-256 digest.

Every change is audited with its actor: the CLI, or the staff user who made it.

Support users adjust within limits (:func:`charge_adjustment`): the per-adjustment limit, and a
daily count kept per staff user and program day in ``staff_daily_usage``, added to in the
adjustment's own transaction, so two concurrent adjustments cannot both slip under the limit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from patron.domain.audit import Actor
from patron.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from patron.domain.identifiers import normalize_email
from patron.domain.ids import new_id
from patron.domain.programs import Program
from patron.domain.staff import (
    DAILY_LIMIT_FACTOR,
    DEFAULT_SUPPORT_LIMIT,
    ROLES,
    StaffGrant,
    StaffRole,
    StaffUser,
)
from patron.services import audit
from patron.services.ports import Clock, UnitOfWork

LINK_HOURS = 24
SET_PASSWORD = "set_password"  # noqa: S105  # a link purpose, not a password
MIN_PASSWORD = 12
MAX_PASSWORD = 1024


class LimitExceeded(Forbidden):
    """A support user's adjustment above its limits."""

    code = "support_limit_exceeded"
    title = "Above your adjustment limit"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Created:
    user: StaffUser
    link_token: str
    new: bool


def create(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    *,
    email: str,
    role: str,
    program: Program | None,
    name: str | None = None,
    support_limit: int | None = None,
    support_daily_limit: int | None = None,
) -> Created:
    """Create (or find) the staff user, give it ``role`` in ``program`` and issue a link."""
    errors: list[FieldError] = []
    if role not in ROLES:
        errors.append(FieldError("role", f"one of {', '.join(ROLES)}"))
    if program is None and role != "owner":
        errors.append(FieldError("program", "only an owner may hold every program"))
    errors.extend(_limit_errors(support_limit, support_daily_limit))
    try:
        shown, key = normalize_email(email)
    except ValidationFailed as error:
        errors.extend(error.errors)
        shown = key = ""
    if errors:
        raise ValidationFailed(errors)
    now = clock.now()
    found = uow.staff.credentials(key)
    if found is None:
        user = StaffUser(
            id=new_id(),
            email=shown,
            name=(name or shown.split("@")[0]).strip()[:200],
            every_program=program is None,
            has_password=False,
            totp_enabled=False,
            status="active",
            created_at=now,
        )
        uow.staff.add(user)
        audit.record(
            uow,
            program_id=program.id if program else None,
            actor=actor,
            action="staff.created",
            target=("staff", user.id),
            at=now,
            after={"email": user.email, "name": user.name, "every_program": user.every_program},
        )
    else:
        user = found.user
        if program is None and not user.every_program:
            uow.staff.update(user.id, now, every_program=True)
    role_of: StaffRole = role  # type: ignore[assignment]  # checked against ROLES above
    if program is not None:
        limit = support_limit or DEFAULT_SUPPORT_LIMIT
        grant = StaffGrant(
            program_id=program.id,
            staff_id=user.id,
            role=role_of,
            support_limit=limit,
            support_daily_limit=support_daily_limit or limit * DAILY_LIMIT_FACTOR,
        )
        uow.staff.put_grant(grant, now)
        audit.record(
            uow,
            program_id=program.id,
            actor=actor,
            action="staff.role_granted",
            target=("staff", user.id),
            at=now,
            after={
                "role": role,
                "support_limit": grant.support_limit,
                "support_daily_limit": grant.support_daily_limit,
            },
        )
    token = issue_link(uow, now, user.id)
    return Created(uow.staff.get(user.id) or user, token, found is None)


def issue_link(uow: UnitOfWork, now: datetime, staff_id: str) -> str:
    """A new one-time set-password link for the staff user (the token, shown once)."""
    token = secrets.token_urlsafe(32)
    uow.staff.add_link(
        digest(token), staff_id, SET_PASSWORD, now, now + timedelta(hours=LINK_HOURS)
    )
    return token


def _limit_errors(support_limit: int | None, support_daily_limit: int | None) -> list[FieldError]:
    return [
        FieldError(path, "a whole number of points from 1 to 10,000,000")
        for path, value in (
            ("support_limit", support_limit),
            ("support_daily_limit", support_daily_limit),
        )
        if value is not None and not 0 < value <= 10_000_000
    ]


def grant_in(uow: UnitOfWork, program: Program, staff_id: str) -> tuple[StaffUser, StaffGrant]:
    """A staff user and its role in the program. Raises: NotFound (no role there, so another
    program's staff stay unseen)."""
    user = uow.staff.get(staff_id)
    grant = next((g for g in uow.staff.grants_in(program.id) if g.staff_id == staff_id), None)
    if user is None or grant is None:
        raise NotFound("no such staff user in this program")
    return user, grant


def _not_yourself(actor: Actor, staff_id: str, what: str) -> None:
    if actor.kind == "user" and actor.id == staff_id:
        raise Conflict(f"you cannot {what} yourself; ask another owner")


def change(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    program: Program,
    staff_id: str,
    *,
    role: str,
    support_limit: int | None = None,
    support_daily_limit: int | None = None,
) -> StaffGrant:
    """Change a staff user's role in the program and its support limits (audited, with the
    before and after). Raises: NotFound, ValidationFailed, Conflict (one's own role)."""
    errors = _limit_errors(support_limit, support_daily_limit)
    if role not in ROLES:
        errors.insert(0, FieldError("role", f"one of {', '.join(ROLES)}"))
    if errors:
        raise ValidationFailed(errors)
    _user, old = grant_in(uow, program, staff_id)
    _not_yourself(actor, staff_id, "change the role of")
    limit = support_limit or old.support_limit
    grant = StaffGrant(
        program_id=program.id,
        staff_id=staff_id,
        role=role,  # type: ignore[arg-type]  # checked against ROLES above
        support_limit=limit,
        support_daily_limit=support_daily_limit or max(old.support_daily_limit, limit),
    )
    now = clock.now()
    uow.staff.put_grant(grant, now)
    fields = ("role", "support_limit", "support_daily_limit")
    before, after = audit.changed(
        {k: getattr(old, k) for k in fields}, {k: getattr(grant, k) for k in fields}
    )
    audit.record(
        uow,
        program_id=program.id,
        actor=actor,
        action="staff.role_changed",
        target=("staff", staff_id),
        at=now,
        before=before,
        after=after,
    )
    return grant


def remove(uow: UnitOfWork, clock: Clock, actor: Actor, program: Program, staff_id: str) -> None:
    """Take the staff user's role in the program away (its sessions lose the program at once).

    Raises: NotFound (no role there), Conflict (one's own role).
    """
    _user, old = grant_in(uow, program, staff_id)
    _not_yourself(actor, staff_id, "remove")
    uow.staff.remove_grant(program.id, staff_id)
    audit.record(
        uow,
        program_id=program.id,
        actor=actor,
        action="staff.role_removed",
        target=("staff", staff_id),
        at=clock.now(),
        before={"role": old.role},
    )


def password_errors(password: str, confirm: str, email: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if len(password) < MIN_PASSWORD:
        errors.append(FieldError("password", f"use at least {MIN_PASSWORD} characters"))
    elif len(password) > MAX_PASSWORD:
        errors.append(FieldError("password", f"use at most {MAX_PASSWORD} characters"))
    elif password.casefold() == email.casefold():
        errors.append(FieldError("password", "do not use your email as the password"))
    if confirm != password:
        errors.append(FieldError("confirm", "the two passwords differ"))
    return errors


def charge_adjustment(
    uow: UnitOfWork, program: Program, grant: StaffGrant | None, amount: int, at: datetime
) -> None:
    """Refuse a support user's adjustment above its limits; count it towards the day's.

    Other roles (and owners of every program, who have no grant) adjust without limits.
    Raises: LimitExceeded.
    """
    if grant is None or grant.role != "support":
        return
    size = abs(amount)
    if size > grant.support_limit:
        raise LimitExceeded(
            f"{size:,} points is above your limit of {grant.support_limit:,} points per "
            "adjustment; ask a manager to make it"
        )
    day = at.astimezone(ZoneInfo(program.timezone)).date()
    total = uow.staff.add_daily_usage(program.id, grant.staff_id, day, size)
    if total > grant.support_daily_limit:
        left = grant.support_daily_limit - (total - size)
        raise LimitExceeded(
            f"this would bring today's adjustments to {total:,} points, above your daily limit "
            f"of {grant.support_daily_limit:,} ({max(left, 0):,} left today); ask a manager"
        )
