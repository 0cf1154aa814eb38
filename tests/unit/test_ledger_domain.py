"""The pure ledger: FEFO order, deficits, clawback order, expiry dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patron.domain import ledger
from patron.domain.config import parse_config
from patron.domain.errors import InsufficientBalance
from patron.domain.expiry import add_months, inactivity_cutoff, lot_expiry
from patron.domain.ledger import Balance, Header, Lot

T0 = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)


def header(kind: str = "redeem") -> Header:
    return Header(entry_id=f"e-{kind}", program_id="p", type=kind, occurred_at=T0, recorded_at=T0)


def lot(
    lot_id: str, remaining: int, *, expires: int | None, earned: int = 0, pending: bool = False
) -> Lot:
    return Lot(
        id=lot_id,
        member_id="m",
        wallet="points",
        entry_id=f"earn-{lot_id}",
        amount=remaining,
        remaining=remaining,
        earned_at=T0 + timedelta(days=earned),
        available_at=T0,
        expires_at=None if expires is None else T0 + timedelta(days=expires),
        pending=pending,
    )


def test_debits_take_the_soonest_expiring_lots_first_and_undated_last() -> None:
    lots = [
        lot("never", 50, expires=None),
        lot("late", 50, expires=90),
        lot("soon-later-earned", 50, expires=30, earned=2),
        lot("soon", 50, expires=30, earned=1),
    ]
    change = ledger.debit(
        Balance("m", "points", available=200),
        header(),
        lots=lots,
        amount=120,
        destination=ledger.REDEEMED,
    )
    assert [(c.lot_id, c.amount) for c in change.consumptions] == [
        ("soon", 50),
        ("soon-later-earned", 50),
        ("late", 20),
    ]
    entry = change.entries[0]
    assert entry.amount == -120
    assert entry.postings == (ledger.Posting(ledger.AVAILABLE, ledger.REDEEMED, 120),)


@pytest.mark.parametrize("available", [-1, 0, 99])
def test_no_debit_beyond_the_balance_or_while_it_is_negative(available: int) -> None:
    with pytest.raises(InsufficientBalance):
        ledger.debit(
            Balance("m", "points", available=available),
            header(),
            lots=[lot("a", 500, expires=None)],
            amount=100,
            destination=ledger.REDEEMED,
        )


def test_a_clawback_takes_its_own_lots_first_then_goes_negative() -> None:
    own = lot("own", 30, expires=300, pending=True)
    other = lot("other", 40, expires=10)
    change = ledger.clawback(
        Balance("m", "points", available=40, pending=30),
        header("refund"),
        own_lots=[own],
        other_lots=[other, own],
        amount=100,
    )
    assert [(c.lot_id, c.amount) for c in change.consumptions] == [("own", 30), ("other", 40)]
    after = change.balances[0]
    assert (after.available, after.pending, after.deficit) == (-30, 0, 30)
    assert {p.source for p in change.entries[0].postings} == {ledger.PENDING, ledger.AVAILABLE}


def test_later_credits_pay_the_deficit_first() -> None:
    change = ledger.credit(
        Balance("m", "points", available=-30),
        header("earn"),
        lots=[("new", 50, T0, None)],
        available_at=T0,
        pending=False,
        source=ledger.ISSUED,
    )
    assert change.new_lots[0].remaining == 20
    assert [(c.lot_id, c.amount) for c in change.consumptions] == [("new", 30)]
    assert change.balances[0].available == 20


@given(st.lists(st.integers(1, 1000), min_size=1, max_size=8), st.integers(1, 8000))
def test_a_debit_moves_what_it_says_and_takes_only_what_lots_hold(
    amounts: list[int], wanted: int
) -> None:
    """The entry's postings take ``wanted`` from the member's available points into the
    redeemed account (that stored postings sum to zero with their entry is checked in SQL by
    tests/api/test_ledger_postings.py)."""
    lots = [lot(str(i), n, expires=i * 7) for i, n in enumerate(amounts)]
    held = sum(amounts)
    balance = Balance("m", "points", available=held)
    if wanted > held:
        with pytest.raises(InsufficientBalance):
            ledger.debit(balance, header(), lots=lots, amount=wanted, destination=ledger.REDEEMED)
        return
    change = ledger.debit(balance, header(), lots=lots, amount=wanted, destination=ledger.REDEEMED)
    assert sum(c.amount for c in change.consumptions) == wanted
    assert all(updated.remaining >= 0 for updated in change.updated_lots)
    entry = change.entries[0]
    assert entry.amount == -wanted
    assert sum(p.effect_on(ledger.AVAILABLE) for p in entry.postings) == -wanted
    assert sum(p.effect_on(ledger.REDEEMED) for p in entry.postings) == wanted
    assert change.balances[0].available == held - wanted


def wallet(expiry: object) -> object:
    return parse_config({"wallets": {"points": {"expiry": expiry}}}).wallets["points"]


@pytest.mark.parametrize(
    ("expiry", "earned", "expected"),
    [
        # 12 months to the day, local time kept
        (
            {"mode": "after_earn", "months": 12},
            "2026-03-07T10:00:00+00:00",
            "2027-03-07T10:00:00+00:00",
        ),
        # to the end of the month in Paris: 1 April 2027 00:00 local = 31 March 22:00 UTC
        (
            {"mode": "after_earn", "months": 12, "round": "end_of_month"},
            "2026-03-07T10:00:00+00:00",
            "2027-03-31T22:00:00+00:00",
        ),
        (
            {"mode": "after_earn", "months": 1, "round": "end_of_quarter"},
            "2026-01-15T12:00:00+00:00",
            "2026-03-31T22:00:00+00:00",
        ),
        (
            {"mode": "after_earn", "months": 6, "round": "end_of_year"},
            "2026-03-07T10:00:00+00:00",
            "2026-12-31T23:00:00+00:00",
        ),
        # late evening UTC is already the next month in Paris
        (
            {"mode": "after_earn", "months": 1, "round": "end_of_month"},
            "2026-01-31T23:30:00+00:00",
            "2026-03-31T22:00:00+00:00",
        ),
        ({"mode": "none"}, "2026-03-07T10:00:00+00:00", None),
        ({"mode": "inactivity", "months": 6}, "2026-03-07T10:00:00+00:00", None),
    ],
)
def test_lot_expiry_in_the_program_time_zone(
    expiry: object, earned: str, expected: str | None
) -> None:
    got = lot_expiry(wallet(expiry), datetime.fromisoformat(earned), "Europe/Paris")  # type: ignore[arg-type]
    assert got == (None if expected is None else datetime.fromisoformat(expected))


def test_adding_months_clamps_the_day() -> None:
    assert add_months(datetime(2026, 1, 31), 1) == datetime(2026, 2, 28)
    assert add_months(datetime(2028, 1, 31), 1) == datetime(2028, 2, 29)
    assert add_months(datetime(2026, 11, 30), 3) == datetime(2027, 2, 28)
    assert add_months(datetime(2026, 3, 31), -1) == datetime(2026, 2, 28)


def test_inactivity_cutoff_is_months_before_now() -> None:
    cutoff = inactivity_cutoff(
        wallet({"mode": "inactivity", "months": 6}),  # type: ignore[arg-type]
        datetime(2026, 9, 7, 10, 0, tzinfo=UTC),
        "UTC",
    )
    assert cutoff == datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
