"""Running a use case as one transaction: idempotency keys, retries, and the single commit.

Every write goes through :func:`run_write`. It opens a unit of work, claims the request's
idempotency key *inside the same transaction* as the change (``INSERT ... ON CONFLICT DO
NOTHING`` on a unique key), runs the use case, stores the rendered answer beside the key and
commits once. Consequences:

- a replay (same key, same fingerprint) finds the stored answer and returns it unchanged;
- a different request under a used key is refused with ``IdempotencyConflict`` and changes nothing;
- duplicates that arrive at the same moment serialise on the key: on PostgreSQL the second
  ``INSERT`` waits for the first transaction and then sees its committed answer; on SQLite the
  single writer orders them;
- a use case that fails rolls back its key with everything else, so the same request may be sent
  again (it changed nothing the first time);
- deadlocks, serialization failures, lock time-outs and lost connections (``RetryableError``)
  re-run the whole use case, a bounded number of times, and never reach a client as a 500;
  reads (:func:`run_read`) are retried the same way.

Each runner takes an optional ``program_id``: the transaction then runs on the factory scoped to
that program (``UnitOfWorkFactory.scoped``), which on PostgreSQL lets the database itself refuse
every other program's rows. A factory that is already scoped (the one a program's API caller
carries) keeps its scope.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from patron.domain.errors import IdempotencyConflict, IdempotencyInProgress, PatronError
from patron.services.ports import Clock, RetryableError, UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")

MAX_ATTEMPTS = 8


class StorageBusy(PatronError):
    """Transient failures outlasted every retry (the caller may try again)."""

    code = "storage_busy"
    title = "Storage is busy, try again"


@dataclass(frozen=True, slots=True)
class IdempotencyRequest:
    scope: str  # whose keys these are (the API key's id)
    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: Any
    replayed: bool = False


def run_write(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    action: Callable[[UnitOfWork], T],
    render: Callable[[T], Outcome],
    idempotency: IdempotencyRequest | None = None,
    *,
    program_id: str | None = None,
) -> Outcome:
    """Run ``action`` in one committed transaction and return its rendered outcome.

    Raises: IdempotencyConflict, IdempotencyInProgress, StorageBusy, and whatever the action raises.
    """

    def attempt(uow: UnitOfWork) -> Outcome:
        if idempotency is not None:
            stored = uow.idempotency.claim(
                idempotency.scope, idempotency.key, idempotency.fingerprint, clock.now()
            )
            if stored is not None:
                return _replay(stored, idempotency)
        outcome = render(action(uow))
        if idempotency is not None:
            uow.idempotency.complete(
                idempotency.scope, idempotency.key, outcome.status, outcome.body
            )
        uow.commit()
        return outcome

    factory = _scoped(uow_factory, program_id)
    return with_retries(lambda: _in_uow(factory, attempt))


def claim_for_steps(
    uow: UnitOfWork, clock: Clock, idempotency: IdempotencyRequest
) -> Outcome | None:
    """Claim an idempotency key for a write that spans several transactions (a bulk grant runs
    in batches) in the first of them; :func:`complete_steps` stores the answer in the last.

    Returns the stored answer to replay, or None to go on: the key is new, or an earlier request
    with the same fingerprint claimed it and has not finished (it crashed, or is still running).
    Going on then resumes that same request, so this is only for writes whose every step is
    idempotent on its own (a grant credits each member under a ledger key).

    Raises: IdempotencyConflict (another request under this key).
    """
    stored = uow.idempotency.claim(
        idempotency.scope, idempotency.key, idempotency.fingerprint, clock.now()
    )
    if stored is None:
        return None
    if stored.fingerprint != idempotency.fingerprint:
        raise IdempotencyConflict(
            "this Idempotency-Key was already used with a different request", key=idempotency.key
        )
    if stored.status is None:
        return None
    return Outcome(status=stored.status, body=stored.body, replayed=True)


def complete_steps(uow: UnitOfWork, idempotency: IdempotencyRequest, outcome: Outcome) -> None:
    """Store the answer of a write claimed by :func:`claim_for_steps`."""
    uow.idempotency.complete(idempotency.scope, idempotency.key, outcome.status, outcome.body)


def run_in_transaction(
    uow_factory: UnitOfWorkFactory,
    action: Callable[[UnitOfWork], T],
    *,
    program_id: str | None = None,
) -> T:
    """Run a write without an idempotency key (CLI, jobs): one transaction, retried."""

    def attempt(uow: UnitOfWork) -> T:
        result = action(uow)
        uow.commit()
        return result

    factory = _scoped(uow_factory, program_id)
    return with_retries(lambda: _in_uow(factory, attempt))


def run_read(
    uow_factory: UnitOfWorkFactory,
    action: Callable[[UnitOfWork], T],
    *,
    program_id: str | None = None,
) -> T:
    """Run a read-only use case in one (never committed) transaction, retried like a write:
    a read that lost its connection (a terminated session, a failover) is simply run again."""

    def attempt() -> T:
        with _scoped(uow_factory, program_id)(write=False) as uow:
            return action(uow)

    return with_retries(attempt)


def _scoped(uow_factory: UnitOfWorkFactory, program_id: str | None) -> UnitOfWorkFactory:
    return uow_factory if program_id is None else uow_factory.scoped(program_id)


def with_retries(call: Callable[[], T]) -> T:
    for attempt in range(MAX_ATTEMPTS):
        try:
            return call()
        except RetryableError:
            # Jittered backoff lets the competing transaction finish before we run again.
            time.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311
    raise StorageBusy("the database stayed busy; please retry the request")


def _in_uow(uow_factory: UnitOfWorkFactory, attempt: Callable[[UnitOfWork], T]) -> T:
    with uow_factory(write=True) as uow:
        return attempt(uow)


def _replay(stored: Any, request: IdempotencyRequest) -> Outcome:
    if stored.fingerprint != request.fingerprint:
        raise IdempotencyConflict(
            "this Idempotency-Key was already used with a different request",
            key=request.key,
        )
    if stored.status is None:
        raise IdempotencyInProgress("the first request with this key has not finished")
    return Outcome(status=stored.status, body=stored.body, replayed=True)
