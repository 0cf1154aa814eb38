"""Bulk grants: an amount to a list of members or a segment, each credited once.

A grant runs in several transactions (its record, then batches of members), so its
``Idempotency-Key`` is claimed in the first and answered in the last
(``transactions.claim_for_steps``): a replay answers the first answer without running anything,
another body under the key is 409 before anything is written, and a request that stopped halfway
is resumed by sending it again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
)

from patron.api.deps import ProgramCaller, in_program
from patron.api.rendering import JsonResponse, rfc3339_or_none
from patron.api.responses import GrantOut
from patron.api.writes import REPLAYED, idempotency_of, response_of
from patron.domain.errors import FieldError, NotFound, ValidationFailed
from patron.domain.money import from_minor, to_minor
from patron.services import grants
from patron.services.ledger import Context
from patron.services.ports import BulkGrant, UnitOfWork
from patron.services.transactions import (
    Outcome,
    claim_for_steps,
    complete_steps,
    run_in_transaction,
    run_read,
)

router = APIRouter(prefix="/v1/programs/{program}/grants", tags=["grants"])
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


MAX_LISTED = 10_000


class GrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: Text
    wallet: Text
    amount: StrictInt | StrictStr | StrictFloat
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    # 10,000 ids fit well inside the 1 MiB body cap; a larger audience is a segment
    members: Annotated[list[Text], Field(min_length=1, max_length=MAX_LISTED)] | None = None
    segment: Text | None = None


def _render(grant: BulkGrant, money: bool, exponent: int) -> dict[str, Any]:
    return {
        "id": grant.id,
        "external_id": grant.external_id,
        "wallet": grant.wallet,
        "amount": from_minor(grant.amount, exponent) if money else grant.amount,
        "status": grant.status,
        "members": len(grant.members),
        "granted": grant.granted,
        "finished_at": rfc3339_or_none(grant.finished_at),
    }


@router.post("", status_code=201, responses=REPLAYED, response_model=GrantOut)
def create(
    body: GrantIn, request: Request, who: ProgramCaller = Depends(in_program("ledger.adjust"))
) -> Response:
    """Start (or resume) a grant and run it to the end; resending the same external_id
    resumes it and answers 200."""
    document = body.model_dump(mode="json")
    digest = who.uow.fingerprint("grant", "", document)
    idempotency = idempotency_of(request, who, document)
    box = who.container

    def begin(uow: UnitOfWork) -> tuple[BulkGrant, bool, bool] | Outcome:
        if idempotency is not None:
            replay = claim_for_steps(uow, box.clock, idempotency)
            if replay is not None:
                return replay
        ctx = Context(uow, box.clock, who.actor, who.program)
        wallet = ctx.wallet(body.wallet)
        if wallet.is_money:
            amount = to_minor(body.amount, who.program.currency_exponent)
        elif isinstance(body.amount, int):
            amount = body.amount
        else:
            raise ValidationFailed([FieldError("amount", "points are whole numbers")])
        grant, existed = grants.start(
            ctx,
            external_id=body.external_id,
            fingerprint=digest,
            wallet=body.wallet,
            amount=amount,
            reason=body.reason,
            member_ids=body.members,
            segment=body.segment,
        )
        return grant, existed, wallet.is_money

    begun = run_in_transaction(who.uow, begin)
    if isinstance(begun, Outcome):
        return response_of(begun)
    _, existed, money = begun
    done = grants.run(who.uow, box.clock, who.actor, who.program, body.external_id)
    outcome = Outcome(200 if existed else 201, _render(done, money, who.program.currency_exponent))
    if idempotency is not None:
        run_in_transaction(who.uow, lambda uow: complete_steps(uow, idempotency, outcome))
    return response_of(outcome)


@router.get("/{external_id}", response_model=GrantOut)
def progress(
    external_id: str, who: ProgramCaller = Depends(in_program("members.read"))
) -> Response:
    def read(uow: UnitOfWork) -> dict[str, Any]:
        ctx = Context(uow, who.container.clock, who.actor, who.program)
        found = uow.grants.get(who.program.id, external_id)
        if found is None:
            raise NotFound(f"no grant {external_id!r} in this program")
        money = ctx.config.wallets[found.wallet].is_money
        return _render(found, money, who.program.currency_exponent)

    return JsonResponse(run_read(who.uow, read))
