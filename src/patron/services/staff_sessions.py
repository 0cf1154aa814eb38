"""Console sign-in: passwords, the TOTP second factor, sessions (SPEC §9, docs/console.md).

- **Passwords** are hashed with argon2id (argon2-cffi's defaults: memory-hard, salted); a hash made
  with older parameters is re-hashed at the next sign-in. An unknown email costs a verification
  against a dummy hash, so timing does not tell whether an account exists.
- **Sessions** are random 256-bit tokens kept in an ``HttpOnly`` cookie; the database holds only
  their SHA-256 digest. A session ends ``console_session_hours`` after sign-in, or after
  ``console_idle_minutes`` without use, or when revoked (sign-out, a new password, an owner).
  ``last_seen_at`` is written at most once a minute.
- **TOTP** (RFC 6238, 30-second steps, ±1 step of drift) is optional per user. With it, a password
  opens a session that can do nothing but enter the code; each code works once.
- Sign-in failures are counted by the entrypoint's rate limiter per account and per address.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from patron.domain.audit import Actor
from patron.domain.errors import FieldError, PatronError, ValidationFailed
from patron.domain.ids import new_id
from patron.domain.programs import Program
from patron.domain.staff import StaffGrant, StaffRole, StaffSession, StaffUser
from patron.services import audit
from patron.services.ports import Clock, UnitOfWork
from patron.services.sealing import Sealer
from patron.services.staff import SET_PASSWORD, digest, password_errors

HASHER = PasswordHasher()
_DUMMY = HASHER.hash(secrets.token_hex(16))
TOUCH_EVERY = timedelta(minutes=1)
ISSUER = "Patron"


class SignInFailed(PatronError):
    code = "sign_in_failed"
    title = "Sign-in failed"


class LinkNotValid(PatronError):
    code = "link_not_valid"
    title = "This link cannot be used"


@dataclass(frozen=True, slots=True)
class Policy:
    session_hours: float = 12
    idle_minutes: float = 120


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A signed-in staff user: the account, its session, and its roles per program."""

    user: StaffUser
    session: StaffSession
    grants: dict[str, StaffGrant]

    @property
    def actor(self) -> Actor:
        return Actor(kind="user", id=self.user.id, name=self.user.email)

    def role_in(self, program: Program) -> StaffRole | None:
        if self.user.every_program:
            return "owner"
        grant = self.grants.get(program.id)
        return grant.role if grant else None

    def may_see(self, program: Program) -> bool:
        return self.role_in(program) is not None


def actor_of(user: StaffUser) -> Actor:
    return Actor(kind="user", id=user.id, name=user.email)


def _open(
    uow: UnitOfWork, now: datetime, user: StaffUser, policy: Policy, address: str, agent: str
) -> tuple[StaffSession, str]:
    token = secrets.token_urlsafe(32)
    session = StaffSession(
        id=new_id(),
        staff_id=user.id,
        created_at=now,
        expires_at=now + timedelta(hours=policy.session_hours),
        last_seen_at=now,
        second_factor_pending=user.totp_enabled,
        address=address,
        user_agent=agent,
    )
    uow.staff.add_session(session, digest(token))
    return session, token


def sign_in(
    uow: UnitOfWork,
    clock: Clock,
    *,
    email: str,
    password: str,
    policy: Policy,
    address: str = "",
    agent: str = "",
) -> tuple[StaffSession, str]:
    """Check the password and open a session; the token goes into the cookie.

    Raises: SignInFailed (the same for an unknown email, a wrong password, a disabled account
    or one that has not set its password yet).
    """
    found = uow.staff.credentials(email.strip().casefold())
    stored = found.password_hash if found else None
    try:
        HASHER.verify(stored or _DUMMY, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        stored = None
    if found is None or stored is None or found.user.status != "active":
        raise SignInFailed("wrong email or password")
    now = clock.now()
    if HASHER.check_needs_rehash(stored):
        uow.staff.update(found.user.id, now, password_hash=HASHER.hash(password))
    session, token = _open(uow, now, found.user, policy, address, agent)
    if not session.second_factor_pending:
        _signed_in(uow, now, found.user)
    return session, token


def _signed_in(uow: UnitOfWork, now: datetime, user: StaffUser) -> None:
    uow.staff.update(user.id, now, last_sign_in_at=now)
    audit.record(
        uow,
        program_id=None,
        actor=actor_of(user),
        action="staff.signed_in",
        target=("staff", user.id),
        at=now,
    )


def pass_second_factor(
    uow: UnitOfWork, clock: Clock, sealer: Sealer, session: StaffSession, code: str
) -> None:
    """Accept the TOTP code of a session waiting for it. Raises: SignInFailed."""
    found = uow.staff.credentials_of(session.staff_id)
    if found is None or found.totp_secret is None:
        raise SignInFailed("this account has no second factor")
    now = clock.now()
    step = _verified_step(sealer.open(found.totp_secret), code, now)
    if step is None or not uow.staff.use_totp_step(found.user.id, step):
        raise SignInFailed("wrong or already used code")
    uow.staff.pass_second_factor(session.id)
    _signed_in(uow, now, found.user)


def _verified_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code ``code`` is (now ± one step), or None."""
    cleaned = code.replace(" ", "")
    totp = pyotp.TOTP(secret)
    for drift in (0, -1, 1):
        at = now + timedelta(seconds=30 * drift)
        if secrets.compare_digest(totp.at(at), cleaned):
            return int(at.timestamp()) // 30
    return None


def authenticate(
    uow: UnitOfWork, clock: Clock, token: str, policy: Policy
) -> tuple[StaffSession, StaffUser, dict[str, StaffGrant]] | None:
    """The live session of a cookie's token with its user and grants, or None."""
    session = uow.staff.session(digest(token))
    if session is None or session.revoked_at is not None:
        return None
    now = clock.now()
    if now >= session.expires_at or now - session.last_seen_at > timedelta(
        minutes=policy.idle_minutes
    ):
        return None
    user = uow.staff.get(session.staff_id)
    if user is None or user.status != "active":
        return None
    grants = {g.program_id: g for g in uow.staff.grants_of(user.id)}
    return session, user, grants


def needs_touch(session: StaffSession, now: datetime) -> bool:
    return now - session.last_seen_at >= TOUCH_EVERY


def sign_out(uow: UnitOfWork, clock: Clock, session: StaffSession) -> None:
    now = clock.now()
    if uow.staff.revoke_session(session.id, now):
        user = uow.staff.get(session.staff_id)
        audit.record(
            uow,
            program_id=None,
            actor=actor_of(user) if user else Actor("user", session.staff_id, session.staff_id),
            action="staff.signed_out",
            target=("staff", session.staff_id),
            at=now,
        )


def revoke(uow: UnitOfWork, clock: Clock, actor: Actor, staff_id: str, session_id: str) -> bool:
    """Revoke one of the staff user's sessions (its owner's or an owner's action)."""
    mine = {s.id for s in uow.staff.sessions_of(staff_id)}
    if session_id not in mine:
        return False
    now = clock.now()
    done = uow.staff.revoke_session(session_id, now)
    if done:
        audit.record(
            uow,
            program_id=None,
            actor=actor,
            action="staff.session_revoked",
            target=("staff", staff_id),
            at=now,
            after={"session": session_id},
        )
    return done


def revoke_all(
    uow: UnitOfWork, clock: Clock, actor: Actor, program_id: str | None, staff_id: str
) -> int:
    """Sign the staff user out of every session (an owner's action, audited in the program it
    was taken from); how many sessions ended."""
    now = clock.now()
    count = uow.staff.revoke_sessions(staff_id, now)
    audit.record(
        uow,
        program_id=program_id,
        actor=actor,
        action="staff.sessions_revoked",
        target=("staff", staff_id),
        at=now,
        after={"sessions": count},
    )
    return count


def link_holder(uow: UnitOfWork, clock: Clock, token: str) -> StaffUser:
    """The staff user of a live set-password link. Raises: LinkNotValid."""
    staff_id = uow.staff.link(digest(token), SET_PASSWORD, clock.now())
    user = uow.staff.get(staff_id) if staff_id else None
    if user is None or user.status != "active":
        raise LinkNotValid("this link has expired or was already used; ask an owner for a new one")
    return user


def set_password(
    uow: UnitOfWork,
    clock: Clock,
    *,
    token: str,
    password: str,
    confirm: str,
    policy: Policy,
    address: str = "",
    agent: str = "",
) -> tuple[StaffSession, str]:
    """Use a set-password link: store the new password, end every other session, sign in.

    Raises: LinkNotValid, ValidationFailed (the link stays usable then).
    """
    user = link_holder(uow, clock, token)
    errors = password_errors(password, confirm, user.email)
    if errors:
        raise ValidationFailed(errors)
    now = clock.now()
    if uow.staff.use_link(digest(token), SET_PASSWORD, now) is None:
        raise LinkNotValid("this link was just used; ask an owner for a new one")
    uow.staff.update(user.id, now, password_hash=HASHER.hash(password))
    uow.staff.revoke_sessions(user.id, now)
    audit.record(
        uow,
        program_id=None,
        actor=actor_of(user),
        action="staff.password_set",
        target=("staff", user.id),
        at=now,
    )
    fresh = uow.staff.get(user.id) or user
    return _open(uow, now, fresh, policy, address, agent)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def enable_totp(
    uow: UnitOfWork, clock: Clock, sealer: Sealer, user: StaffUser, secret: str, code: str
) -> None:
    """Turn the second factor on once the person shows a code of the new secret.

    Raises: ValidationFailed (field ``code``).
    """
    now = clock.now()
    step = _verified_step(secret, code, now)
    if step is None:
        raise ValidationFailed([FieldError("code", "that code does not match; try the next one")])
    uow.staff.update(user.id, now, totp_secret=sealer.seal(secret))
    uow.staff.use_totp_step(user.id, step)
    audit.record(
        uow,
        program_id=None,
        actor=actor_of(user),
        action="staff.totp_enabled",
        target=("staff", user.id),
        at=now,
    )


def disable_totp(uow: UnitOfWork, clock: Clock, user: StaffUser, actor: Actor) -> None:
    now = clock.now()
    uow.staff.update(user.id, now, totp_secret=None)
    audit.record(
        uow,
        program_id=None,
        actor=actor,
        action="staff.totp_disabled",
        target=("staff", user.id),
        at=now,
    )
