"""Enrolment as a whole: the member, then the ``enrolled`` activity event it fires."""

from __future__ import annotations

from patron.domain.audit import Actor
from patron.domain.members import Member
from patron.domain.programs import Program
from patron.services import events, members
from patron.services.ledger import Context
from patron.services.ports import Clock, UnitOfWork


def enrol(
    uow: UnitOfWork, clock: Clock, actor: Actor, program: Program, cmd: members.NewMember
) -> Member:
    """Enrol a member and award the ``enrolled`` event rules, in one transaction.

    Raises: what ``members.enrol_member`` raises.
    """
    member = members.enrol_member(uow, clock, actor, program, cmd)
    events.enrolled(Context(uow, clock, actor, program), member)
    return member
