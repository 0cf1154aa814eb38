"""What has lapsed and what a balance shows (``domain.expiry``), without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from patron.domain.config.wallets import Wallet
from patron.domain.expiry import (
    idle_bounds,
    inactivity_deadline,
    lapsed,
    outlook,
)
from patron.domain.ledger import Balance, Lot

NOW = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
DATED = Wallet.model_validate({"expiry": {"mode": "after_earn", "months": 1}})


def idle(months: int) -> Wallet:
    return Wallet.model_validate({"expiry": {"mode": "inactivity", "months": months}})


def lot(name: str, remaining: int, expires_at: datetime | None, pending: bool = False) -> Lot:
    return Lot(name, "m", "points", "e", 100, remaining, NOW, NOW, expires_at, pending)


def test_lots_past_their_date_have_lapsed_and_are_dated_at_the_latest() -> None:
    past, later = NOW - timedelta(days=2), NOW - timedelta(hours=1)
    lots = [
        lot("a", 10, past),
        lot("b", 5, later, pending=True),
        lot("c", 7, NOW),  # expiring this very moment: gone
        lot("d", 9, NOW + timedelta(seconds=1)),
        lot("e", 4, None),
        lot("f", 0, past),  # nothing left
    ]
    gone, at = lapsed(DATED, Balance("m", "points", available=30, pending=5), lots, NOW, "UTC")
    assert [g.id for g in gone] == ["a", "b", "c"]
    assert at == NOW  # the latest date among them


def test_an_idle_wallet_lapses_whole_at_its_deadline() -> None:
    wallet = idle(6)
    balance = Balance("m", "points", available=40, pending=5, last_activity_at=NOW)
    lots = [lot("a", 40, None), lot("b", 5, None, pending=True)]
    deadline = datetime(2026, 9, 7, 10, 0, tzinfo=UTC)
    assert lapsed(wallet, balance, lots, deadline - timedelta(seconds=1), "UTC") == ([], None)
    assert lapsed(wallet, balance, lots, deadline, "UTC") == (lots, deadline)
    shown = outlook(wallet, balance, [], deadline - timedelta(days=1), "UTC")
    assert (shown.available, shown.pending, shown.expiring) == (40, 5, [(45, deadline)])
    gone = outlook(wallet, balance, [], deadline, "UTC")
    assert (gone.available, gone.pending, gone.expiring) == (0, 0, [])
    owing = Balance("m", "points", available=-20, pending=5, last_activity_at=NOW)
    assert outlook(wallet, owing, [], deadline, "UTC").available == -20  # a deficit stays owed


def test_a_balance_shows_what_is_left_and_what_comes_next() -> None:
    balance = Balance("m", "points", available=100, pending=30)
    soon, later = NOW + timedelta(days=3), NOW + timedelta(days=9)
    dated = [
        (NOW - timedelta(days=1), False, 25),
        (NOW, True, 10),
        (later, False, 40),
        (soon, False, 5),
        (soon, True, 20),
    ]
    shown = outlook(DATED, balance, dated, NOW, "UTC")
    assert (shown.available, shown.pending) == (75, 20)
    assert shown.expiring == [(25, soon), (40, later)]


@given(
    last=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)),
    months=st.integers(1, 24),
    after=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5)),
    zone=st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Sydney", "UTC"]),
)
def test_the_scan_bounds_hold_every_wallet_due(
    last: datetime, months: int, after: timedelta, zone: str
) -> None:
    """However the day is clamped and the clocks change, a wallet whose deadline has come is
    inside ``idle_bounds``, and one whose deadline falls in a day is inside that day's bounds."""
    wallet = idle(months)
    seen = last.replace(tzinfo=UTC)
    deadline = inactivity_deadline(wallet, seen, zone)
    assert deadline is not None
    bounds = idle_bounds(wallet, None, deadline + after, zone)
    assert bounds is not None
    assert bounds[0] is None
    assert seen <= bounds[1]
    window = idle_bounds(wallet, deadline - after, deadline + timedelta(seconds=1), zone)
    assert window is not None
    assert window[0] is not None
    assert window[0] <= seen <= window[1]
