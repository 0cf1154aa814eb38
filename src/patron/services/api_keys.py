"""Use cases of API keys: issue one, revoke one, and authenticate a presented key."""

from __future__ import annotations

from dataclasses import dataclass

from patron.domain.audit import Actor
from patron.domain.errors import FieldError, Unauthenticated, ValidationFailed
from patron.domain.ids import new_id
from patron.domain.keys import PROGRAM_ROLES, ApiKey, Role, generate_key, matches, prefix_of
from patron.domain.programs import Program
from patron.services import audit
from patron.services.ports import Clock, UnitOfWork


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
