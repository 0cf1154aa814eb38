"""The demo program: what ``patron demo`` (and ``patron serve --demo``) sets up so a newcomer
finds a living program.

It is the example configuration of API.md (a points wallet with 12-month expiry, a store-credit
wallet, every rule kind, three tiers, referrals), three rewards, and a simulated year of members
and their activity (``demo_data``). Creating it twice is harmless: an existing demo program is
left as it is.

The demo program has an owner staff user, ``DEMO_OWNER`` ("Demo Owner"), so the console can be
tried at once: every start hands out a fresh one-time set-password link for it (the earlier
links stay valid until used or 24 hours old).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from patron.domain.audit import Actor
from patron.domain.errors import Unauthenticated
from patron.domain.programs import Program
from patron.services import api_keys, audit, jobs, messages, programs, rewards, staff
from patron.services.demo_data import DAYS, Story, populate
from patron.services.ledger import Context, StoppedClock
from patron.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from patron.services.transactions import run_in_transaction

DEMO_SLUG = "demo"

EXAMPLE_CONFIG: dict[str, Any] = {
    "wallets": {
        "points": {
            "expiry": {"mode": "after_earn", "months": 12, "round": "end_of_month"},
            "pending_days": 0,
            "reminder_days": [30, 7],
        },
        "credit": {"kind": "money", "expiry": None},
    },
    "earning": {"include_tax": False, "include_shipping": False, "rounding": "floor"},
    "rules": [
        {"id": "base", "name": "1 point per 1.00", "kind": "spend", "points": 1, "per": "1.00"},
        {"id": "visit", "kind": "visit", "points": 10, "min_spend": "5.00"},
        {"id": "shoes", "kind": "spend", "points": 2, "per": "1.00", "categories": ["shoes"]},
        {"id": "lipstick", "kind": "item", "skus": ["LIP-01"], "points": 50},
        {
            "id": "weekend",
            "kind": "multiplier",
            "factor": "2",
            "applies_to": ["base"],
            "days_of_week": ["sat", "sun"],
        },
        {"id": "cobrand", "kind": "multiplier", "factor": "2", "payment_card_types": ["cobrand"]},
        {"id": "welcome", "kind": "bonus", "points": 100, "first_purchase": True},
        {"id": "cashback", "kind": "cashback", "wallet": "credit", "percent": "2"},
        {"id": "signup", "kind": "event", "event": "enrolled", "points": 50},
        {
            "id": "bday",
            "kind": "event",
            "event": "birthday",
            "points": 250,
            "limits": {"per_member": {"count": 1, "period": "year"}},
        },
        {
            "id": "review",
            "kind": "event",
            "event": "review_posted",
            "points": 25,
            "limits": {"per_member": {"count": 2, "period": "month"}},
        },
    ],
    "tiers": {
        "metric": "spend",
        "period": "calendar_year",
        "downgrade": "end_of_next_period",
        "levels": [
            {"code": "insider", "name": "Insider", "threshold": "0"},
            {"code": "vib", "name": "VIB", "threshold": "350", "benefits": {"multiplier": "1.25"}},
            {
                "code": "rouge",
                "name": "Rouge",
                "threshold": "1000",
                "benefits": {"multiplier": "1.5"},
            },
        ],
    },
    "referrals": {
        "qualifying_min_spend": "25.00",
        "referrer": {"points": 500},
        "referee": {"points": 250},
        "max_per_referrer": {"count": 10, "period": "year"},
    },
}


def _demo_rewards(ctx: Context) -> None:
    common: dict[str, Any] = {
        "description": None,
        "stock": None,
        "per_member_limit": None,
        "tiers": None,
        "available_from": None,
        "available_until": None,
        "active": True,
    }
    for fields in (
        {
            "code": "lip-mini",
            "name": "Mini lipstick",
            "cost_amount": 200,
            "kind": "free_item",
            "value": "LIP-MINI",
            "voucher_valid_days": 60,
        },
        {
            "code": "ten-off",
            "name": "10.00 off",
            "cost_amount": 500,
            "kind": "amount_off",
            "value": "10.00",
            "voucher_valid_days": 90,
            "tiers": ["vib", "rouge"],
        },
        {
            "code": "facial",
            "name": "Complimentary facial",
            "cost_amount": 1500,
            "kind": "free_item",
            "value": "SVC-FACIAL",
            "voucher_valid_days": 120,
            "stock": 150,
            "per_member_limit": 1,
        },
    ):
        rewards.create(ctx, {**common, "cost_wallet": "points", **fields})


DEMO_KEY_NAME = "demo admin"
DEMO_OWNER = "owner@demo.example.com"
DEMO_OWNER_NAME = "Demo Owner"


@dataclass(frozen=True, slots=True)
class Demo:
    program: Program
    created: bool
    key: api_keys.IssuedKey
    story: Story | None
    key_reused: bool = False
    """The remembered key was still a live admin key of the demo: no key was made."""
    owner_link: str = ""
    """A one-time set-password token of the demo's owner staff user (``DEMO_OWNER``)."""


def ensure_demo(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    actor: Actor,
    *,
    members: int = 2000,
    seed: int = 7,
    days: int = DAYS,
    progress: Callable[[int, int], None] | None = None,
    remembered_key: str | None = None,
) -> Demo:
    """Create the demo program with ``days`` of simulated history (fourteen and a half months
    unless a test asks for fewer) if it is missing (an existing demo program is left as it is),
    and hand out its admin key.

    The key is ``remembered_key`` (what an earlier start printed and kept) while that is still a
    live admin key of the demo program, so restarting does not pile up keys. Otherwise every live
    key named ``DEMO_KEY_NAME`` of the program is revoked before a new one is issued: only the
    newest demo key works."""
    now = clock.now()
    began = StoppedClock(now - timedelta(days=days + 1))

    def create(uow: UnitOfWork) -> tuple[Program, bool]:
        existing = uow.programs.get(DEMO_SLUG)
        if existing is not None:
            return existing, False
        made = programs.create_program(
            uow,
            began,
            actor,
            programs.NewProgram(
                slug=DEMO_SLUG,
                name="Demo Beauty Club",
                currency="USD",
                timezone="America/New_York",
                country="US",
                config=EXAMPLE_CONFIG,
            ),
        )
        _demo_rewards(Context(uow, began, actor, made.program))
        return made.program, True

    program, created = run_in_transaction(uow_factory, create)
    # Creating the program is platform work; everything after it is the program's own.
    scoped = uow_factory.scoped(program.id)
    story = None
    if created:
        story = populate(
            scoped, actor, program, end=now, count=members, seed=seed, days=days, progress=progress
        )
        jobs.run_due(scoped, now, program=program.id)
        # The story's history is made up: its members hear nothing about it. Members enrolled
        # from now on get their messages (docs/messages.md).
        messages.settle(scoped, program.id, now)
        told = asdict(story)
        run_in_transaction(
            scoped,
            lambda uow: audit.record(
                uow,
                program_id=program.id,
                actor=actor,
                action="demo.created",
                target=("program", program.id),
                at=now,
                after=told,
            ),
        )
    key, reused = run_in_transaction(
        scoped, lambda uow: _admin_key(uow, clock, actor, program, remembered_key)
    )
    link = run_in_transaction(scoped, lambda uow: _owner_link(uow, clock, actor, program))
    return Demo(
        program=program,
        created=created,
        key=key,
        story=story,
        key_reused=reused,
        owner_link=link,
    )


def _owner_link(uow: UnitOfWork, clock: Clock, actor: Actor, program: Program) -> str:
    """A fresh set-password link of the demo's owner, made (with its role) on first use."""
    found = uow.staff.credentials(DEMO_OWNER)
    if found is not None and any(
        g.program_id == program.id for g in uow.staff.grants_of(found.user.id)
    ):
        return staff.issue_link(uow, clock.now(), found.user.id)
    made = staff.create(
        uow, clock, actor, email=DEMO_OWNER, role="owner", program=program, name=DEMO_OWNER_NAME
    )
    return made.link_token


def _admin_key(
    uow: UnitOfWork, clock: Clock, actor: Actor, program: Program, remembered: str | None
) -> tuple[api_keys.IssuedKey, bool]:
    if remembered:
        try:
            found = api_keys.authenticate(uow, remembered)
        except Unauthenticated:
            found = None
        if found is not None and found.program_id == program.id and found.role == "admin":
            return api_keys.IssuedKey(found, remembered), True
    for old in uow.api_keys.live_named(program.id, DEMO_KEY_NAME):
        api_keys.revoke(uow, clock, actor, old)
    issued = api_keys.issue_key(
        uow, clock, actor, program=program, name=DEMO_KEY_NAME, role="admin"
    )
    return issued, False
