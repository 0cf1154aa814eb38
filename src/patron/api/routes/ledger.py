"""A member's ledger: activity (newest first), manual adjustments, transfers to another member."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from patron.api.deps import ProgramCaller, in_program
from patron.api.ledger_schemas import AdjustmentIn, EntryOut, EntryPage, TransferIn, render_balances
from patron.api.pagination import decode_cursor, limit_param, page
from patron.api.rendering import JsonResponse
from patron.api.responses import TransferOut
from patron.api.writes import respond
from patron.domain.errors import FieldError, ValidationFailed
from patron.domain.money import to_minor
from patron.services import balances, ledger, members
from patron.services.balances import EntryView, WalletView, wallet_views
from patron.services.ledger import Context
from patron.services.ports import UnitOfWork
from patron.services.programs import load_config
from patron.services.transactions import run_read

router = APIRouter(prefix="/v1/programs/{program}/members/{member}", tags=["ledger"])


@router.get("/activity", response_model=EntryPage)
def activity(
    member: str,
    who: ProgramCaller = Depends(in_program("members.read")),
    limit: int = Depends(limit_param),
    cursor: str | None = None,
) -> Response:
    before = decode_cursor(cursor)

    def read(uow: UnitOfWork) -> list[EntryView]:
        members.get_member(uow, who.program, member)  # 404 for a member of another program
        wallets = load_config(uow, who.program).wallets
        entries = balances.activity(uow, who.program, member, before=before, limit=limit + 1)
        return [EntryView(e, e.wallet in wallets and wallets[e.wallet].is_money) for e in entries]

    found = run_read(who.uow, read)
    exponent = who.program.currency_exponent
    return JsonResponse(
        page(
            found,
            limit=limit,
            position=lambda v: v.entry.id,
            render=lambda v: EntryOut.of(v, exponent),
        )
    )


@router.post("/adjustments", status_code=201, response_model=EntryOut)
def adjust(
    member: str,
    body: AdjustmentIn,
    request: Request,
    who: ProgramCaller = Depends(in_program("ledger.adjust")),
) -> Response:
    """Credit (positive) or debit (negative) a wallet by hand, with a mandatory reason."""

    def action(uow: UnitOfWork) -> EntryView:
        ctx = Context(uow, who.container.clock, who.actor, who.program)
        wallet = ctx.wallet(body.wallet)
        amount = _amount(who, wallet.is_money, body.amount)
        members.get_member(uow, who.program, member)
        posted = ledger.adjust(ctx, member, wallet=body.wallet, amount=amount, reason=body.reason)
        return EntryView(posted.entry, wallet.is_money)

    exponent = who.program.currency_exponent
    return respond(
        request,
        who,
        action,
        lambda view: EntryOut.of(view, exponent),
        status=201,
        body=body.model_dump(mode="json"),
    )


def _amount(who: ProgramCaller, money: bool, value: int | str | float) -> int:
    """A wallet amount from the API: integers for points, decimals for money wallets."""
    if money:
        return to_minor(value, who.program.currency_exponent)
    if isinstance(value, int):
        return value
    raise ValidationFailed([FieldError("amount", "points are whole numbers")])


@router.post("/transfers", status_code=201, response_model=TransferOut)
def transfer(
    member: str,
    body: TransferIn,
    request: Request,
    who: ProgramCaller = Depends(in_program("ledger.adjust")),
) -> Response:
    """Move points (or store credit) from this member to another member of the program
    (household pooling): the receiver's lots keep their earn and expiry dates. A frozen sender
    or one whose balance is negative is refused."""

    def action(uow: UnitOfWork) -> tuple[EntryView, dict[str, WalletView]]:
        ctx = Context(uow, who.container.clock, who.actor, who.program)
        wallet = ctx.wallet(body.wallet)
        amount = _amount(who, wallet.is_money, body.amount)
        members.get_member(uow, who.program, member)
        members.get_member(uow, who.program, body.to)  # another program's member: not found
        posted = ledger.transfer(
            ctx, member, body.to, wallet=body.wallet, amount=amount, reason=body.reason
        )
        views = wallet_views(uow, who.program, [member], now=ctx.clock.now())[member]
        return EntryView(posted.entry, wallet.is_money), views

    exponent = who.program.currency_exponent

    def render(done: tuple[EntryView, dict[str, WalletView]]) -> dict[str, Any]:
        return {
            "entry": EntryOut.of(done[0], exponent),
            "balances": render_balances(done[1], exponent),
        }

    return respond(request, who, action, render, status=201, body=body.model_dump(mode="json"))
