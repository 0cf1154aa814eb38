"""Activity events: review posted, social follow, survey, check-in, any custom type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from patron.api.deps import ProgramCaller, in_program
from patron.api.guards import member_reference
from patron.api.ledger_schemas import render_balances
from patron.api.responses import EventResult
from patron.api.writes import REPLAYED, respond
from patron.domain.config.values import EVENT_TYPE_PATTERN
from patron.domain.rules import Event
from patron.schemas.members import Attributes
from patron.schemas.purchases import MemberRefIn, Text, by_identifier
from patron.schemas.timestamps import Timestamp
from patron.services import events, purchases
from patron.services.balances import WalletView, wallet_views
from patron.services.ledger import Context
from patron.services.ports import UnitOfWork
from patron.services.purchases import MemberRef

router = APIRouter(prefix="/v1/programs/{program}/events", tags=["events"])


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: Text
    member: Text | MemberRefIn = Field(description="the member id, or {external_id|email|...}")
    type: Annotated[str, StringConstraints(pattern=EVENT_TYPE_PATTERN)]
    occurred_at: Timestamp | None = None
    attributes: Attributes = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Answer:
    result: dict[str, Any]
    replayed: bool
    balances: dict[str, WalletView]


@router.post("", status_code=201, responses=REPLAYED, response_model=EventResult)
def record(
    body: EventIn, request: Request, who: ProgramCaller = Depends(in_program("events.write"))
) -> Response:
    """Record an activity event and award its rules; resending the same external_id answers 200."""
    document = body.model_dump(mode="json")
    digest = who.uow.fingerprint("event", "", document)

    def action(uow: UnitOfWork) -> _Answer:
        ctx = Context(uow, who.container.clock, who.actor, who.program)
        ref = (
            body.member.ref()
            if isinstance(body.member, MemberRefIn)
            else MemberRef("id", body.member)
        )
        member = purchases.find_member(uow, who.program, ref)
        moment = body.occurred_at or ctx.clock.now()
        event = Event(body.external_id, body.type, moment, body.attributes)
        done = events.record(ctx, member, event, fingerprint=digest)
        views = wallet_views(uow, who.program, [member.id], now=ctx.clock.now())[member.id]
        return _Answer(done.event.result, done.replayed, views)

    exponent = who.program.currency_exponent
    with member_reference(who, request, by_identifier=by_identifier(body.member)):
        return respond(
            request,
            who,
            action,
            lambda a: {**a.result, "balances": render_balances(a.balances, exponent)},
            status=lambda a: 200 if a.replayed else 201,
            body=document,
        )
