"""A member's referrals: who they referred, and what became of each."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from patron.api.deps import ProgramCaller, in_program
from patron.api.rendering import JsonResponse, rfc3339, rfc3339_or_none
from patron.api.responses import ReferralPage
from patron.services import members
from patron.services.ports import UnitOfWork
from patron.services.transactions import run_read

router = APIRouter(prefix="/v1/programs/{program}/members/{member}", tags=["referrals"])


@router.get("/referrals", response_model=ReferralPage)
def referrals(member: str, who: ProgramCaller = Depends(in_program("members.read"))) -> Response:
    """Referrals made by the member: pending, completed, refused or reversed, with the reason."""

    def read(uow: UnitOfWork) -> list[dict[str, Any]]:
        members.get_member(uow, who.program, member)
        return [
            {
                "id": r.id,
                "referee_id": r.referee_id,
                "status": r.status,
                "reason": r.reason,
                "purchase": r.purchase,
                "created_at": rfc3339(r.created_at),
                "completed_at": rfc3339_or_none(r.completed_at),
            }
            for r in uow.referrals.of_referrer(member)
        ]

    return JsonResponse({"items": run_read(who.uow, read), "next_cursor": None})
