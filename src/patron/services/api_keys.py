"""Use cases of API keys: issue, list and revoke them, authenticate a presented key, and keep
its ``last_used_at``.

``last_used_at`` is kept to the minute: authentication reads it with the key (no extra
statement), and only when it is a minute old or more does the API write the new time, in a
transaction of its own (:func:`note_use`), conditionally, so several processes write it once. A
key in steady use costs one small write a minute, not one per request.

A revoked key is refused from the next request on: every request reads its key from the
database (there is no key cache to outlive a revocation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from patron.domain.audit import Actor
from patron.domain.errors import ApiKeyNotFound, FieldError, Unauthenticated, ValidationFailed
from patron.domain.ids import new_id
from patron.domain.keys import PROGRAM_ROLES, ApiKey, Role, generate_key, matches, prefix_of
from patron.domain.programs import Program
from patron.services import audit
from patron.services.ports import Clock, UnitOfWork

TOUCH_EVERY = timedelta(minutes=1)
"""How stale ``last_used_at`` may get before a request writes it again."""


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    secret: str  # the whole key: shown once, never stored


def issue_key(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    *,
    program: Program | None,
    name: str,
    role: Role,
) -> IssuedKey:
    """Create a key for ``program`` (or a platform key when ``program`` is None).

    Raises: ValidationFailed.
    """
    errors: list[FieldError] = []
    if not name.strip() or len(name) > 100:
        errors.append(FieldError("name", "1 to 100 characters", "length"))
    if program is None and role != "platform":
        errors.append(FieldError("role", "a key without a program must be a platform key", "enum"))
    if program is not None and role not in PROGRAM_ROLES:
        errors.append(FieldError("role", f"must be one of {', '.join(PROGRAM_ROLES)}", "enum"))
    if errors:
        raise ValidationFailed(errors)
    generated = generate_key()
    now = clock.now()
    key = ApiKey(
        id=new_id(),
        program_id=program.id if program else None,
        name=name.strip(),
        role=role,
        prefix=generated.prefix,
        created_at=now,
    )
    uow.api_keys.add(key, generated.digest)
    audit.record(
        uow,
        program_id=key.program_id,
        actor=actor,
        action="api_key.created",
        target=("api_key", key.id),
        at=now,
        after={"name": key.name, "role": key.role, "prefix": key.prefix},
    )
    return IssuedKey(key, generated.secret)


def revoke(uow: UnitOfWork, clock: Clock, actor: Actor, key: ApiKey) -> None:
    """Revoke ``key``: it answers 401 from then on."""
    now = clock.now()
    uow.api_keys.revoke(key.id, now)
    audit.record(
        uow,
        program_id=key.program_id,
        actor=actor,
        action="api_key.revoked",
        target=("api_key", key.id),
        at=now,
        after={"name": key.name, "role": key.role, "prefix": key.prefix},
    )


def authenticate(uow: UnitOfWork, secret: str) -> ApiKey:
    """The live key matching ``secret``.

    Raises: Unauthenticated.
    """
    prefix = prefix_of(secret)
    found = uow.api_keys.by_prefix(prefix) if prefix else None
    if found is None or not matches(secret, found[1]) or found[0].revoked_at is not None:
        raise Unauthenticated("the API key is missing, malformed, unknown or revoked")
    return found[0]


def needs_touch(key: ApiKey, now: datetime) -> bool:
    """Whether a request at ``now`` should write the key's ``last_used_at``."""
    return key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY


def note_use(uow: UnitOfWork, key: ApiKey, now: datetime) -> bool:
    """Record that ``key`` was used at ``now``, unless a request of the last minute did."""
    return uow.api_keys.touch(key.id, now, unless_since=now - TOUCH_EVERY)


def list_keys(
    uow: UnitOfWork, program: Program | None, *, after: str | None, limit: int
) -> Sequence[ApiKey]:
    """The program's keys (every key, platform keys too, without a program), revoked ones
    included, oldest first."""
    if program is None:
        return uow.api_keys.every(after=after, limit=limit)
    return uow.api_keys.of_program(program.id, after=after, limit=limit)


def revoke_key(
    uow: UnitOfWork, clock: Clock, actor: Actor, key_id: str, *, program: Program | None
) -> ApiKey:
    """Revoke a key of ``program`` (any key, platform keys too, when None): it is refused (401)
    from the next request on. Revoking a revoked key changes nothing. Returns the key as it was
    before (``revoked_at`` set when it already was revoked).

    Raises: ApiKeyNotFound (also for a key of another program).
    """
    found = uow.api_keys.get(key_id)
    if found is None or (program is not None and found.program_id != program.id):
        where = " in this program" if program is not None else ""
        raise ApiKeyNotFound(f"no API key {key_id!r}{where}")
    if found.revoked_at is not None:
        return found
    now = clock.now()
    uow.api_keys.revoke(found.id, now)
    audit.record(
        uow,
        program_id=found.program_id,
        actor=actor,
        action="api_key.revoked",
        target=("api_key", found.id),
        at=now,
        before={"revoked_at": None},
        after={
            "name": found.name,
            "role": found.role,
            "prefix": found.prefix,
            "revoked_at": now.isoformat(),
        },
    )
    return found
