"""Buyer spans (services/analytics_spans.py) give the per-member figures the raw purchases give.

The history of ``tests/api/test_analytics_figures.py`` (purchases recorded weeks after they
occurred, refunds weeks later, an erasure, in Europe/Paris with its clock changes) is summarised
for long windows, some starting or ending off midnight, with the spans built and with every
window read raw. Then purchases are written in spans already built (back-dated, refunded): the
spans holding them, and only those, are dropped in the writer's transaction, the figures still
match, and built again they match too. A span written into while it is built is never marked
ready.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.services import analytics, analytics_spans, jobs, programs
from patron.services.ports import Bucket
from patron.services.programs import load_config
from patron.services.transactions import run_in_transaction, run_read
from tests.api.test_analytics_figures import FIRST, LAST, SHOP, _history
from tests.factories import MutableClock, auth

NOW = LAST + timedelta(days=3)
_s = t.analytics_spans.c


def _buy(
    client: TestClient, shop: dict[str, str], key: str, at: datetime | None, price: str = "9.00"
) -> None:
    """A purchase through the API, dated ``at`` (now when None)."""
    body: dict[str, Any] = {
        "external_id": key,
        "lines": [{"sku": "A", "category": "books", "quantity": 1, "unit_price": price}],
    }
    if at is not None:
        body["occurred_at"] = at.isoformat()
    answer = client.post(f"{SHOP}/purchases", json=body, headers=auth(shop["pos"]))
    assert answer.status_code == 201, answer.text


def _summaries(container: Container, windows: list[tuple[datetime, datetime]]) -> list[Any]:
    def read(uow: Any) -> list[Any]:
        program = programs.get_program(uow, "shop")
        config = load_config(uow, program)
        return [
            figures
            for s, e in windows
            for figures in (
                analytics.summary(uow, program, config, s, e),
                analytics.series(uow, program, config, s, e, "month"),
            )
        ]

    return run_read(container.uow, read)


def _windows(rng: random.Random) -> list[tuple[datetime, datetime]]:
    found = [
        (FIRST - timedelta(days=30), NOW),  # everything, ending now
        (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 11, 1, tzinfo=UTC)),  # off midnight
        (datetime(2025, 4, 30, 22, tzinfo=UTC), datetime(2026, 4, 30, 22, tzinfo=UTC)),  # local
    ]
    length = int((NOW - FIRST).total_seconds())
    while len(found) < 9:
        a, b = sorted(rng.randrange(length) for _ in range(2))
        if b - a > 100 * 86_400:
            found.append((FIRST + timedelta(seconds=a), FIRST + timedelta(seconds=b)))
    return found


def _build(container: Container, windows: list[tuple[datetime, datetime]]) -> int:
    """Build the windows' spans and their month buckets' spans; how many windows' were built."""
    program = run_read(container.uow, lambda uow: programs.get_program(uow, "shop"))
    for s, e in windows:
        tiles = analytics.buckets(s, e, "month", program.timezone)
        analytics_spans.build_buckets(container.uow, program, tiles, NOW)
    return sum(analytics_spans.build(container.uow, program, s, e, NOW) for s, e in windows)


def _ready(container: Container, purpose: str = "window") -> set[tuple[datetime, datetime]]:
    with container.engine.connect() as conn:
        return {
            (row.span_start, row.span_end)
            for row in conn.execute(
                sa.select(_s.span_start, _s.span_end).where(_s.ready, _s.purpose == purpose)
            )
        }


def _same(container: Container, windows: list[tuple[datetime, datetime]], mp: Any) -> None:
    spanned = _summaries(container, windows)
    with mp.context() as raw:
        raw.setattr(analytics_spans, "_from_span", lambda *args: None)
        raw.setattr(analytics_spans, "bucket_active", lambda uow, p, tiles: [None] * len(tiles))
        assert _summaries(container, windows) == spanned


def test_figures_from_spans_are_the_raw_figures(
    client: TestClient,
    container: Container,
    shop: dict[str, str],
    clock: MutableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _history(client, container, shop, clock)
    windows = _windows(random.Random(20261203))
    assert _build(container, windows) == len(windows)
    assert _build(container, windows) == 0  # ready: not built again
    built = _ready(container)
    assert len(built) == len(windows)
    # Each span is whole local days of Paris, before today's.
    for start, end in built:
        assert start.astimezone(analytics_spans.ZoneInfo("Europe/Paris")).hour == 0
        assert end <= NOW
    calls: list[Any] = []
    found = analytics_spans._from_span

    def counted(*args: Any) -> Any:
        calls.append(found(*args))
        return calls[-1]

    with monkeypatch.context() as spy:
        spy.setattr(analytics_spans, "_from_span", counted)
        _summaries(container, windows)
    assert all(c is not None for c in calls)  # every window was read from its span
    months = _ready(container, "bucket")
    assert len(months) > 12  # the whole months of the windows, each a span
    assert all(timedelta(days=28) <= e - s <= timedelta(days=31, hours=1) for s, e in months)
    _same(container, windows, monkeypatch)

    # Purchases written in built spans: one dated months ago, a refund of an old one.
    clock.at = NOW
    old = datetime(2025, 8, 14, 12, 30, tzinfo=UTC)
    _buy(client, shop, "LATE-1", old, "42.00")
    after_late = _ready(container)
    assert after_late == {(s, e) for s, e in built if not s <= old < e}
    with container.engine.connect() as conn:
        p = t.purchases.c
        refundable = conn.execute(
            sa.select(p.external_id, p.occurred_at)
            .where(p.program_id == shop["id"], p.refunded == 0, p.member_id.is_not(None))
            .order_by(p.occurred_at.desc())
        ).first()
    assert refundable is not None
    answer = client.post(
        f"{SHOP}/purchases/{refundable.external_id}/refunds",
        json={"external_id": "LATE-R"},
        headers=auth(shop["pos"]),
    )
    assert answer.status_code == 201, answer.text
    at = refundable.occurred_at
    assert _ready(container) == {(s, e) for s, e in after_late if not s <= at < e}
    _same(container, windows, monkeypatch)

    # Built again, the figures do not move, and the spans' old buyers rows are gone.
    dropped = built - _ready(container)
    assert dropped
    # The months of the late purchase and of the refunded one are dropped too, only those.
    assert months - _ready(container, "bucket") == {
        (s, e) for s, e in months if s <= old < e or s <= at < e
    }
    assert _build(container, windows) == len(dropped)
    assert _ready(container, "bucket") == months
    assert _ready(container) == built
    _same(container, windows, monkeypatch)
    with container.engine.connect() as conn:
        b = t.analytics_span_buyers.c
        keys = set(conn.execute(sa.select(b.span_start, b.span_end).distinct()).all())
    assert {(row[0], row[1]) for row in keys} == built | months


def test_a_span_written_into_while_built_is_not_ready(
    client: TestClient, container: Container, shop: dict[str, str], clock: MutableClock
) -> None:
    clock.at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    for n in range(12):
        _buy(client, shop, f"P-{n}", clock.at - timedelta(days=9 * n))
    program = run_read(container.uow, lambda uow: programs.get_program(uow, "shop"))
    span = analytics_spans.span_for(program, clock.at - timedelta(days=100), clock.at, clock.at)
    assert span is not None
    assert (
        analytics_spans.span_for(program, clock.at - timedelta(days=30), clock.at, clock.at) is None
    )

    def opened(uow: Any) -> None:
        uow.analytics.open_span(program.id, span, "t" * 32, clock.at, "window")

    run_in_transaction(container.uow, opened)
    _buy(client, shop, "LATE", span.start + timedelta(days=3))
    filled = run_in_transaction(
        container.uow, lambda uow: uow.analytics.fill_span(program.id, span, "t" * 32)
    )
    assert filled is False
    assert _ready(container) == set()
    # A purchase of today does not touch the span: built now, it stays ready.
    assert analytics_spans.build(container.uow, program, span.start, clock.at, clock.at)
    _buy(client, shop, "TODAY", None)
    assert _ready(container) == {(span.start, span.end)}
    assert Bucket(span.start, span.end) == span


def test_the_jobs_move_the_dashboards_spans_to_today(
    client: TestClient, container: Container, shop: dict[str, str], clock: MutableClock
) -> None:
    """After midnight the scheduled jobs build the spans the dashboard will ask for: the
    windows it showed, and their previous periods, each moved forward by the days passed."""
    clock.at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    for n in range(30):
        _buy(client, shop, f"P-{n}", clock.at - timedelta(days=23 * n))
    program = run_read(container.uow, lambda uow: programs.get_program(uow, "shop"))
    # The 12-month period of the console (Paris days), and the one before it.
    today = datetime(2026, 2, 28, 23, tzinfo=UTC)
    current = (datetime(2025, 3, 1, 23, tzinfo=UTC), today + timedelta(days=1))
    before = (datetime(2024, 3, 1, 23, tzinfo=UTC), current[0])
    for start, end in (current, before):
        assert analytics_spans.build(container.uow, program, start, end, clock.at)
    assert _ready(container) == {(current[0], today), before}
    assert analytics_spans.roll_forward(container.uow, program, clock.at) == 0  # today's

    clock.at += timedelta(days=2)
    report = jobs.run_due(container.uow, clock.at)
    assert report.done["shop"]["rollups"] >= 2
    moved = {(current[0] + timedelta(days=2), today + timedelta(days=2))}
    moved |= {(before[0] + timedelta(days=2), before[1] + timedelta(days=2))}
    assert moved <= _ready(container)
    assert analytics_spans.roll_forward(container.uow, program, clock.at) == 0
