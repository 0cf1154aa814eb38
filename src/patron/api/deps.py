"""Request context: the container, the caller's key, and the program it may act on.

Order of checks, as API.md fixes it: no or unknown key → 401; a program the key does not belong
to (or that does not exist) → 404, so keys learn nothing about other tenants; a role that may not
do this → 403.

A :class:`ProgramCaller` carries a unit-of-work factory scoped to its program (``who.uow``): every
transaction a program route runs through it is confined to that program by the database as well
as by the repositories' filters (row-level security on PostgreSQL). Authenticating the key and
resolving the ``{program}`` of the path happen before the program is known, so they run unscoped.

Authentication keeps the key's ``last_used_at`` to the minute: the key is read with its
``last_used_at``, and only a request that finds it a minute old writes the new time, in a small
transaction of its own (``services.api_keys``). A revoked key is refused from its next request on.

Before any key is checked, a client address that sent too many unknown keys is refused with 429
(``auth_failures`` in ``patron.adapters.ratelimit``): only failures count, successful
authentications are neither counted nor delayed, and once the address is over the limit a right
key is refused like a wrong one, so keys cannot be guessed by trying.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from patron.api.schemas import MemberOut
from patron.bootstrap import Container
from patron.domain.access import Permission, require
from patron.domain.audit import Actor
from patron.domain.errors import ProgramNotFound, Unauthenticated
from patron.domain.keys import ApiKey
from patron.domain.programs import Program
from patron.services import api_keys, programs
from patron.services.balances import MemberView
from patron.services.ports import UnitOfWork, UnitOfWorkFactory
from patron.services.transactions import StorageBusy, run_in_transaction, run_read

T = TypeVar("T")

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer pat_...`")


def container(request: Request) -> Container:
    found: Container = request.app.state.container
    return found


def scoped_to(request: Request, program_id: str) -> UnitOfWorkFactory:
    """Units of work in one program's scope, for a route that knows its program from something
    other than an API key (a one-click unsubscribe token names it)."""
    return container(request).uow.scoped(program_id)


@dataclass(frozen=True, slots=True)
class Caller:
    key: ApiKey
    container: Container

    @property
    def actor(self) -> Actor:
        return Actor(kind="api_key", id=self.key.id, name=self.key.name)

    @property
    def uow(self) -> UnitOfWorkFactory:
        """Units of work for this caller's requests (unscoped: platform-wide work)."""
        return self.container.uow


@dataclass(frozen=True, slots=True)
class ProgramCaller(Caller):
    program: Program

    @property
    def uow(self) -> UnitOfWorkFactory:
        """Units of work scoped to the caller's program."""
        return self.container.uow.scoped(self.program.id)

    def render_member(self, view: MemberView) -> dict[str, Any]:
        return MemberOut.of(view, self.program.currency_exponent)


def client_address(request: Request) -> str:
    """The client's address: the peer, or what a trusted proxy forwarded (uvicorn's
    ``--forwarded-allow-ips`` decides whom to trust)."""
    return request.client.host if request.client else "unknown"


def _authenticated(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    box: Container,
    then: Callable[[UnitOfWork], T],
) -> tuple[ApiKey, T]:
    """The caller's key, and ``then`` read in the same transaction (one round of the pool and
    one transaction per request for both, instead of one each)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
    address = client_address(request)
    box.limiter.check("auth_failures", address=address)
    secret = credentials.credentials

    def read(uow: UnitOfWork) -> tuple[ApiKey, T]:
        key = api_keys.authenticate(uow, secret)  # first: an unknown key is 401, never 404
        return key, then(uow)

    try:
        found = run_read(box.uow, read)
    except Unauthenticated:
        box.limiter.hit("auth_failures", address=address)
        raise
    _note_use(box, found[0])
    return found


def _note_use(box: Container, key: ApiKey) -> None:
    """Keep the key's ``last_used_at`` to the minute: a write only when it is a minute old
    (``services.api_keys``), so requests in between cost nothing more. Best effort: a busy
    database does not fail the request for it."""
    now = box.clock.now()
    if not api_keys.needs_touch(key, now):
        return
    with contextlib.suppress(StorageBusy):
        run_in_transaction(box.uow, lambda uow: api_keys.note_use(uow, key, now))


def caller(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    box: Container = Depends(container),
) -> Caller:
    key, _ = _authenticated(request, credentials, box, lambda uow: None)
    return Caller(key=key, container=box)


def platform(permission: Permission) -> Callable[..., Caller]:
    """Dependency: a caller whose key may do ``permission`` outside any program."""

    def dependency(who: Caller = Depends(caller)) -> Caller:
        require(who.key.role, permission)
        return who

    return dependency


def in_program(permission: Permission) -> Callable[..., ProgramCaller]:
    """Dependency: the caller and the ``{program}`` of the path, checked in API.md's order."""

    def dependency(
        program: str,
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
        box: Container = Depends(container),
    ) -> ProgramCaller:
        key, found = _authenticated(
            request, credentials, box, lambda uow: programs.get_program(uow, program)
        )
        if key.program_id is not None and key.program_id != found.id:
            raise ProgramNotFound(f"no program {program!r}")
        require(key.role, permission)
        return ProgramCaller(key=key, container=box, program=found)

    return dependency
