"""Recording and reading the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from patron.domain.audit import Actor, AuditRecord
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
