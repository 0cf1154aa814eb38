"""The demo program's history: members, purchases, refunds, redemptions, referrals, reviews.

Everything goes through the same use cases as the API (enrolment, purchase recording, refunds,
redemptions, voucher use, events) with the clock set to the simulated moment, and the scheduled
jobs run at the end of every simulated day. So tiers rise and lapse, points are released,
expire and are reminded about, vouchers expire and birthdays are celebrated exactly as they
would have been. One simulated day is one transaction.

The shape of the data (seeded, so a given seed always tells the same story):

- members enrol over the year, more of them early (a program launched a year ago with an
  initial campaign); about 15% were referred by an earlier member, a few of them by themselves
  through a second address (refused by the referral guards);
- each member has a buying rate drawn from a long-tailed distribution (most buy two to six times
  a year, a loyal few every other week), with purchases spread across store (eight stores),
  online and app, baskets of one to five lines from a beauty catalogue, weekend peaks, and one
  purchase in ten paid with the co-branded card;
- about 4% of purchases are refunded, in full or one line, days later;
- members with enough points redeem rewards now and then; most vouchers are used in store;
- a few members post reviews (an activity event that earns).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from patron.domain.audit import Actor
from patron.domain.errors import PatronError
from patron.domain.fingerprints import Fingerprints
from patron.domain.members import Member
from patron.domain.programs import Program
from patron.domain.rules import Event, Line, Payment, Purchase
from patron.services import enrolment, events, jobs, members, purchases, refunds, rewards
from patron.services.ledger import Context, StoppedClock
from patron.services.ports import UnitOfWork, UnitOfWorkFactory
from patron.services.programs import get_program
from patron.services.transactions import run_in_transaction

_FIRST = (
    "Ada Grace Alan Maya Leo Zoe Noah Emma Liam Olivia Ava Mia Isla Lucas Amara Sofia "
    "Mateo Chloe Hana Yuki Aiko Ravi Priya Arjun Nia Kofi Amina Omar Layla Elena "
    "Marco Luca Giulia Ines Tomas Freya Astrid Nils Ingrid Sven Clara Felix Hugo Jade "
    "Louis Manon Camille Theo Rosa Diego Lucia Pablo Carmen Jonas Lea Emil Nora Aria "
    "Kai"
)
_LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Martinez Lopez Wilson "
    "Anderson Taylor Thomas Moore Jackson Martin Lee Thompson White Harris Clark "
    "Lewis Robinson Walker Young Allen King Wright Scott Nguyen Hill Flores Green "
    "Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Kim Patel Shah "
    "Okafor Mensah Rossi Bianchi Novak Larsen Berg Dubois Moreau"
)
FIRST_NAMES = tuple(_FIRST.split())
LAST_NAMES = tuple(_LAST.split())

CATALOGUE: tuple[tuple[str, str, str, Decimal], ...] = (
    # sku, category, name, price
    ("LIP-01", "makeup", "Rouge lipstick", Decimal("24.00")),
    ("LIP-02", "makeup", "Lip gloss", Decimal("18.00")),
    ("MSC-01", "makeup", "Volume mascara", Decimal("26.00")),
    ("FND-01", "makeup", "Serum foundation", Decimal("42.00")),
    ("PAL-01", "makeup", "Eyeshadow palette", Decimal("54.00")),
    ("BLU-01", "makeup", "Cream blush", Decimal("22.00")),
    ("CLN-01", "skincare", "Gel cleanser", Decimal("19.00")),
    ("SER-01", "skincare", "Vitamin C serum", Decimal("68.00")),
    ("MOI-01", "skincare", "Daily moisturiser", Decimal("38.00")),
    ("SPF-01", "skincare", "Mineral sunscreen", Decimal("32.00")),
    ("EYE-01", "skincare", "Eye cream", Decimal("56.00")),
    ("MSK-01", "skincare", "Sheet masks (5)", Decimal("15.00")),
    ("EDP-01", "fragrance", "Eau de parfum 50 ml", Decimal("118.00")),
    ("EDT-01", "fragrance", "Eau de toilette 30 ml", Decimal("72.00")),
    ("MST-01", "fragrance", "Body mist", Decimal("28.00")),
    ("SHP-01", "hair", "Repair shampoo", Decimal("24.00")),
    ("CND-01", "hair", "Conditioner", Decimal("24.00")),
    ("OIL-01", "hair", "Hair oil", Decimal("36.00")),
    ("BRS-01", "tools", "Brush set", Decimal("48.00")),
    ("SPG-01", "tools", "Blending sponge", Decimal("12.00")),
    ("BAG-01", "gift", "Gift bag", Decimal("4.00")),
)
STORES = tuple(f"NYC-{n:02d}" for n in range(1, 9))
DAYS = 440
"""Fourteen and a half months: a full year of trading, and long enough for the first month's
points to reach their 12-month expiry (and their reminders) before today."""


@dataclass
class Story:
    """What the simulated year produced, for the summary."""

    members: int = 0
    referred: int = 0
    purchases: int = 0
    anonymous: int = 0
    refunds: int = 0
    redemptions: int = 0
    vouchers_used: int = 0
    reviews: int = 0
    refused: dict[str, int] = field(default_factory=dict)

    def refuse(self, why: str) -> None:
        self.refused[why] = self.refused.get(why, 0) + 1


@dataclass
class _Shopper:
    index: int
    enrol_day: int
    rate: float  # purchases per year
    referrer: int | None
    member_id: str | None = None
    referral_code: str | None = None
    bought: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    """Everything that happens on one simulated day, in time order."""

    fingerprint: Fingerprints
    actions: list[tuple[datetime, Callable[[Context], None]]] = field(default_factory=list)


def populate(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    program: Program,
    *,
    end: datetime,
    count: int = 2000,
    seed: int = 7,
    days: int = DAYS,
    progress: Callable[[int, int], None] | None = None,
) -> Story:
    """Simulate the ``days`` before ``end`` for ``count`` members, in the program's scope."""
    uow_factory = uow_factory.scoped(program.id)
    rng = random.Random(seed)  # noqa: S311 (a reproducible story, not a secret)
    zone = ZoneInfo(program.timezone)
    first_day = (end.astimezone(zone) - timedelta(days=days)).date()
    shoppers = _shoppers(rng, count, days)
    by_day: dict[int, list[_Shopper]] = {}
    for shopper in shoppers:
        by_day.setdefault(shopper.enrol_day, []).append(shopper)
    story = Story()
    refunds_due: dict[int, list[tuple[str, str | None]]] = {}
    for day in range(days):
        local_day = first_day + timedelta(days=day)
        opening = datetime(local_day.year, local_day.month, local_day.day, 9, tzinfo=zone)
        plan = _Plan(uow_factory.fingerprint)
        for shopper in by_day.get(day, []):
            _plan_enrolment(rng, plan, opening, shopper, shoppers, story)
        for shopper in shoppers:
            if shopper.member_id is None or shopper.enrol_day >= day:
                continue
            weekend = local_day.weekday() >= 5
            chance = shopper.rate / DAYS * (1.6 if weekend else 0.85)
            if rng.random() < chance:
                _plan_purchase(rng, plan, opening, day, shopper, story, refunds_due)
            if rng.random() < 0.0008:
                _plan_review(rng, plan, opening, day, shopper, story)
        for _ in range(rng.choices((0, 1, 2), weights=(45, 40, 15))[0]):
            _plan_walk_in(rng, plan, opening, day, story)
        for purchase_id, sku in refunds_due.pop(day, []):
            _plan_refund(rng, plan, opening, purchase_id, sku, story)
        plan.actions.sort(key=lambda action: action[0])
        run_in_transaction(uow_factory, _day_runner(actor, program, plan))
        closing = datetime(local_day.year, local_day.month, local_day.day, 23, 30, tzinfo=zone)
        jobs.run_due(uow_factory, closing.astimezone(UTC), program=program.id)
        if progress is not None:
            progress(day + 1, days)
    return story


def _shoppers(rng: random.Random, count: int, days: int) -> list[_Shopper]:
    shoppers = []
    launch = min(30, days)
    for index in range(count):
        # Launch campaign: a third enrol in the first month, the rest over the year.
        enrol_day = (
            rng.randrange(0, launch) if rng.random() < 0.33 else rng.randrange(0, max(days - 7, 1))
        )
        rate = min(26.0, rng.lognormvariate(1.35, 0.75))
        shoppers.append(_Shopper(index, enrol_day, rate, None))
    shoppers.sort(key=lambda s: s.enrol_day)
    for position, shopper in enumerate(shoppers):
        shopper.index = position
        if position > 20 and rng.random() < 0.15:
            shopper.referrer = rng.randrange(0, position)
    return shoppers


def _day_runner(actor: Actor, program: Program, plan: _Plan) -> Callable[[UnitOfWork], None]:
    return lambda uow: _run_day(uow, actor, program, plan)


def _run_day(uow: UnitOfWork, actor: Actor, program: Program, plan: _Plan) -> None:
    for at, action in plan.actions:
        clock = StoppedClock(at)
        action(Context(uow, clock, actor, get_program(uow, program.id)))


def _plan_enrolment(
    rng: random.Random,
    plan: _Plan,
    opening: datetime,
    shopper: _Shopper,
    shoppers: list[_Shopper],
    story: Story,
) -> None:
    at = opening + timedelta(minutes=rng.randrange(0, 12 * 60))
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    born = (
        date(rng.randrange(1962, 2006), rng.randrange(1, 13), rng.randrange(1, 29))
        if rng.random() < 0.85
        else None
    )
    referrer = shoppers[shopper.referrer] if shopper.referrer is not None else None
    consent = rng.random() < 0.6

    def enrol(ctx: Context) -> None:
        code = referrer.referral_code if referrer is not None else None
        cmd = members.NewMember(
            external_id=f"CUST-{shopper.index + 1:05d}",
            email=f"{first}.{last}.{shopper.index + 1}@example.com".lower(),
            first_name=first,
            last_name=last,
            birth_date=born,
            attributes={"home_store": rng.choice(STORES)},
            consents={"email_marketing": members.ConsentInput(granted=True)} if consent else {},
            referred_by=code,
            enrolled_at=at,
        )
        member = enrolment.enrol(ctx.uow, ctx.clock, ctx.actor, ctx.program, cmd)
        shopper.member_id, shopper.referral_code = member.id, member.referral_code
        story.members += 1
        story.referred += 1 if code else 0

    plan.actions.append((at, enrol))


def _basket(rng: random.Random) -> list[Line]:
    size = rng.choices((1, 2, 3, 4, 5), weights=(38, 30, 17, 10, 5))[0]
    lines = []
    for sku, category, name, price in rng.sample(CATALOGUE, size):
        quantity = 1 if rng.random() < 0.85 else 2
        discount = (
            (price * quantity * Decimal("0.15")).quantize(Decimal("0.01"))
            if rng.random() < 0.1
            else Decimal(0)
        )
        lines.append(Line(sku, quantity, price, discount, category, name))
    return lines


def _plan_purchase(
    rng: random.Random,
    plan: _Plan,
    opening: datetime,
    day: int,
    shopper: _Shopper,
    story: Story,
    refunds_due: dict[int, list[tuple[str, str | None]]],
) -> None:
    at = opening + timedelta(minutes=rng.randrange(0, 12 * 60))
    channel = rng.choices(("store", "online", "app"), weights=(55, 33, 12))[0]
    lines = _basket(rng)
    subtotal = sum((line.amount for line in lines), Decimal(0))
    tax = (subtotal * Decimal("0.08875")).quantize(Decimal("0.01"))
    shipping = Decimal("5.95") if channel != "store" and subtotal < 50 else Decimal(0)
    card = "cobrand" if rng.random() < 0.1 else rng.choice(("visa", "mastercard", "amex"))
    external_id = f"{channel[:2].upper()}-{day:03d}-{shopper.index:05d}-{len(shopper.bought)}"
    purchase = Purchase(
        external_id=external_id,
        occurred_at=at,
        lines=tuple(lines),
        channel=channel,
        store_id=rng.choice(STORES) if channel == "store" else None,
        tax=tax,
        shipping=shipping,
        payments=(Payment("card", subtotal + tax + shipping, card),),
    )
    redeem = rng.random() < 0.35
    use_voucher = rng.random() < 0.75
    if rng.random() < 0.04:
        later = day + rng.randrange(2, 25)
        if later < DAYS:
            sku = rng.choice(lines).sku if len(lines) > 1 and rng.random() < 0.5 else None
            refunds_due.setdefault(later, []).append((external_id, sku))

    def buy(ctx: Context) -> None:
        document = _document(purchase)
        ref = purchases.MemberRef("id", str(shopper.member_id))
        try:
            purchases.record(
                ctx,
                purchase,
                ref,
                fingerprint=plan.fingerprint("purchase", "", document),
                document=document,
            )
        except PatronError as refused:
            story.refuse(refused.code)
            return
        shopper.bought.append(external_id)
        story.purchases += 1
        if redeem:
            _redeem(ctx, str(shopper.member_id), story, use_voucher, external_id)

    plan.actions.append((at, buy))


def _redeem(ctx: Context, member_id: str, story: Story, use: bool, reference: str) -> None:
    offers = [o for o in rewards.catalogue(ctx, member_id) if o.reason is None]
    if not offers:
        return
    best = max(offers, key=lambda o: o.reward.cost_amount)
    try:
        done = rewards.redeem(ctx, member_id, best.reward.code)
    except PatronError as refused:
        story.refuse(refused.code)
        return
    story.redemptions += 1
    code = done.redemption.voucher_code
    if use and code is not None:
        rewards.use(ctx, code, reference)
        story.vouchers_used += 1


def _plan_walk_in(
    rng: random.Random, plan: _Plan, opening: datetime, day: int, story: Story
) -> None:
    """A shopper who is not a member: an anonymous store purchase (it counts in sales)."""
    at = opening + timedelta(minutes=rng.randrange(0, 12 * 60))
    lines = _basket(rng)
    subtotal = sum((line.amount for line in lines), Decimal(0))
    tax = (subtotal * Decimal("0.08875")).quantize(Decimal("0.01"))
    purchase = Purchase(
        external_id=f"ST-{day:03d}-W{rng.randrange(10**8):08d}",
        occurred_at=at,
        lines=tuple(lines),
        channel="store",
        store_id=rng.choice(STORES),
        tax=tax,
        payments=(Payment("card", subtotal + tax, rng.choice(("visa", "mastercard"))),),
    )

    def buy(ctx: Context) -> None:
        document = _document(purchase)
        digest = plan.fingerprint("purchase", "", document)
        purchases.record(ctx, purchase, None, fingerprint=digest, document=document)
        story.anonymous += 1

    plan.actions.append((at, buy))


def _plan_refund(
    rng: random.Random,
    plan: _Plan,
    opening: datetime,
    purchase_id: str,
    sku: str | None,
    story: Story,
) -> None:
    at = opening + timedelta(minutes=rng.randrange(0, 12 * 60))
    document: dict[str, Any] = {"lines": [{"sku": sku, "quantity": 1}]} if sku else {}

    def give_back(ctx: Context) -> None:
        if ctx.uow.purchases.get(ctx.program.id, purchase_id) is None:
            return  # the purchase was refused
        key = f"R-{purchase_id}"
        try:
            refunds.refund(
                ctx,
                purchase_id,
                external_id=key,
                document=document,
                fingerprint=plan.fingerprint("refund", purchase_id, document),
                occurred_at=at,
            )
        except PatronError as refused:
            story.refuse(refused.code)
            return
        story.refunds += 1

    plan.actions.append((at, give_back))


def _plan_review(
    rng: random.Random, plan: _Plan, opening: datetime, day: int, shopper: _Shopper, story: Story
) -> None:
    at = opening + timedelta(minutes=rng.randrange(0, 12 * 60))

    def review(ctx: Context) -> None:
        member: Member = members.get_member(ctx.uow, ctx.program, str(shopper.member_id))
        event = Event(f"review-{day}-{shopper.index}", "review_posted", at)
        events.record(ctx, member, event, fingerprint=event.external_id)
        story.reviews += 1

    plan.actions.append((at, review))


def _document(purchase: Purchase) -> dict[str, Any]:
    """The purchase as the API would have stored its request body."""
    return {
        "external_id": purchase.external_id,
        "occurred_at": purchase.occurred_at.isoformat(),
        "channel": purchase.channel,
        **({"store_id": purchase.store_id} if purchase.store_id else {}),
        "lines": [
            {
                "sku": line.sku,
                "category": line.category,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                **({"discount": str(line.discount)} if line.discount else {}),
            }
            for line in purchase.lines
        ],
        "tax": str(purchase.tax),
        "shipping": str(purchase.shipping),
        "payments": [
            {"method": p.method, "amount": str(p.amount), "card_type": p.card_type}
            for p in purchase.payments
        ],
    }
