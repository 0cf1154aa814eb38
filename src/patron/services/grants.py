"""Bulk grants ("surprise and delight"): one amount to a list of members or a segment.

The grant is recorded first with its member list (a segment is resolved once, when the grant
starts), then members are credited in batches, one transaction each. Every credit is a ledger
entry keyed ``grant:<external_id>:<member>``, so a grant that is retried, resumed after a crash
or sent twice credits each member exactly once; ``granted`` counts the members credited so far.
"""

from __future__ import annotations

from collections.abc import Sequence

from patron.domain.audit import Actor
from patron.domain.errors import BusinessKeyConflict, FieldError, ValidationFailed
from patron.domain.ids import new_id
from patron.domain.ledger import ADJUSTMENTS
from patron.domain.programs import Program
from patron.services import audit, ledger, segments
from patron.services.ledger import Context
from patron.services.ports import BulkGrant, Clock, UnitOfWork, UnitOfWorkFactory
from patron.services.programs import get_program
from patron.services.transactions import run_in_transaction

BATCH = 100
MAX_MEMBERS = 100_000


def start(
    ctx: Context,
    *,
    external_id: str,
    fingerprint: str,
    wallet: str,
    amount: int,
    reason: str,
    member_ids: Sequence[str] | None,
    segment: str | None,
) -> tuple[BulkGrant, bool]:
    """Record the grant (or find the earlier one with this key). Returns (grant, existed).

    Raises: ValidationFailed, BusinessKeyConflict, NotFound (segment, member).
    """
    earlier = ctx.uow.grants.get(ctx.program.id, external_id)
    if earlier is not None:
        if earlier.fingerprint != fingerprint:
            raise BusinessKeyConflict(
                f"grant {external_id!r} was already started with a different body"
            )
        return earlier, True
    ctx.wallet(wallet)
    ledger.check_amount(amount)
    if (member_ids is None) == (segment is None):
        raise ValidationFailed([FieldError("members", "give members or a segment, not both")])
    if member_ids is not None:
        targets = list(dict.fromkeys(member_ids))
        for member_id in targets:
            ledger.member_for(ctx, member_id, debit=False)
    else:
        assert segment is not None
        targets = [m.id for m in segments.members_of(ctx, segment, after=None, limit=MAX_MEMBERS)]
    grant = BulkGrant(
        id=new_id(),
        program_id=ctx.program.id,
        external_id=external_id,
        fingerprint=fingerprint,
        wallet=wallet,
        amount=amount,
        reason=reason,
        members=targets,
        status="running",
        granted=0,
        created_at=ctx.clock.now(),
    )
    ctx.uow.grants.add(grant)
    audit.record(
        ctx.uow,
        program_id=ctx.program.id,
        actor=ctx.actor,
        action="grant.created",
        target=("grant", external_id),
        at=grant.created_at,
        after={
            "id": grant.id,
            "wallet": wallet,
            "amount": amount,
            "reason": reason,
            "members": len(targets),
            "segment": segment,
        },
    )
    return grant, False


def run(
    uow_factory: UnitOfWorkFactory, clock: Clock, actor: Actor, program: Program, external_id: str
) -> BulkGrant:
    """Credit every member of the grant not yet credited, batch by batch; safe to rerun. Every
    batch runs in the program's scope, whoever calls it."""
    uow_factory = uow_factory.scoped(program.id)

    def batch(uow: UnitOfWork, members: list[str]) -> int:
        ctx = Context(uow, clock, actor, get_program(uow, program.id))
        grant = uow.grants.get(program.id, external_id)
        assert grant is not None
        fresh = 0
        for member_id in members:
            posted = ledger.earn(
                ctx,
                member_id,
                wallet=grant.wallet,
                amount=grant.amount,
                entry_type="adjust",
                key=f"grant:{external_id}:{member_id}",
                reference=f"grant:{external_id}",
                reason=grant.reason,
                source=ADJUSTMENTS,
                hold=False,
            )
            fresh += 0 if posted.replayed else 1
        uow.grants.progress(grant.id, fresh, "running", None)
        return fresh

    with uow_factory(write=False) as uow:
        grant = uow.grants.get(program.id, external_id)
    assert grant is not None
    for i in range(0, len(grant.members), BATCH):
        chunk = grant.members[i : i + BATCH]

        def step(uow: UnitOfWork, chunk: list[str] = chunk) -> int:
            return batch(uow, chunk)

        run_in_transaction(uow_factory, step)

    def finish(uow: UnitOfWork) -> BulkGrant:
        uow.grants.progress(grant.id, 0, "completed", clock.now())
        done = uow.grants.get(program.id, external_id)
        assert done is not None
        if grant.status != "completed":  # a grant sent again once finished records nothing
            audit.record(
                uow,
                program_id=program.id,
                actor=actor,
                action="grant.completed",
                target=("grant", external_id),
                at=clock.now(),
                before={"status": grant.status, "granted": grant.granted},
                after={"status": done.status, "granted": done.granted},
            )
        return done

    return run_in_transaction(uow_factory, finish)
