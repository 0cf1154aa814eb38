"""Recording and reading the audit trail.

Use cases whose change deserves a richer record than the API's generic one (a before/after of
the fields that changed) call :func:`record` themselves; every other successful write through
the API is recorded once by ``patron.api.writes.respond``, which sees that the use case already
recorded and then adds nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from patron.domain.audit import Actor, AuditRecord
from patron.domain.timestamps import rfc3339
from patron.services.ports import AuditFilter, UnitOfWork


def record(
    uow: UnitOfWork,
    *,
    program_id: str | None,
    actor: Actor,
    action: str,
    target: tuple[str, str],
    at: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add one audit record to the current transaction."""
    uow.audit.add(
        AuditRecord(
            program_id=program_id,
            actor=actor,
            action=action,
            target_type=target[0],
            target_id=target[1],
            at=at,
            before=before,
            after=after,
        )
    )


def list_audit(
    uow: UnitOfWork, program_id: str, where: AuditFilter, *, before: int | None, limit: int
) -> Sequence[AuditRecord]:
    """Audit records of a program, newest first."""
    return uow.audit.find(program_id, where, before=before, limit=limit)


def jsonable(value: Any) -> Any:
    """``value`` as JSON data: moments as RFC 3339 UTC (``domain.timestamps``), dates as
    ``YYYY-MM-DD``, decimals as strings."""
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def changed(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before, after) restricted to the fields whose values differ, as JSON data."""
    names = sorted(k for k in after if before.get(k) != after.get(k))
    return (
        {k: jsonable(before.get(k)) for k in names},
        {k: jsonable(after[k]) for k in names},
    )
