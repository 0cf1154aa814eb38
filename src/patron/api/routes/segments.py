"""Segments: saved member filters, and the members in them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, StringConstraints

from patron.api.deps import ProgramCaller, in_program
from patron.api.pagination import decode_cursor, limit_param, page
from patron.api.rendering import JsonResponse
from patron.api.responses import SegmentMembers, SegmentOut
from patron.api.writes import respond
from patron.services import segments
from patron.services.balances import MemberView, member_views
from patron.services.ledger import Context
from patron.services.ports import UnitOfWork
from patron.services.transactions import run_read

router = APIRouter(prefix="/v1/programs/{program}/segments", tags=["segments"])


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    filter: dict[str, Any]


@router.post("", status_code=201, response_model=SegmentOut)
def create(
    body: SegmentIn, request: Request, who: ProgramCaller = Depends(in_program("config.write"))
) -> Response:
    def action(uow: UnitOfWork) -> dict[str, Any]:
        ctx = Context(uow, who.container.clock, who.actor, who.program)
        made = segments.create(ctx, body.code, body.name, body.filter)
        return {"code": made.code, "name": made.name, "filter": made.filter}

    return respond(request, who, action, lambda r: r, status=201, body=body.model_dump(mode="json"))


@router.get("/{code}/members", response_model=SegmentMembers)
def members_of(
    code: str,
    who: ProgramCaller = Depends(in_program("members.list")),
    limit: int = Depends(limit_param),
    cursor: str | None = None,
) -> Response:
    """The members in the segment now (computed from their current facts)."""
    after = decode_cursor(cursor)

    def read(uow: UnitOfWork) -> list[MemberView]:
        ctx = Context(uow, who.container.clock, who.actor, who.program)
        found = segments.members_of(ctx, code, after=after, limit=limit + 1)
        return member_views(uow, who.program, found, now=ctx.clock.now())

    views = run_read(who.uow, read)
    return JsonResponse(
        page(views, limit=limit, position=lambda v: v.member.id, render=who.render_member)
    )
