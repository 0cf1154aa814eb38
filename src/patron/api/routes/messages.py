"""Messages (SPEC §11): templates per event and channel, preview, test send, a member's message
log and resend. One-click unsubscribe lives in ``patron.api.unsubscribe`` (no API key)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from patron.api.deps import ProgramCaller, in_program
from patron.api.pagination import decode_cursor, limit_param, page
from patron.api.rendering import JsonResponse, Timestamp, rfc3339_or_none
from patron.api.schemas import Page
from patron.api.writes import answer, idempotency_of, respond, response_of
from patron.domain import messages as rules
from patron.services import message_templates, messages
from patron.services.message_templates import Template
from patron.services.ports import Message, UnitOfWork
from patron.services.programs import load_config
from patron.services.transactions import (
    Outcome,
    claim_for_steps,
    complete_steps,
    run_in_transaction,
    run_read,
)

router = APIRouter(prefix="/v1/programs/{program}", tags=["messages"])

Subject = Annotated[str, StringConstraints(max_length=rules.SUBJECT_MAX)]
Body = Annotated[str, StringConstraints(max_length=rules.BODY_MAX)]
MemberRef = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: Subject | None = None
    body: Body
    category: Literal["transactional", "marketing"]
    active: bool = True


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member: MemberRef | None = Field(None, description="render with this member's values")
    subject: Subject | None = Field(None, description="a draft subject (with `body`)")
    body: Body | None = Field(None, description="a draft body to render instead of the saved one")


class TestSendIn(PreviewIn):
    to: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]


class TemplateOut(BaseModel):
    event: str
    channel: str
    subject: str | None
    body: str
    category: str
    active: bool
    custom: bool
    variables: dict[str, str]
    updated_at: Timestamp | None
    updated_by: str | None


class TemplateList(BaseModel):
    items: list[TemplateOut]


class PreviewOut(BaseModel):
    subject: str | None
    body: str
    html: str | None
    category: str


class TestSendOut(BaseModel):
    status: str
    detail: str | None


class MessageOut(BaseModel):
    id: str
    event: str
    channel: str
    category: str
    status: str
    reason: str | None
    to: str | None
    subject: str | None
    body: str | None
    attempts: int
    created_at: Timestamp
    sent_at: Timestamp | None
    next_attempt_at: Timestamp | None
    detail: str | None
    resend_of: str | None


class MessagePage(Page):
    items: list[MessageOut]


def template_out(t: Template) -> dict[str, Any]:
    return {
        "event": t.event,
        "channel": t.channel,
        "subject": t.subject,
        "body": t.body,
        "category": t.category,
        "active": t.active,
        "custom": t.custom,
        "variables": rules.variables(t.event),
        "updated_at": rfc3339_or_none(t.updated_at),
        "updated_by": t.updated_by,
    }


def message_out(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "event": m.event,
        "channel": m.channel,
        "category": m.category,
        "status": m.status,
        "reason": m.reason,
        "to": m.to_address,
        "subject": m.subject,
        "body": m.body,
        "attempts": m.attempts,
        "created_at": rfc3339_or_none(m.created_at),
        "sent_at": rfc3339_or_none(m.sent_at),
        "next_attempt_at": rfc3339_or_none(m.next_attempt_at) if m.status == "queued" else None,
        "detail": m.detail,
        "resend_of": m.resend_of,
    }


@router.get("/message-templates", response_model=TemplateList)
def list_templates(who: ProgramCaller = Depends(in_program("messages.read"))) -> Response:
    """Every (event, channel) pair: the program's own template, or Patron's default in the
    program's locale (``custom: false``), with the variables it may use."""

    def read(uow: UnitOfWork) -> list[Template]:
        return message_templates.all_templates(uow, who.program, load_config(uow, who.program))

    return JsonResponse({"items": [template_out(t) for t in run_read(who.uow, read)]})


@router.put("/message-templates/{event}/{channel}", response_model=TemplateOut)
def put_template(
    event: str,
    channel: str,
    body: TemplateIn,
    request: Request,
    who: ProgramCaller = Depends(in_program("messages.manage")),
) -> Response:
    """Save the template; a template using anything but its documented variables, or with a
    syntax error, is refused with the line of each error."""

    def action(uow: UnitOfWork) -> dict[str, Any]:
        saved = message_templates.save(
            uow,
            who.program,
            who.actor,
            who.container.clock.now(),
            event,
            channel,
            subject=body.subject,
            body=body.body,
            category=body.category,
            active=body.active,
        )
        return template_out(saved)

    return respond(request, who, action, lambda r: r, status=200, body=body.model_dump(mode="json"))


@router.post("/message-templates/{event}/{channel}/preview", response_model=PreviewOut)
def preview(
    event: str,
    channel: str,
    request: Request,
    body: PreviewIn | None = None,
    who: ProgramCaller = Depends(in_program("messages.read")),
) -> Response:
    """Render with a member's values or sample data; nothing is sent or stored."""
    wanted = body or PreviewIn()

    def action(uow: UnitOfWork) -> messages.Rendered:
        return messages.preview(
            uow,
            who.program,
            who.container.clock.now(),
            event,
            channel,
            base_url=who.container.settings.base_url(),
            member_id=wanted.member,
            subject=wanted.subject,
            body=wanted.body,
        )

    return answer(
        request,
        who,
        action,
        lambda r: {"subject": r.subject, "body": r.body, "html": r.html, "category": r.category},
        body=wanted.model_dump(mode="json"),
    )


@router.post("/message-templates/{event}/{channel}/test", response_model=TestSendOut)
def send_test(
    event: str,
    channel: str,
    body: TestSendIn,
    request: Request,
    who: ProgramCaller = Depends(in_program("messages.manage")),
) -> Response:
    """Send the template (or a draft) now to ``to``, rendered as a preview; the member's log is
    untouched and the send is audited. 409 ``no_transport`` when the channel has none. With an
    ``Idempotency-Key`` a retry answers the first answer without sending again."""
    message_templates.check_pair(event, channel)
    idempotency = idempotency_of(request, who, body.model_dump(mode="json"))
    box = who.container
    if idempotency is not None:
        replay = run_in_transaction(
            who.uow, lambda uow: claim_for_steps(uow, box.clock, idempotency)
        )
        if replay is not None:
            return response_of(replay)
    result = messages.send_test(
        who.uow,
        who.program,
        who.actor,
        box.clock.now(),
        box.outlets(),
        event,
        channel,
        to=body.to,
        member_id=body.member,
        subject=body.subject,
        body=body.body,
    )
    outcome = Outcome(200, {"status": result.status, "detail": result.detail})
    if idempotency is not None:
        run_in_transaction(who.uow, lambda uow: complete_steps(uow, idempotency, outcome))
    return response_of(outcome)


@router.get("/members/{member}/messages", response_model=MessagePage)
def member_messages(
    member: str,
    who: ProgramCaller = Depends(in_program("messages.read")),
    limit: int = Depends(limit_param),
    cursor: str | None = None,
) -> Response:
    """Every message to the member, newest first: sent, skipped (with the reason), failed, or
    queued (held for quiet hours, retrying)."""
    before = decode_cursor(cursor)

    def read(uow: UnitOfWork) -> list[Message]:
        return messages.member_log(
            uow, who.program, member, limit=limit + 1, before=str(before) if before else None
        )

    found = run_read(who.uow, read)
    return JsonResponse(page(found, limit=limit, position=lambda m: m.id, render=message_out))


@router.post(
    "/members/{member}/messages/{message}/resend", status_code=201, response_model=MessageOut
)
def resend(
    member: str,
    message: str,
    request: Request,
    who: ProgramCaller = Depends(in_program("messages.manage")),
) -> Response:
    """Queue a copy of the message; it goes through every send-time check again."""

    def action(uow: UnitOfWork) -> dict[str, Any]:
        now: datetime = who.container.clock.now()
        return message_out(messages.resend(uow, who.program, who.actor, now, member, message))

    return respond(request, who, action, lambda r: r, status=201)
