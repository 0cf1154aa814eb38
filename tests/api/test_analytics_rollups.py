"""The daily roll-ups (services/analytics_rollups.py) give every figure the raw rows give.

The history of ``tests/api/test_analytics_figures.py`` (purchases recorded weeks after they
occurred, refunds weeks later, adjustments, redemptions and a cancellation, expiry, a referral,
an erasure, the jobs run along the way, in Europe/Paris with its clock changes) is summarised
for random windows and charted by day, week and month twice: with the roll-ups, and with every
window read raw (``split`` patched to return no day). Then days already rolled up are changed
by a back-dated purchase and a refund of an old purchase: their roll-ups, and only theirs, are
dropped in the same transaction, the figures still match, and rolled up again they match too.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.domain.errors import ValidationFailed
from patron.services import analytics, analytics_rollups, programs
from patron.services.analytics_rollups import Split
from patron.services.ports import Bucket
from patron.services.programs import load_config
from patron.services.transactions import run_in_transaction, run_read
from tests.api.test_analytics_figures import FIRST, LAST, SHOP, _history
from tests.factories import MutableClock, auth

NOW = LAST + timedelta(days=3)


def _raw(uow: Any, program: Any, start: datetime, end: datetime, **_: Any) -> Split:
    return Split([], [Bucket(start, end)])


def _figures(container: Container, windows: list[tuple[datetime, datetime]]) -> list[Any]:
    def read(uow: Any) -> list[Any]:
        program = programs.get_program(uow, "shop")
        config = load_config(uow, program)
        found = []
        for start, end in windows:
            found.append(analytics.summary(uow, program, config, start, end))
            for size in ("day", "week", "month"):
                with suppress(ValidationFailed):  # more than 400 buckets
                    found.append(analytics.series(uow, program, config, start, end, size))
        return found

    return run_read(container.uow, read)


def _windows(rng: random.Random) -> list[tuple[datetime, datetime]]:
    span = int((NOW - FIRST).total_seconds())
    found = [
        (FIRST - timedelta(days=30), NOW),  # everything
        (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 11, 1, tzinfo=UTC)),  # both changes
        (datetime(2026, 3, 28, 23, tzinfo=UTC), datetime(2026, 4, 2, 22, tzinfo=UTC)),
    ]
    for _ in range(9):
        a, b = sorted(rng.randrange(span) for _ in range(2))
        found.append((FIRST + timedelta(seconds=a), FIRST + timedelta(seconds=b + 3600)))
    return found


def _rolled(container: Container, program_id: str) -> set[datetime]:
    with container.engine.connect() as conn:
        days = t.analytics_days.c
        return set(
            conn.execute(sa.select(days.day_start).where(days.program_id == program_id)).scalars()
        )


def _roll_up(container: Container, at: datetime) -> int:
    def roll(uow: Any) -> int:
        return analytics_rollups.roll_up(uow, programs.get_program(uow, "shop"), at)

    return run_in_transaction(container.uow, roll)


def _same(container: Container, windows: list[tuple[datetime, datetime]], mp: Any) -> None:
    rolled = _figures(container, windows)
    with mp.context() as raw:
        raw.setattr(analytics_rollups, "split", _raw)
        assert _figures(container, windows) == rolled


def test_rolled_up_figures_are_the_raw_figures(
    client: TestClient,
    container: Container,
    shop: dict[str, str],
    clock: MutableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _history(client, container, shop, clock)
    rng = random.Random(20261203)
    windows = _windows(rng)
    _roll_up(container, NOW)
    before = _rolled(container, shop["id"])
    assert len(before) > 400  # every day from the first purchase or entry to yesterday
    _same(container, windows, monkeypatch)

    # Days already rolled up change: a purchase dated months ago, a refund of an old purchase.
    clock.at = NOW
    old = datetime(2025, 8, 14, 12, 30, tzinfo=UTC)
    answer = client.post(
        f"{SHOP}/purchases",
        json={
            "external_id": "LATE-1",
            "occurred_at": old.isoformat(),
            "lines": [{"sku": "A-1", "category": "books", "quantity": 1, "unit_price": "42.00"}],
        },
        headers=auth(shop["pos"]),
    )
    assert answer.status_code == 201, answer.text
    with container.engine.connect() as conn:
        p = t.purchases.c
        refundable = conn.execute(
            sa.select(p.external_id, p.occurred_at)
            .where(p.program_id == shop["id"], p.refunded == 0, p.occurred_at < old)
            .order_by(p.occurred_at)
        ).first()
    assert refundable is not None
    answer = client.post(
        f"{SHOP}/purchases/{refundable.external_id}/refunds",
        json={"external_id": "LATE-R"},
        headers=auth(shop["pos"]),
    )
    assert answer.status_code == 201, answer.text
    after = _rolled(container, shop["id"])
    dropped = before - after
    assert len(dropped) == 2, dropped  # the day of each: only those
    for moment in (old, refundable.occurred_at):
        assert any(d <= moment < d + timedelta(hours=24) for d in dropped), moment
    _same(container, windows, monkeypatch)

    # Rolled up again (the job's or the dashboard's next run), the figures do not move.
    assert _roll_up(container, NOW) == 2
    assert _rolled(container, shop["id"]) == before
    _same(container, windows, monkeypatch)
    assert _roll_up(container, NOW) == 0


def test_a_day_of_another_time_zone_is_read_raw(
    client: TestClient, container: Container, shop: dict[str, str], clock: MutableClock
) -> None:
    """Stored days that are not days of the program's zone (its zone changed) are ignored."""
    paris = Bucket(datetime(2026, 1, 4, 23, tzinfo=UTC), datetime(2026, 1, 5, 23, tzinfo=UTC))
    assert analytics_rollups.is_local_day(paris, "Europe/Paris")
    assert not analytics_rollups.is_local_day(paris, "UTC")
    days = analytics_rollups.local_days(
        datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC), "Europe/Paris"
    )
    # The 29th of March 2026 is 23 hours long in Paris; the 30th ends at 22:00 UTC.
    assert [(d.start.day, d.start.hour, (d.end - d.start) // timedelta(hours=1)) for d in days] == [
        (28, 23, 23),
        (29, 22, 24),
    ]


def test_two_roll_ups_at_once_store_each_day_once(
    client: TestClient, container: Container, shop: dict[str, str], clock: MutableClock
) -> None:
    """Two dashboards opened at once both roll up the missing days: they take turns."""
    clock.at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    for n in range(6):
        answer = client.post(
            f"{SHOP}/purchases",
            json={
                "external_id": f"P-{n}",
                "occurred_at": (clock.at - timedelta(days=9 * n)).isoformat(),
                "lines": [{"sku": "A", "category": "books", "quantity": 1, "unit_price": "9.00"}],
            },
            headers=auth(shop["pos"]),
        )
        assert answer.status_code == 201, answer.text
    start = threading.Barrier(2)

    def roll() -> int:
        start.wait()
        return _roll_up(container, clock.at)

    with ThreadPoolExecutor(2) as pool:
        done = sorted(pool.map(lambda _: roll(), range(2)))
    assert done == [0, 45]  # the second finds the days stored by the first
    assert len(_rolled(container, shop["id"])) == 45  # from the earliest purchase to yesterday
