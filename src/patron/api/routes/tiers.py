"""A member's tier: progress, history, and staff overrides or paid tiers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, StrictBool, StringConstraints

from patron.api.deps import ProgramCaller, in_program
from patron.api.rendering import JsonResponse, rfc3339, rfc3339_or_none
from patron.api.responses import TierProgressOut
from patron.api.writes import respond
from patron.services import members, tiers
from patron.services.ledger import Context
from patron.services.ports import UnitOfWork
from patron.services.transactions import run_read

router = APIRouter(prefix="/v1/programs/{program}/members/{member}/tier", tags=["tiers"])


class TierGrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    until: AwareDatetime | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    paid: StrictBool = False


def _render(p: tiers.Progress, exponent: int) -> dict[str, Any]:
    def amount(value: Any) -> Any:
        if value is None:
            return None
        if p.tiers.metric == "spend":
            return f"{value:.{exponent}f}"
        return int(value)

    def level(code: str | None) -> dict[str, Any] | None:
        found = p.tiers.level(code) if code else None
        return (
            {"code": found.code, "name": found.name, "threshold": str(found.threshold)}
            if found
            else None
        )

    held = p.held
    return {
        "current": {
            **(level(p.current.code) or {}),
            "since": rfc3339(held.since) if held else None,
            "until": rfc3339(held.until) if held and held.until else None,
            "cause": held.cause if held else "base",
        },
        "next": level(p.next.code) if p.next else None,
        "metric": p.tiers.metric,
        "progress": amount(p.metric),
        "remaining": amount(p.remaining),
        "period_end": rfc3339_or_none(p.period_end),
        "to_keep_current": amount(p.keep_needs),
        "history": [
            {
                "at": rfc3339(h.at),
                "from": h.from_code,
                "to": h.to_code,
                "cause": h.cause,
                "reference": h.reference,
                "reason": h.reason,
                "actor": h.actor,
            }
            for h in p.history
        ],
    }


@router.get("", response_model=TierProgressOut)
def get(member: str, who: ProgramCaller = Depends(in_program("members.read"))) -> Response:
    """Current tier, next tier, the metric so far, what remains, the window's end, history."""

    def read(uow: UnitOfWork) -> tiers.Progress:
        members.get_member(uow, who.program, member)
        return tiers.progress(Context(uow, who.container.clock, who.actor, who.program), member)

    found = run_read(who.uow, read)
    return JsonResponse(_render(found, who.program.currency_exponent))


@router.post("", response_model=TierProgressOut)
def grant(
    member: str,
    body: TierGrantIn,
    request: Request,
    who: ProgramCaller = Depends(in_program("tiers.grant")),
) -> Response:
    """Override the member's tier until a date (or grant a paid tier with ``paid: true``)."""

    def action(uow: UnitOfWork) -> tiers.Progress:
        ctx = Context(uow, who.container.clock, who.actor, who.program)
        members.get_member(uow, who.program, member)
        tiers.grant(
            ctx, member, code=body.code, until=body.until, reason=body.reason, paid=body.paid
        )
        return tiers.progress(ctx, member)

    exponent = who.program.currency_exponent
    return respond(
        request,
        who,
        action,
        lambda p: _render(p, exponent),
        status=200,
        body=body.model_dump(mode="json"),
    )
