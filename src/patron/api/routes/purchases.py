"""Purchases: record (idempotent by external_id), preview, read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from patron.api.deps import ProgramCaller, in_program
from patron.api.guards import member_reference
from patron.api.purchase_schemas import render_refund, render_result
from patron.api.rendering import JsonResponse
from patron.api.responses import PurchaseDetail, PurchaseResult, RefundResult
from patron.api.writes import REPLAYED, answer, respond
from patron.domain.money import to_minor
from patron.schemas.purchases import MemberRefIn, PurchaseIn, RefundIn, Text, by_identifier
from patron.services import purchases, refunds
from patron.services.balances import TierView, WalletView, tier_view, wallet_views
from patron.services.ledger import Context
from patron.services.ports import HeldTier, UnitOfWork
from patron.services.transactions import run_read

router = APIRouter(prefix="/v1/programs/{program}/purchases", tags=["purchases"])


@dataclass(frozen=True, slots=True)
class _Answer:
    result: dict[str, Any]
    replayed: bool
    balances: dict[str, WalletView] | None
    tier: TierView | None = None


def _balances(
    uow: UnitOfWork, who: ProgramCaller, member_id: str | None
) -> dict[str, WalletView] | None:
    if member_id is None:
        return None
    return wallet_views(uow, who.program, [member_id], now=who.container.clock.now())[member_id]


def _answer(
    uow: UnitOfWork,
    who: ProgramCaller,
    result: dict[str, Any],
    *,
    replayed: bool = False,
    held: HeldTier | None = None,
) -> _Answer:
    """A PurchaseResult's answer: the member's balances and tier as they stand now (after the
    purchase; on a replay or a preview, as they are). ``held``: the tier the write just set."""
    member_id = result["member_id"]
    tier = tier_view(uow, who.program, member_id, held) if member_id is not None else None
    return _Answer(result, replayed, _balances(uow, who, member_id), tier)


def _respond_result(
    request: Request,
    who: ProgramCaller,
    action: Callable[[UnitOfWork], _Answer],
    document: dict[str, Any],
) -> Response:
    """Answer a PurchaseResult: 201 when the write happened now, 200 when it had already."""
    exponent = who.program.currency_exponent
    return respond(
        request,
        who,
        action,
        lambda a: render_result(a.result, exponent, a.balances, a.tier),
        status=lambda a: 200 if a.replayed else 201,
        body=document,
    )


@router.post("", status_code=201, responses=REPLAYED, response_model=PurchaseResult)
def record(
    body: PurchaseIn, request: Request, who: ProgramCaller = Depends(in_program("purchases.write"))
) -> Response:
    """Record a purchase and award it; resending the same external_id answers 200."""
    document = body.model_dump(mode="json", exclude_none=True)
    digest = who.uow.fingerprint("purchase", "", document)

    def action(uow: UnitOfWork) -> _Answer:
        ctx = Context(uow, who.container.clock, who.actor, who.program)
        purchase = body.to_domain(who.program.currency_exponent, ctx.clock.now())
        ref = body.member.ref() if body.member else None
        done = purchases.record(ctx, purchase, ref, fingerprint=digest, document=document)
        return _answer(uow, who, done.purchase.result, replayed=done.replayed, held=done.tier)

    with member_reference(who, request, by_identifier=by_identifier(body.member)):
        return _respond_result(request, who, action, document)


@router.post("/preview", response_model=PurchaseResult)
def preview(
    body: PurchaseIn, request: Request, who: ProgramCaller = Depends(in_program("purchases.read"))
) -> Response:
    """What recording this purchase would award; nothing is written."""

    def read(uow: UnitOfWork) -> _Answer:
        ctx = Context(uow, who.container.clock, who.actor, who.program)
        purchase = body.to_domain(who.program.currency_exponent, ctx.clock.now())
        ref = body.member.ref() if body.member else None
        return _answer(uow, who, purchases.preview(ctx, purchase, ref))

    exponent = who.program.currency_exponent
    with member_reference(who, request, by_identifier=by_identifier(body.member)):
        return answer(
            request,
            who,
            read,
            lambda a: render_result(a.result, exponent, a.balances, a.tier),
            body=body.model_dump(mode="json", exclude_none=True),
        )


@router.get("/{external_id}", response_model=PurchaseDetail)
def get(external_id: str, who: ProgramCaller = Depends(in_program("purchases.read"))) -> Response:
    """The purchase's result, with every refund of it."""

    def read(uow: UnitOfWork) -> tuple[_Answer, list[dict[str, Any]]]:
        found = purchases.get(uow, who.program, external_id)
        return _answer(uow, who, found.result), [
            r.result for r in uow.purchases.refunds_of(found.id)
        ]

    answer, done = run_read(who.uow, read)
    exponent = who.program.currency_exponent
    rendered = render_result(answer.result, exponent, answer.balances, answer.tier)
    rendered["refunds"] = [render_refund(r, exponent, None) for r in done]
    return JsonResponse(rendered)


@router.post(
    "/{external_id}/refunds", status_code=201, responses=REPLAYED, response_model=RefundResult
)
def refund(
    external_id: str,
    body: RefundIn,
    request: Request,
    who: ProgramCaller = Depends(in_program("purchases.write")),
) -> Response:
    """Refund lines or an amount (or, with neither, everything that remains)."""
    document = body.model_dump(mode="json", exclude_none=True)
    digest = who.uow.fingerprint("refund", external_id, document)
    exponent = who.program.currency_exponent

    def action(uow: UnitOfWork) -> _Answer:
        ctx = Context(uow, who.container.clock, who.actor, who.program)
        if body.amount is not None:
            to_minor(body.amount, exponent)
        done = refunds.refund(
            ctx,
            external_id,
            external_id=body.external_id,
            document=document,
            fingerprint=digest,
            occurred_at=body.occurred_at,
        )
        balances = _balances(uow, who, done.purchase.member_id)
        return _Answer(done.refund.result, done.replayed, balances)

    return respond(
        request,
        who,
        action,
        lambda a: render_refund(a.result, exponent, a.balances),
        status=lambda a: 200 if a.replayed else 201,
        body=document,
    )


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member: Text | MemberRefIn


@router.post(
    "/{external_id}/claim", status_code=201, responses=REPLAYED, response_model=PurchaseResult
)
def claim(
    external_id: str,
    body: ClaimIn,
    request: Request,
    who: ProgramCaller = Depends(in_program("purchases.write")),
) -> Response:
    """Attach an anonymous purchase to a member (within ``anonymous_claim_days``) and award it."""
    document = body.model_dump(mode="json")

    def action(uow: UnitOfWork) -> _Answer:
        ctx = Context(uow, who.container.clock, who.actor, who.program)
        member = body.member
        ref = member.ref() if isinstance(member, MemberRefIn) else purchases.MemberRef("id", member)
        done = purchases.claim(ctx, external_id, ref)
        return _answer(uow, who, done.purchase.result, replayed=done.replayed, held=done.tier)

    with member_reference(who, request, by_identifier=by_identifier(body.member)):
        return _respond_result(request, who, action, document)
