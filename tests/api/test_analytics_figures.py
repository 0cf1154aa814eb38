"""Every figure of the analytics summary against a plain computation over the stored rows.

A generated history (members enrolled over fifteen months, member and anonymous purchases, full
and partial refunds, backdated purchases, redemptions and a cancellation, adjustments both ways,
a referral bonus, expiry, an erasure, two wallets) is summarised for several windows, and each
figure is recomputed here from the rows of ``members``, ``purchases``, ``ledger_entries`` and
``balances`` by the definitions of docs/analytics.md, one Python loop at a time. The queries of
``adapters/db/analytics.py`` are free to change; these figures are not.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.domain.audit import CLI
from patron.services import analytics, jobs, ledger, programs
from patron.services.ledger import Context
from patron.services.programs import load_config
from patron.services.transactions import run_in_transaction, run_read
from tests.factories import MutableClock, auth, enrol

SHOP = "/v1/programs/shop"
FIRST = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
LAST = datetime(2026, 4, 20, 18, 0, tzinfo=UTC)
WINDOWS = [
    ("2026-02-01T00:00:00Z", "2026-03-15T00:00:00Z"),  # shorter than the 90 active days
    ("2025-06-01T00:00:00Z", "2026-04-21T00:00:00Z"),  # longer
    ("2026-03-01T00:00:00+02:00", "2026-04-01T06:30:00+02:00"),  # an offset, not midnight
    ("2025-01-01T00:00:00Z", "2026-05-01T00:00:00Z"),  # the whole history
    ("2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"),  # before anything: zeros and nulls
]


def _history(
    client: TestClient, container: Container, shop: dict[str, str], clock: MutableClock
) -> None:
    """Write the generated history through the API and the use cases, each step at its time."""
    rng = random.Random(20261201)
    pos, admin = shop["pos"], shop["admin"]
    steps: list[tuple[datetime, Callable[[], object]]] = []

    def post(key: str, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        answer = client.post(SHOP + path, json=body, headers=auth(key))
        assert answer.status_code == status, answer.text
        result: dict[str, Any] = answer.json()
        return result

    clock.at = FIRST - timedelta(days=1)
    gift = {"code": "gift", "name": "Gift", "kind": "free_item", "value": "GIFT"}
    post(admin, "/rewards", {**gift, "cost": {"wallet": "points", "amount": 100}})
    members: list[tuple[str, datetime]] = []
    for n in range(14):
        clock.at = FIRST + timedelta(
            days=31 * n, hours=rng.randrange(24), minutes=rng.randrange(60)
        )
        members.append(
            (enrol(client, pos, program="shop", email=f"m{n}@example.com")["id"], clock.at)
        )

    def purchase(external_id: str, at: datetime, member: str | None, cents: int) -> None:
        body: dict[str, Any] = {
            "external_id": external_id,
            "occurred_at": at.isoformat(),
            "lines": [
                {
                    "sku": "A-1",
                    "category": "books",
                    "quantity": 1,
                    "unit_price": f"{cents / 100:.2f}",
                },
                {"sku": "B-2", "category": "makeup", "quantity": 2, "unit_price": "7.50"},
            ],
        }
        if member is not None:
            body["member"] = {"id": member}
        post(pos, "/purchases", body)

    def refund(external_id: str, k: int, amount: str | None) -> None:
        body: dict[str, Any] = {"external_id": f"R-{k}"}
        if amount is not None:
            body["amount"] = amount
        post(pos, f"/purchases/{external_id}/refunds", body)

    span = int((LAST - FIRST).total_seconds())
    refunds = 0
    for n in range(90):
        at = FIRST + timedelta(seconds=rng.randrange(span))
        enrolled = [m for m, joined in members if joined < at]
        member = rng.choice(enrolled) if enrolled and rng.random() < 0.8 else None
        cents = rng.randrange(500, 30000)
        # A third arrive late (an import of older receipts): recorded weeks after they occurred,
        # into windows that may already have been summarised.
        late = timedelta(days=rng.randrange(1, 60)) if n % 3 == 0 else timedelta(minutes=1)
        recorded = min(at + late, LAST - timedelta(days=1))
        steps.append((recorded, lambda i=n, a=at, m=member, c=cents: purchase(f"P-{i}", a, m, c)))
        if n % 4 == 1:  # refunded weeks later: every other one in full, the others in part
            part = f"{rng.randrange(100, cents + 1500) / 100:.2f}" if refunds % 2 else None
            when = min(recorded + timedelta(days=rng.randrange(1, 40)), LAST)
            steps.append((when, lambda i=n, k=refunds, a=part: refund(f"P-{i}", k, a)))
            refunds += 1

    def movements(k: int, member: str) -> None:
        post(
            admin,
            f"/members/{member}/adjustments",
            {"wallet": "points", "amount": 400 + k, "reason": "goodwill"},
        )
        post(
            admin,
            f"/members/{member}/adjustments",
            {"wallet": "credit", "amount": "12.50", "reason": "gift card"},
        )
        post(
            admin,
            f"/members/{member}/adjustments",
            {"wallet": "points", "amount": -(30 + k), "reason": "fix"},
        )
        post(pos, f"/members/{member}/redemptions", {"wallet": "points", "amount": 150 + k})
        post(pos, f"/members/{member}/redemptions", {"wallet": "credit", "amount": "2.25"})
        if k % 3 == 0:  # a reward's voucher, given back unused
            voucher = post(pos, f"/members/{member}/redemptions", {"reward": "gift"})
            post(pos, f"/redemptions/{voucher['id']}/cancel", {}, status=200)

    def referral(member: str) -> None:
        run_in_transaction(
            container.uow,
            lambda uow: ledger.earn(
                Context(uow, container.clock, CLI, programs.get_program(uow, shop["id"])),
                member,
                wallet="points",
                amount=250,
                entry_type="referral",
            ),
        )

    for k, (member, _) in enumerate(members[:6]):
        steps.append((LAST - timedelta(days=100 - 9 * k), lambda k=k, m=member: movements(k, m)))
    steps.append((LAST - timedelta(days=20), lambda: referral(members[1][0])))
    # Points of early 2025 expire twelve months on, at the end of their month.
    for month in (2, 3, 4):
        due = datetime(2026, month, 1, 0, 30, tzinfo=UTC)
        steps.append((due, lambda due=due: jobs.run_due(container.uow, due)))
    steps.append((LAST, lambda: post(admin, f"/members/{members[2][0]}/erase", {}, status=200)))
    for when, action in sorted(steps, key=lambda step: step[0]):
        clock.at = when
        action()


def _money(minor: int | Fraction, exponent: int = 2) -> str:
    value = (
        Decimal(minor.numerator) / Decimal(minor.denominator)
        if isinstance(minor, Fraction)
        else Decimal(minor)
    )
    return str(value.scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent), ROUND_HALF_UP))


def _ratio(part: int | Fraction, whole: int, places: int = 4) -> str | None:
    if not whole:
        return None
    exact = Fraction(part) / whole
    return str(
        (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
            Decimal(1).scaleb(-places), ROUND_HALF_UP
        )
    )


def _plain(rows: dict[str, list[Any]], start: datetime, end: datetime) -> dict[str, Any]:
    """The summary's figures, computed from the rows by the definitions, without SQL."""
    counted = [m for m in rows["members"] if m.status != "erased" and m.enrolled_at < end]
    active_since = end - timedelta(days=90)
    purchases = rows["purchases"]
    window = [p for p in purchases if start <= p.occurred_at < end]
    member_sales = sum(p.amount - p.refunded for p in window if p.member_id is not None)
    anonymous = sum(p.amount - p.refunded for p in window if p.member_id is None)
    orders = [p for p in window if p.refunded < p.amount]
    times: dict[str, list[datetime]] = defaultdict(list)
    for p in orders:
        if p.member_id is not None:
            times[p.member_id].append(p.occurred_at)
    repeat = [sorted(ts) for ts in times.values() if len(ts) >= 2]
    cycles = sum(
        (Fraction(int((ts[-1] - ts[0]).total_seconds()), 86_400) / (len(ts) - 1) for ts in repeat),
        Fraction(0),
    )
    lifetime = sum(
        p.amount - p.refunded for p in purchases if p.member_id is not None and p.occurred_at < end
    )
    total = member_sales + anonymous
    wallets: dict[str, Any] = {}
    for wallet in ("points", "credit"):
        entries = [
            e for e in rows["entries"] if e.wallet == wallet and start <= e.occurred_at < end
        ]

        def moved(kind: str, sign: int, entries: list[Any] = entries) -> int:
            return sum(abs(e.amount) for e in entries if e.type == kind and e.amount * sign > 0)

        show: Callable[[int], Any] = _money if wallet == "credit" else int
        wallets[wallet] = {
            "issued": show(moved("earn", 1) + moved("referral", 1) + moved("adjust", 1)),
            "redeemed": show(moved("redeem", -1) - moved("redemption_cancel", 1)),
            "expired": show(moved("expire", -1)),
            "clawed_back": show(moved("refund", -1)),
            "adjusted_down": show(moved("adjust", -1)),
            "outstanding": show(sum(b.available for b in rows["balances"] if b.wallet == wallet)),
            "pending": show(sum(b.pending for b in rows["balances"] if b.wallet == wallet)),
        }
    return {
        "members": {
            "total": len(counted),
            "new": sum(1 for m in counted if m.enrolled_at >= start),
            "active_90_days": len(
                {
                    p.member_id
                    for p in purchases
                    if p.member_id is not None and active_since <= p.occurred_at < end
                }
            ),
            "tiers": dict(Counter(m.tier_code for m in counted if m.tier_code is not None)),
        },
        "wallets": wallets,
        "sales": {
            "total": _money(total),
            "members": _money(member_sales),
            "anonymous": _money(anonymous),
            "member_share": _ratio(member_sales, total),
            "orders": len(orders),
            "average_order_value": _money(Fraction(total, len(orders))) if orders else None,
        },
        "behaviour": {
            "buyers": len(times),
            "purchase_frequency": _ratio(sum(len(ts) for ts in times.values()), len(times), 2),
            "repeat_purchase_rate": _ratio(len(repeat), len(times)),
            "average_purchase_cycle_days": _ratio(cycles, len(repeat), 1),
            "historical_clv": _money(Fraction(lifetime, len(counted))) if counted else None,
        },
    }


def _rows(container: Container, program_id: str) -> dict[str, list[Any]]:
    def read(table: sa.Table) -> list[Any]:
        with container.engine.connect() as conn:
            return list(conn.execute(sa.select(table).where(table.c.program_id == program_id)))

    return {
        "members": read(t.members),
        "purchases": read(t.purchases),
        "entries": read(t.ledger_entries),
        "balances": read(t.balances),
    }


def test_every_figure_matches_a_plain_computation_over_the_rows(
    client: TestClient, container: Container, shop: dict[str, str], clock: MutableClock
) -> None:
    _history(client, container, shop, clock)
    rows = _rows(container, shop["id"])
    # The history exercises every figure: each kind of flow, refunds of both kinds, an erasure.
    kinds = Counter((e.wallet, e.type, e.amount > 0) for e in rows["entries"])
    for wanted in [
        ("points", "earn", True),
        ("points", "referral", True),
        ("points", "adjust", True),
        ("points", "adjust", False),
        ("points", "redeem", False),
        ("points", "redemption_cancel", True),
        ("points", "expire", False),
        ("points", "refund", False),
        ("credit", "adjust", True),
        ("credit", "redeem", False),
    ]:
        assert kinds[wanted], wanted
    assert any(0 < p.refunded < p.amount for p in rows["purchases"])
    assert any(p.refunded == p.amount for p in rows["purchases"])
    assert any(m.status == "erased" for m in rows["members"])
    assert any(p.recorded_at - p.occurred_at > timedelta(days=1) for p in rows["purchases"])

    # Windows on the boundaries: ending exactly 90 days after a member's last purchase (still
    # active), and starting exactly at a purchase (in the window).
    last = max(p.occurred_at for p in rows["purchases"] if p.member_id is not None)
    first = min(p.occurred_at for p in rows["purchases"] if p.member_id is not None)
    edges = [
        ((last + timedelta(days=60)).isoformat(), (last + timedelta(days=90)).isoformat()),
        (first.isoformat(), (first + timedelta(days=45)).isoformat()),
    ]
    for start, end in WINDOWS + edges:
        answer = client.get(
            f"{SHOP}/analytics/summary",
            params={"from": start, "to": end},
            headers=auth(shop["read"]),
        )
        assert answer.status_code == 200, answer.text
        got = answer.json()
        want = _plain(rows, datetime.fromisoformat(start), datetime.fromisoformat(end))
        assert got["members"] == want["members"], (start, end)
        assert got["sales"] == want["sales"], (start, end)
        assert got["behaviour"] == want["behaviour"], (start, end)
        for wallet, flows in want["wallets"].items():
            shown = {k: v for k, v in got["wallets"][wallet].items() if k in flows}
            assert shown == flows, (start, end, wallet)
        assert got["points"] == got["wallets"]["points"]

    # The same figures from one read of the service, as ``patron report`` prints them.
    def report(uow: Any) -> Any:
        program = programs.get_program(uow, shop["id"])
        start, end = (datetime.fromisoformat(w) for w in WINDOWS[1])
        return analytics.summary(uow, program, load_config(uow, program), start, end)

    figures = run_read(container.uow, report)
    start, end = WINDOWS[1]
    served = client.get(
        f"{SHOP}/analytics/summary", params={"from": start, "to": end}, headers=auth(shop["read"])
    )
    assert figures["sales"] == served.json()["sales"]
    assert figures["behaviour"] == served.json()["behaviour"]
