"""The demo program: what ``patron serve --demo`` sets up so a newcomer has something to try.

It is the example configuration of API.md (a points wallet with 12-month expiry, a store-credit
wallet, every rule kind, three tiers, referrals) and a few members. Creating it twice is
harmless: an existing demo program is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from patron.domain.audit import Actor
from patron.domain.programs import Program
from patron.services import api_keys, enrolment, ledger, members, programs, rewards
from patron.services.ledger import Context
from patron.services.ports import Clock, UnitOfWork

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

DEMO_MEMBERS = (
    members.NewMember(
        external_id="C-1",
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        birth_date=date(1990, 5, 4),
        consents={"email_marketing": members.ConsentInput(granted=True)},
    ),
    members.NewMember(
        external_id="C-2",
        email="grace@example.com",
        phone="+14155550123",
        first_name="Grace",
        last_name="Hopper",
    ),
    members.NewMember(
        external_id="C-3", email="alan@example.com", first_name="Alan", last_name="Turing"
    ),
)


def _demo_ledger(ctx: Context, member_ids: list[str]) -> None:
    """A little history, so balances, expiring points and activity have something to show."""
    ada, grace, alan = member_ids
    ledger.earn(ctx, ada, wallet="points", amount=400, reference="DEMO-1001")
    ledger.debit(ctx, ada, wallet="points", amount=150, reference="demo redemption")
    ledger.earn(ctx, ada, wallet="credit", amount=350, reference="DEMO-1001")
    ledger.earn(ctx, grace, wallet="points", amount=120, reference="DEMO-1002")
    ledger.adjust(ctx, alan, wallet="points", amount=50, reason="welcome gesture (demo)")
    common: dict[str, Any] = {
        "description": None,
        "stock": None,
        "per_member_limit": None,
        "tiers": None,
        "available_from": None,
        "available_until": None,
        "active": True,
    }
    rewards.create(
        ctx,
        {
            **common,
            "code": "lip-mini",
            "name": "Mini lipstick",
            "cost_wallet": "points",
            "cost_amount": 200,
            "kind": "free_item",
            "value": "LIP-MINI",
            "voucher_valid_days": 60,
        },
    )
    rewards.create(
        ctx,
        {
            **common,
            "code": "ten-off",
            "name": "10.00 off",
            "cost_wallet": "points",
            "cost_amount": 500,
            "kind": "amount_off",
            "value": "10.00",
            "voucher_valid_days": 90,
            "tiers": ["vib", "rouge"],
        },
    )


@dataclass(frozen=True, slots=True)
class Demo:
    program: Program
    created: bool
    key: api_keys.IssuedKey


def ensure_demo(uow: UnitOfWork, clock: Clock, actor: Actor) -> Demo:
    """Create the demo program if missing, and issue a fresh admin key for it."""
    existing = uow.programs.get(DEMO_SLUG)
    created = existing is None
    if existing is None:
        made = programs.create_program(
            uow,
            clock,
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
        existing = made.program
        enrolled = [enrolment.enrol(uow, clock, actor, existing, cmd) for cmd in DEMO_MEMBERS]
        _demo_ledger(Context(uow, clock, actor, existing), [m.id for m in enrolled])
    key = api_keys.issue_key(uow, clock, actor, program=existing, name="demo admin", role="admin")
    return Demo(program=existing, created=created, key=key)
