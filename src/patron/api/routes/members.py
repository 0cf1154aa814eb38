"""Members: enrol, read, find by any identifier, update; export and erase (privacy); a portal
sign-in link for single sign-on (docs/portal.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from patron.api.deps import ProgramCaller, in_program
from patron.api.guards import member_reference, throttle, unknown_referral_code
from patron.api.ledger_schemas import EntryOut
from patron.api.pagination import decode_cursor, encode_cursor, limit_param, page
from patron.api.rendering import JsonResponse, rfc3339
from patron.api.schemas import MemberOut, MemberPage
from patron.api.writes import respond
from patron.domain.access import require
from patron.domain.errors import FieldError, ValidationFailed
from patron.schemas.members import MemberCreate, MemberPatch, consent_inputs
from patron.services import enrolment, member_search, members, portal, privacy
from patron.services.balances import EntryView, MemberView, member_views
from patron.services.ledger import Context
from patron.services.ports import UnitOfWork
from patron.services.programs import load_config
from patron.services.transactions import run_read

router = APIRouter(prefix="/v1/programs/{program}/members", tags=["members"])


@router.post("", status_code=201, response_model=MemberOut)
def enrol(
    body: MemberCreate, request: Request, who: ProgramCaller = Depends(in_program("members.write"))
) -> Response:
    cmd = body.to_command()

    def action(uow: UnitOfWork) -> MemberView:
        member = enrolment.enrol(uow, who.container.clock, who.actor, who.program, cmd)
        return member_views(uow, who.program, [member], now=who.container.clock.now())[0]

    with member_reference(
        who, request, by_identifier=body.referred_by is not None, miss=unknown_referral_code
    ):
        return respond(
            request, who, action, who.render_member, status=201, body=body.model_dump(mode="json")
        )


@router.get("", response_model=MemberPage)
def find(
    request: Request,
    who: ProgramCaller = Depends(in_program("members.read")),
    email: str | None = None,
    phone: str | None = None,
    external_id: str | None = None,
    card_number: str | None = None,
    referral_code: str | None = None,
    tier: str | None = None,
    status: str | None = Query(None, pattern="^(active|frozen|closed|erased)$"),
    q: str | None = Query(
        None,
        max_length=200,
        description="search: any identifier, or name prefixes (docs/members.md, Search)",
    ),
    limit: int = Depends(limit_param),
    cursor: str | None = None,
) -> Response:
    if q is not None:
        return _search(
            who,
            q,
            (email, phone, external_id, card_number, referral_code, tier, status),
            limit=limit,
            cursor=cursor,
        )
    if any(v is not None for v in (email, phone, external_id, card_number, referral_code)):
        throttle(who, request, "member_lookups")
    else:  # every profile, page by page: a bulk read, not a lookup
        require(who.key.role, "members.list")
    after = decode_cursor(cursor)
    where = members.lookup_filter(
        who.program,
        email=email,
        phone=phone,
        external_id=external_id,
        card_number=card_number,
        referral_code=referral_code,
        tier=tier,
        status=status,
    )
    if where is None:  # a value no member can have, such as an impossible phone number
        return JsonResponse({"items": [], "next_cursor": None})
    found = run_read(
        who.uow,
        lambda uow: member_views(
            uow,
            who.program,
            members.find_members(uow, who.program, where, after=after, limit=limit + 1),
            now=who.container.clock.now(),
        ),
    )
    return JsonResponse(
        page(found, limit=limit, position=lambda v: v.member.id, render=who.render_member)
    )


def _search(
    who: ProgramCaller, q: str, filters: tuple[str | None, ...], *, limit: int, cursor: str | None
) -> Response:
    """``?q=``: a search reads names in bulk, so it needs ``members.list``; it takes no other
    filter (the query itself says what it looks for)."""
    require(who.key.role, "members.list")
    if any(v is not None for v in filters):
        raise ValidationFailed([FieldError("q", "a search takes no other filter", "exclusive")])
    after = decode_cursor(cursor)
    if after is not None and not isinstance(after, str):
        raise ValidationFailed([FieldError("cursor", "not a cursor of this list", "cursor")])

    def read(uow: UnitOfWork) -> tuple[list[MemberView], str | None]:
        found = member_search.matches(uow, who.program, q, limit=limit, after=after)
        now = who.container.clock.now()
        return member_views(uow, who.program, found.members, now=now), found.next

    views, after_last = run_read(who.uow, read)
    return JsonResponse(
        {
            "items": [who.render_member(v) for v in views],
            "next_cursor": encode_cursor(after_last) if after_last else None,
        }
    )


@router.get("/{member}", response_model=MemberOut)
def get(member: str, who: ProgramCaller = Depends(in_program("members.read"))) -> Response:
    found = run_read(
        who.uow,
        lambda uow: member_views(
            uow,
            who.program,
            [members.get_member(uow, who.program, member)],
            now=who.container.clock.now(),
        ),
    )
    return JsonResponse(who.render_member(found[0]))


@router.patch("/{member}", response_model=MemberOut)
def update(
    member: str,
    body: MemberPatch,
    request: Request,
    who: ProgramCaller = Depends(in_program("members.write")),
) -> Response:
    changes = body.model_dump(exclude_unset=True)
    if "status" in changes:
        require(who.key.role, "members.status")
    if "consents" in changes:
        changes["consents"] = consent_inputs(body.consents)

    def action(uow: UnitOfWork) -> MemberView:
        updated = members.update_member(
            uow, who.container.clock, who.actor, who.program, member, changes
        )
        return member_views(uow, who.program, [updated], now=who.container.clock.now())[0]

    return respond(
        request,
        who,
        action,
        who.render_member,
        status=200,
        body=body.model_dump(mode="json", exclude_unset=True),
    )


@router.get("/{member}/export")
def export(member: str, who: ProgramCaller = Depends(in_program("members.export"))) -> Response:
    """Everything Patron holds about the member (docs/members.md, "Export"); admin keys only."""

    def read(uow: UnitOfWork) -> tuple[MemberView, dict[str, Any]]:
        found = members.get_member(uow, who.program, member)
        now = who.container.clock.now()
        return member_views(uow, who.program, [found], now=now)[0], privacy.export(
            uow, who.program, found.id, now
        )

    view, document = run_read(who.uow, read)
    head = {k: document[k] for k in ("format", "exported_at", "program")}
    return JsonResponse({**head, "member": who.render_member(view), **document})


@dataclass(frozen=True, slots=True)
class _Erased:
    done: privacy.Erasure
    view: MemberView
    closed: list[EntryView]

    @property
    def replayed(self) -> bool:
        """A second erasure changed nothing, so the audit trail gets no second record."""
        return self.done.already


@router.post("/{member}/erase")
def erase(
    member: str, request: Request, who: ProgramCaller = Depends(in_program("members.erase"))
) -> Response:
    """Erase the member's personal data and close its balances (docs/members.md, "Erasure");
    a second erasure answers the same way and changes nothing. Admin keys only."""

    def action(uow: UnitOfWork) -> _Erased:
        ctx = Context(uow, who.container.clock, who.actor, who.program)
        done = privacy.erase(ctx, member)
        wallets = load_config(uow, who.program).wallets
        closed = [
            EntryView(e, e.wallet in wallets and wallets[e.wallet].is_money) for e in done.entries
        ]
        views = member_views(uow, who.program, [done.member], now=who.container.clock.now())
        return _Erased(done, views[0], closed)

    def render(result: _Erased) -> dict[str, Any]:
        exponent = who.program.currency_exponent
        return {
            "member": who.render_member(result.view),
            "erased_at": rfc3339(result.done.erased_at),
            "already_erased": result.done.already,
            "entries": [EntryOut.of(entry, exponent) for entry in result.closed],
        }

    return respond(request, who, action, render, status=200)


class PortalLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    return_url: str | None = Field(
        None,
        max_length=500,
        description="an absolute https URL the portal offers as a way back to the merchant's "
        "site (shown as a link, never redirected to)",
    )


class PortalLinkOut(BaseModel):
    url: str = Field(description="the one-time sign-in link (works once, for 15 minutes)")
    expires_at: str


@router.post("/{member}/portal-link", status_code=201, response_model=PortalLinkOut)
def portal_link(
    member: str,
    request: Request,
    body: PortalLinkIn | None = None,
    who: ProgramCaller = Depends(in_program("members.portal_link")),
) -> Response:
    """A one-time sign-in link to the member portal for a signed-in shopper of the merchant's
    site (single sign-on, docs/portal.md). Admin and POS keys."""
    wanted = body or PortalLinkIn()

    def action(uow: UnitOfWork) -> portal.Minted:
        return portal.mint(
            uow,
            who.container.clock,
            who.actor,
            who.program,
            member,
            source="sso",
            base_url=who.container.settings.base_url(),
            return_url=wanted.return_url,
        )

    def render(minted: portal.Minted) -> dict[str, Any]:
        return {"url": minted.url, "expires_at": rfc3339(minted.link.expires_at)}

    return respond(request, who, action, render, status=201, body=wanted.model_dump(mode="json"))
