"""Scheduled jobs: everything that is due at ``now``, program by program, in small batches.

Each job is idempotent for a given ``now``: released lots are no longer pending, expired lots
have nothing left, tiers are recomputed from the ledger, expired vouchers stay expired, and a
birthday bonus is an activity event whose business key names the member and the year. Past days
are rolled up once for the dashboard (``analytics_rollups``; a day changed later is rolled up
again), and the buyer spans of the windows it showed lately move forward to today
(``analytics_spans``). Every
batch is its own transaction, so a crash loses at most one batch and a rerun finishes the work.

Every transaction of a program's jobs runs on the unit-of-work factory scoped to that program
(``UnitOfWorkFactory.scoped``): on PostgreSQL the database itself keeps a job's statements out of
every other program's rows, even one that forgot its ``program_id`` filter (ADR 0005). Only the
list of programs and the retention of idempotency keys (which belong to API keys, not programs)
run unscoped.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from patron.domain.audit import SYSTEM
from patron.domain.programs import Program
from patron.domain.rules import Event
from patron.domain.timestamps import rfc3339
from patron.services import (
    analytics_rollups,
    analytics_spans,
    audit,
    events,
    ledger_jobs,
    messages,
    outbox,
    portal,
    rewards,
    tiers,
    wallet_updates,
    webhooks,
)
from patron.services.ledger import Context, StoppedClock
from patron.services.messages import Outlets
from patron.services.ports import Clock, UnitOfWork, UnitOfWorkFactory, WebhookSender
from patron.services.programs import get_program
from patron.services.reminders import expiring_between
from patron.services.transactions import run_in_transaction
from patron.services.wallet_updates import WalletOutlets

JOBS = (
    "release",
    "expire",
    "reminders",
    "tiers",
    "vouchers",
    "birthdays",
    "rollups",
    "outbox",
    "webhooks",
    "sign_in",
    "messages",
    "wallet",
    "idempotency_keys",
)

BOOKKEEPING = frozenset({"rollups"})
"""Jobs whose work alone does not make a run worth an audit record."""

IDEMPOTENCY_RETENTION = timedelta(days=7)
"""How long an ``Idempotency-Key`` is remembered: a client retrying for longer than this is
treated as sending a new request (business keys such as a purchase's ``external_id`` are
unique forever and still refuse a duplicate)."""

PURGE_BATCH = 1000
PLATFORM = "*"
"""The report's name for work that belongs to no single program."""


@dataclass(slots=True)
class Report:
    now: datetime
    done: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, program: str, job: str, count: int) -> None:
        self.done.setdefault(program, {}).setdefault(job, 0)
        self.done[program][job] += count


def birthdays_on(local: datetime) -> list[tuple[int, int]]:
    """(month, day) birthdays celebrated on this local date: 29 February is celebrated on
    28 February in common years."""
    days = [(local.month, local.day)]
    if (local.month, local.day) == (2, 28) and not calendar.isleap(local.year):
        days.append((2, 29))
    return days


def run_due(
    uow_factory: UnitOfWorkFactory,
    now: datetime,
    *,
    program: str | None = None,
    sender: WebhookSender | None = None,
    outlets: Outlets | None = None,
    wallet: WalletOutlets | None = None,
) -> Report:
    """Run every job due at ``now`` for one program (slug or id) or for all of them.

    Without a ``sender`` webhook deliveries are prepared but not sent; without ``outlets``
    facts are not turned into messages (they wait for a run that has them); without
    ``wallet`` passes are not marked changed (the facts wait too)."""
    clock = StoppedClock(now)
    report = Report(now)
    for target in _programs(uow_factory, program):
        slug = target.slug
        scoped = uow_factory.scoped(target.id)
        while done := _batch(scoped, clock, target, lambda c: ledger_jobs.release_due(c, now)):
            report.add(slug, "release", done)
        while done := _batch(scoped, clock, target, lambda c: ledger_jobs.expire_due(c, now)):
            report.add(slug, "expire", done)
        report.add(slug, "reminders", _batch(scoped, clock, target, lambda c: reminders(c, now)))
        report.add(slug, "tiers", _tiers(scoped, clock, target, now))
        vouchers = _batch(scoped, clock, target, lambda c: rewards.expire_vouchers(c, now))
        report.add(slug, "vouchers", vouchers)
        report.add(slug, "birthdays", _birthdays(scoped, clock, target, now))
        # After the jobs that post entries dated today or earlier, so the days are final.
        days = run_in_transaction(
            scoped, partial(analytics_rollups.roll_up, program=target, now=now)
        )
        # And the buyer spans of the dashboard's windows, moved to today.
        report.add(slug, "rollups", days + analytics_spans.roll_forward(scoped, target, now))
        # Last, so the facts the jobs above wrote go out in the same run.
        report.add(slug, "outbox", webhooks.fan_out(scoped, target.id, now))
        if sender is not None:
            report.add(slug, "webhooks", deliver_webhooks(scoped, sender, target.id, now))
        if outlets is not None:
            # Sign-in requests first: their emails are then sent in this same run.
            signed = portal.send_requested(scoped, clock, target.id, base_url=outlets.base_url)
            report.add(slug, "sign_in", signed)
            report.add(slug, "messages", messages.run(scoped, target.id, now, outlets))
        if wallet is not None:
            report.add(slug, "wallet", wallet_updates.run(scoped, target.id, now, wallet))
        _audit_run(scoped, target.id, now, report.done.get(slug, {}))
    if program is None:
        report.add(PLATFORM, "idempotency_keys", purge_idempotency_keys(uow_factory, now))
        _audit_run(uow_factory, None, now, report.done.get(PLATFORM, {}))
    return report


def _audit_run(
    uow_factory: UnitOfWorkFactory, program_id: str | None, now: datetime, counts: dict[str, int]
) -> None:
    """One audit record per run and program, with what each job did; none when nothing was
    due (a worker ticks every minute), and never one per expired lot or released wallet.
    Rolling up yesterday's figures changes no member's or program's state: on its own it is
    not a run worth a record (it would add one a day to every program's trail)."""
    if not any(n for job, n in counts.items() if job not in BOOKKEEPING):
        return
    run_in_transaction(
        uow_factory if program_id is None else uow_factory.scoped(program_id),
        lambda uow: audit.record(
            uow,
            program_id=program_id,
            actor=SYSTEM,
            action="jobs.ran",
            target=("program", program_id) if program_id else ("platform", PLATFORM),
            at=now,
            after={"now": rfc3339(now), **counts},
        ),
    )


def deliver_webhooks(
    uow_factory: UnitOfWorkFactory, sender: WebhookSender, program_id: str, now: datetime
) -> int:
    """Fan out new facts, then send what is due: the quick loop between full job runs (in the
    program's scope, as ``webhooks`` runs it)."""
    webhooks.fan_out(uow_factory, program_id, now)
    return webhooks.deliver_due(uow_factory, sender, program_id, now)


def run_webhooks(uow_factory: UnitOfWorkFactory, sender: WebhookSender, now: datetime) -> int:
    """Deliver due webhooks of every program (the frequent tick of a worker)."""
    return sum(
        deliver_webhooks(uow_factory, sender, target.id, now)
        for target in _programs(uow_factory, None)
    )


def run_messages(uow_factory: UnitOfWorkFactory, outlets: Outlets, now: datetime) -> int:
    """Answer the portal's sign-in requests, then plan and send the messages of every program
    (the frequent tick of a worker)."""
    clock = StoppedClock(now)
    done = 0
    for target in _programs(uow_factory, None):
        scoped = uow_factory.scoped(target.id)
        done += portal.send_requested(scoped, clock, target.id, base_url=outlets.base_url)
        done += messages.run(scoped, target.id, now, outlets)
    return done


def run_wallet(uow_factory: UnitOfWorkFactory, wallet: WalletOutlets, now: datetime) -> int:
    """Mark changed passes and tell Apple and Google, for every program (the quick tick)."""
    return sum(
        wallet_updates.run(uow_factory.scoped(target.id), target.id, now, wallet)
        for target in _programs(uow_factory, None)
    )


def purge_idempotency_keys(uow_factory: UnitOfWorkFactory, now: datetime) -> int:
    purged = 0
    before = now - IDEMPOTENCY_RETENTION
    while done := run_in_transaction(
        uow_factory, lambda uow: uow.idempotency.purge(before, PURGE_BATCH)
    ):
        purged += done
    return purged


def _batch(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    program: Program,
    action: Callable[[Context], int],
) -> int:
    """One batch of one job in its own transaction."""

    def step(uow: UnitOfWork) -> int:
        return action(Context(uow, clock, SYSTEM, get_program(uow, program.id)))

    return run_in_transaction(uow_factory, step)


def _programs(uow_factory: UnitOfWorkFactory, ref: str | None) -> list[Program]:
    """The programs to run (a platform read: the one query of a run that spans programs)."""

    def read(uow: UnitOfWork) -> list[Program]:
        if ref is not None:
            return [get_program(uow, ref)]
        return uow.programs.all()

    with uow_factory(write=False) as uow:
        return read(uow)


def _tiers(uow_factory: UnitOfWorkFactory, clock: Clock, program: Program, now: datetime) -> int:
    after: str | None = None
    total = 0
    while True:

        def step(uow: UnitOfWork, after: str | None = after) -> list[str]:
            ctx = Context(uow, clock, SYSTEM, get_program(uow, program.id))
            return tiers.expire_due(ctx, now, after=after)

        seen = run_in_transaction(uow_factory, step)
        if not seen:
            return total
        total += len(seen)
        after = seen[-1]


def _birthdays(
    uow_factory: UnitOfWorkFactory, clock: Clock, program: Program, now: datetime
) -> int:
    local = now.astimezone(ZoneInfo(program.timezone))
    days = birthdays_on(local)
    after: str | None = None
    awarded = 0
    while True:

        def step(uow: UnitOfWork, after: str | None = after) -> tuple[int, str | None]:
            ctx = Context(uow, clock, SYSTEM, get_program(uow, program.id))
            found = uow.members.born_on(program.id, days, after=after, limit=200)
            count = 0
            for member in found:
                event = Event(f"birthday:{member.id}:{local.year}", "birthday", now)
                done = events.record(ctx, member, event, fingerprint=event.external_id)
                count += 0 if done.replayed else 1
            return count, found[-1].id if found else None

        count, last = run_in_transaction(uow_factory, step)
        awarded += count
        if last is None:
            return awarded
        after = last


def reminders(ctx: Context, now: datetime) -> int:
    """``points.expiring`` facts for points expiring in each wallet's ``reminder_days``, once
    per member, wallet, expiry day and reminder (the fact's subject names all four): an idle
    wallet's deadline that activity moved to another day is announced again for that day."""
    zone = ZoneInfo(ctx.program.timezone)
    today = now.astimezone(zone).date()
    sent = 0
    for code, wallet in ctx.config.wallets.items():
        for days in wallet.reminder_days:
            day = today + timedelta(days=days)
            start = datetime(day.year, day.month, day.day, tzinfo=zone)
            totals = expiring_between(ctx, code, wallet, start, start + timedelta(days=1))
            for member_id, amount in totals.items():
                subject = f"{member_id}:{code}:{day.isoformat()}:{days}"
                if ctx.uow.outbox.exists(ctx.program.id, "points.expiring", subject):
                    continue
                outbox.emit(
                    ctx,
                    "points.expiring",
                    subject,
                    {
                        "member_id": member_id,
                        "wallet": code,
                        "amount": amount,
                        "expires_on": day.isoformat(),
                        "days_before": days,
                    },
                )
                sent += 1
    return sent
