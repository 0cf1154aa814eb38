"""The audit trail of a program (admin keys only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import AwareDatetime

from patron.api.deps import ProgramCaller, in_program
from patron.api.pagination import decode_cursor, limit_param, page
from patron.api.rendering import JsonResponse
from patron.api.schemas import AuditOut, AuditPage
from patron.services import audit
from patron.services.ports import AuditFilter
from patron.services.transactions import run_read

router = APIRouter(prefix="/v1/programs/{program}/audit-log", tags=["audit"])


@router.get("", response_model=AuditPage)
def audit_log(
    who: ProgramCaller = Depends(in_program("audit.read")),
    target_type: str | None = None,
    target_id: str | None = None,
    action: str | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: int = Depends(limit_param),
    cursor: str | None = None,
) -> Response:
    before = decode_cursor(cursor)
    where = AuditFilter(
        target_type=target_type, target_id=target_id, action=action, since=since, until=until
    )
    records = run_read(
        who.uow,
        lambda uow: audit.list_audit(
            uow,
            who.program.id,
            where,
            before=int(before) if before is not None else None,
            limit=limit + 1,
        ),
    )
    return JsonResponse(
        page(records, limit=limit, position=lambda r: r.id or 0, render=AuditOut.of)
    )
