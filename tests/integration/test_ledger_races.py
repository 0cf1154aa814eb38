"""Races with real commits: many threads, one member, exactly the right number of winners."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.domain.audit import CLI
from patron.domain.errors import InsufficientBalance
from patron.services import ledger
from patron.services.transactions import IdempotencyRequest, Outcome, run_write
from tests.ledger_support import audit, balance, in_ledger, new_member, new_program


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together; return results or exceptions."""
    gate = threading.Barrier(count)

    def call(i: int) -> Any:
        gate.wait()
        try:
            return work(i)
        except Exception as error:  # the test inspects every outcome
            return error

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(call, range(count)))


def entries_with(container: Container, **where: Any) -> int:
    c = t.ledger_entries.c
    with container.engine.connect() as conn:
        stmt = sa.select(sa.func.count()).select_from(t.ledger_entries)
        for name, value in where.items():
            stmt = stmt.where(c[name] == value)
        return int(conn.execute(stmt).scalar_one())


def test_fifty_simultaneous_debits_never_overdraw(container: Container) -> None:
    program = new_program(container, slug="race")
    member = new_member(container, program)
    held, each = 1000, 70
    in_ledger(
        container,
        program,
        lambda c: ledger.earn(c, member, wallet="points", amount=held, hold=False),
    )
    results = at_once(
        50,
        lambda _: in_ledger(
            container, program, lambda c: ledger.debit(c, member, wallet="points", amount=each)
        ),
    )
    won = [r for r in results if isinstance(r, ledger.Posted)]
    refused = [r for r in results if isinstance(r, InsufficientBalance)]
    assert len(won) == held // each
    assert len(refused) == 50 - held // each
    assert balance(container, program, member).available == held - len(won) * each
    assert audit(container, program) == []


def test_one_business_key_from_ten_threads_posts_once(container: Container) -> None:
    program = new_program(container, slug="race")
    member = new_member(container, program)
    results = at_once(
        10,
        lambda _: in_ledger(
            container,
            program,
            lambda c: ledger.earn(c, member, wallet="points", amount=25, key="R-77", hold=False),
        ),
    )
    assert all(isinstance(r, ledger.Posted) for r in results), results
    assert len({r.entry.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert entries_with(container, key="R-77") == 1
    assert balance(container, program, member).available == 25
    assert audit(container, program) == []


def test_one_idempotency_key_from_ten_threads_posts_once(container: Container) -> None:
    program = new_program(container, slug="race")
    member = new_member(container, program)
    request = IdempotencyRequest(scope="pos-key", key="adjust-1", fingerprint="same body")

    def send(_: int) -> Outcome:
        def action(uow: Any) -> ledger.Posted:
            ctx = ledger.Context(uow, container.clock, CLI, program)
            return ledger.adjust(ctx, member, wallet="points", amount=40, reason="goodwill")

        return run_write(
            container.uow,
            container.clock,
            action,
            lambda posted: Outcome(201, {"id": posted.entry.id}),
            request,
        )

    results = at_once(10, send)
    assert all(isinstance(r, Outcome) for r in results), results
    assert len({r.body["id"] for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert entries_with(container, type="adjust") == 1
    assert balance(container, program, member).available == 40
    assert audit(container, program) == []


def test_transfers_both_ways_around_a_ring_all_complete(container: Container) -> None:
    program = new_program(container, slug="ring")
    ring = [new_member(container, program) for _ in range(5)]
    for member in ring:
        in_ledger(
            container,
            program,
            lambda c, m=member: ledger.earn(c, m, wallet="points", amount=1000, hold=False),
        )

    def move(i: int) -> ledger.Posted:
        here, there = ring[i % 5], ring[(i + 1) % 5]
        sender, recipient = (here, there) if i < 20 else (there, here)
        return in_ledger(
            container,
            program,
            lambda c: ledger.transfer(c, sender, recipient, wallet="points", amount=7),
        )

    results = at_once(40, move)
    assert all(isinstance(r, ledger.Posted) for r in results), results
    assert entries_with(container, type="transfer") == 80
    assert sum(balance(container, program, m).available for m in ring) == 5000
    assert audit(container, program) == []
