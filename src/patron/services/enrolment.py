"""Enrolment as a whole: the member, then the ``enrolled`` activity event it fires."""

from __future__ import annotations

from collections.abc import Sequence

from patron.domain.audit import Actor
from patron.domain.members import Member
from patron.domain.programs import Program
from patron.services import events, members, referrals
from patron.services.ledger import Context
from patron.services.ports import BatchReads, Clock, UnitOfWork


def enrol(
    uow: UnitOfWork, clock: Clock, actor: Actor, program: Program, cmd: members.NewMember
) -> Member:
    """Enrol a member, award the ``enrolled`` event rules and record its referral, in one
    transaction.

    Raises: what ``members.enrol_member`` raises.
    """
    member = members.enrol_member(uow, clock, actor, program, cmd)
    ctx = Context(uow, clock, actor, program)
    events.enrolled(ctx, member)
    referrals.on_enrolment(ctx, member)
    return member


def batch_reads(program: Program, commands: Sequence[members.NewMember]) -> BatchReads:
    """What enrolling these members (by import) will read, for ``UnitOfWork.prefetch``: each
    one by external id (is it there already?) and every identifier whose uniqueness enrolment
    checks."""
    identifiers = {pair for cmd in commands for pair in members.identifiers_of(program, cmd)}
    return BatchReads(
        program_id=program.id,
        member_external_ids=sorted({c.external_id for c in commands if c.external_id}),
        identifiers=sorted(identifiers),
    )
