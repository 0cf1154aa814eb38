"""Campaigns: time-boxed, audience-targeted rules, their cancellation and results."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from patron.api.deps import ProgramCaller, in_program
from patron.api.rendering import JsonResponse, rfc3339
from patron.api.responses import CampaignOut
from patron.api.writes import respond
from patron.services import campaigns
from patron.services.ledger import Context
from patron.services.ports import Campaign, UnitOfWork
from patron.services.transactions import run_read

router = APIRouter(prefix="/v1/programs/{program}/campaigns", tags=["campaigns"])
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class AudienceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tiers: Annotated[list[Text], Field(min_length=1, max_length=50)] | None = None
    segments: Annotated[list[Text], Field(min_length=1, max_length=100)] | None = None


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Text
    start: AwareDatetime
    end: AwareDatetime
    audience: AudienceIn = AudienceIn()
    rules: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=50)]
    budget: Annotated[StrictInt, Field(ge=1)] | None = None


class CampaignPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text | None = None
    end: AwareDatetime | None = None
    status: Literal["cancelled"] | None = None


def _render(ctx: Context, c: Campaign) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name,
        "start": rfc3339(c.start),
        "end": rfc3339(c.end),
        "audience": c.audience,
        "rules": c.rules,
        "budget": c.budget,
        "status": c.status,
        "results": campaigns.results(ctx, c),
    }


@router.post("", status_code=201, response_model=CampaignOut)
def create(
    body: CampaignIn, request: Request, who: ProgramCaller = Depends(in_program("config.write"))
) -> Response:
    def action(uow: UnitOfWork) -> dict[str, Any]:
        ctx = Context(uow, who.container.clock, who.actor, who.program)
        fields = body.model_dump()
        fields["audience"] = body.audience.model_dump(exclude_none=True)
        return _render(ctx, campaigns.create(ctx, fields))

    return respond(request, who, action, lambda r: r, status=201, body=body.model_dump(mode="json"))


@router.patch("/{code}", response_model=CampaignOut)
def patch(
    code: str,
    body: CampaignPatch,
    request: Request,
    who: ProgramCaller = Depends(in_program("config.write")),
) -> Response:
    changes = body.model_dump(exclude_none=True)

    def action(uow: UnitOfWork) -> dict[str, Any]:
        ctx = Context(uow, who.container.clock, who.actor, who.program)
        return _render(ctx, campaigns.update(ctx, code, changes))

    return respond(request, who, action, lambda r: r, status=200, body=body.model_dump(mode="json"))


@router.get("/{code}", response_model=CampaignOut)
def get(code: str, who: ProgramCaller = Depends(in_program("members.read"))) -> Response:
    def read(uow: UnitOfWork) -> dict[str, Any]:
        ctx = Context(uow, who.container.clock, who.actor, who.program)
        return _render(ctx, campaigns.get(ctx, code))

    return JsonResponse(run_read(who.uow, read))
