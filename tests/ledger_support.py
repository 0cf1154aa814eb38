"""Helpers to build ledger state through the real use cases (never by writing balance rows)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from patron.bootstrap import Container
from patron.domain.audit import CLI
from patron.domain.ledger import Balance
from patron.domain.programs import Program
from patron.services import members, programs
from patron.services.ledger import Context
from patron.services.ports import Violation
from patron.services.transactions import run_in_transaction, run_read

T = TypeVar("T")

POINTS_ONLY: dict[str, Any] = {"wallets": {"points": {}}}


def new_program(
    container: Container, *, slug: str, config: dict[str, Any] | None = None
) -> Program:
    command = programs.NewProgram(
        slug=slug,
        name=slug.title(),
        currency="EUR",
        timezone="Europe/Paris",
        config=config if config is not None else POINTS_ONLY,
    )
    made = run_in_transaction(
        container.uow,
        lambda uow: programs.create_program(uow, container.clock, CLI, command),
    )
    return made.program


def new_member(container: Container, program: Program, **fields: Any) -> str:
    command = members.NewMember(**fields)
    member = run_in_transaction(
        container.uow,
        lambda uow: members.enrol_member(uow, container.clock, CLI, program, command),
    )
    return member.id


def in_ledger(container: Container, program: Program, action: Callable[[Context], T]) -> T:
    """Run a ledger use case in its own committed transaction, as the API does."""
    return run_in_transaction(
        container.uow,
        lambda uow: action(
            Context(uow, container.clock, CLI, programs.get_program(uow, program.id))
        ),
    )


def balance(
    container: Container, program: Program, member_id: str, wallet: str = "points"
) -> Balance:
    found = run_read(container.uow, lambda uow: uow.ledger.balances(program.id, [member_id]))
    return next((b for b in found if b.wallet == wallet), Balance(member_id, wallet))


def audit(container: Container, program: Program | None = None) -> list[Violation]:
    return run_read(container.uow, lambda uow: uow.ledger.verify(program.id if program else None))
