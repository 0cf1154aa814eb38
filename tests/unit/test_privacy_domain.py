"""The pure parts of erasure: closing a balance, redacting copies, keyed digests."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patron.domain import ledger, privacy
from patron.domain.ledger import AVAILABLE, ERASED, PENDING, Balance, Posting
from patron.domain.members import Member
from tests.unit.test_ledger_domain import header, lot

T0 = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)


def test_closing_takes_available_and_pending_lots_to_erased() -> None:
    lots = [
        lot("a", 30, expires=10),
        lot("b", 20, expires=None),
        lot("p", 15, expires=5, pending=True),
    ]
    change = ledger.close(
        Balance("m", "points", available=50, pending=15, lifetime_earned=80),
        header("erase"),
        lots=lots,
    )
    (entry,) = change.entries
    assert (entry.type, entry.amount) == ("erase", -65)
    assert set(entry.postings) == {Posting(PENDING, ERASED, 15), Posting(AVAILABLE, ERASED, 50)}
    assert {lot.id: lot.remaining for lot in change.updated_lots} == {"a": 0, "b": 0, "p": 0}
    assert sum(c.amount for c in change.consumptions) == 65
    (after,) = change.balances
    assert (after.available, after.pending, after.lifetime_earned) == (0, 0, 80)


def test_closing_writes_off_a_deficit_beside_pending_points() -> None:
    change = ledger.close(
        Balance("m", "points", available=-40, pending=10),
        header("erase"),
        lots=[lot("p", 10, expires=None, pending=True)],
    )
    (entry,) = change.entries
    assert set(entry.postings) == {Posting(PENDING, ERASED, 10), Posting(ERASED, AVAILABLE, 40)}
    assert entry.amount == 30
    assert (change.balances[0].available, change.balances[0].pending) == (0, 0)


def test_closing_a_zero_balance_changes_nothing() -> None:
    change = ledger.close(Balance("m", "points"), header("erase"), lots=[])
    assert (change.entries, change.balances, change.updated_lots) == ([], [], [])


def test_closing_refuses_lots_that_disagree_with_the_balance() -> None:
    with pytest.raises(RuntimeError):
        ledger.close(
            Balance("m", "points", available=50), header("erase"), lots=[lot("a", 40, expires=None)]
        )


@given(
    available=st.integers(min_value=-500, max_value=500),
    parts=st.lists(st.integers(min_value=1, max_value=100), max_size=5),
    pending=st.lists(st.integers(min_value=1, max_value=100), max_size=3),
)
def test_closing_always_leaves_zero_and_balances(
    available: int, parts: list[int], pending: list[int]
) -> None:
    free = [lot(f"a{i}", n, expires=i) for i, n in enumerate(parts)] if available > 0 else []
    if available > 0:
        available = sum(parts)
    held = [lot(f"p{i}", n, expires=None, pending=True) for i, n in enumerate(pending)]
    balance = Balance("m", "points", available=available, pending=sum(pending))
    change = ledger.close(balance, header("erase"), lots=[*free, *held])
    net = sum(
        p.effect_on(AVAILABLE) + p.effect_on(PENDING) for e in change.entries for p in e.postings
    )
    assert net == -(available + sum(pending))
    assert all(lot.remaining == 0 for lot in change.updated_lots)
    if change.balances:
        assert (change.balances[0].available, change.balances[0].pending) == (0, 0)


def _member() -> Member:
    return Member(
        id="m-1",
        program_id="p",
        external_id="CRM-99",
        email="Ada.L@Example.org",
        email_key="ada.l@example.org",
        phone="+33612345678",
        card_number="8000000000000001",
        referral_code="ABCDEFGH",
        first_name="Ada",
        last_name="Lovelace",
        birth_date=date(1984, 7, 19),
        status="active",
        enrolled_at=T0,
        created_at=T0,
        updated_at=T0,
    )


def test_redaction_by_value_keeps_everything_else() -> None:
    values = privacy.PersonalValues.of(_member())
    doc = {
        "external_id": "R-1",
        "member": {"email": "ada.l@example.org"},
        "note": "called by Ada Lovelace (+33612345678) about CRM-99",
        "other": "Adam and Adaline",
        "lines": [{"sku": "X", "name": "Ada"}],
        "born": "1984-07-19",
        "amount": 3,
    }
    assert privacy.redact(doc, values) == {
        "external_id": "R-1",
        "member": {"email": None},
        "note": "called by [erased] ([erased]) about [erased]",
        "other": "Adam and Adaline",
        "lines": [{"sku": "X", "name": None}],
        "born": None,
        "amount": 3,
    }


def test_a_profile_snapshot_keeps_its_keys_but_not_their_values() -> None:
    values = privacy.PersonalValues.of(_member())
    snapshot = {
        "email": "x@y.org",
        "attributes": {"scent": "vetiver"},
        "consents": {"email_marketing": True},
        "status": "active",
    }
    assert privacy.redact_profile(snapshot, values) == {
        "email": None,
        "attributes": None,
        "consents": None,
        "status": "active",
    }


def test_digests_are_keyed_per_program() -> None:
    one = privacy.digests("secret-1", [("email", "ada@example.org"), ("phone", None)])
    assert set(one) == {"email"}
    assert "ada" not in one["email"]
    assert one == privacy.digests("secret-1", [("email", "ada@example.org")])
    assert one != privacy.digests("secret-2", [("email", "ada@example.org")])
