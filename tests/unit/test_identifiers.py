"""Identifier normalisation, card numbers, ids and keys: pure domain, no database."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patron.domain import identifiers, keys
from patron.domain.access import allowed, require
from patron.domain.errors import Forbidden, ValidationFailed
from patron.domain.ids import (
    HUMAN_ALPHABET,
    human_code,
    luhn_check_digit,
    luhn_valid,
    new_card_number,
    new_id,
)


def test_known_luhn_numbers() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert luhn_check_digit("7992739871") == "3"


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_appending_the_check_digit_always_validates(digits: str) -> None:
    assert luhn_valid(digits + luhn_check_digit(digits))


@given(
    st.text(alphabet="0123456789", min_size=2, max_size=20), st.integers(0, 19), st.integers(1, 9)
)
def test_a_single_changed_digit_is_caught(number: str, position: int, delta: int) -> None:
    valid = number + luhn_check_digit(number)
    i = position % len(valid)
    changed = valid[:i] + str((int(valid[i]) + delta) % 10) + valid[i + 1 :]
    assert not luhn_valid(changed)


def test_card_numbers() -> None:
    numbers = {new_card_number() for _ in range(200)}
    assert len(numbers) == 200
    assert all(len(n) == 16 and luhn_valid(n) for n in numbers)


def test_ids_are_uuid7_and_time_ordered() -> None:
    ids = [new_id() for _ in range(5000)]
    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_human_codes_avoid_look_alikes() -> None:
    code = human_code(40)
    assert set(code) <= set(HUMAN_ALPHABET)
    assert not set("01OILU") & set(HUMAN_ALPHABET)


@pytest.mark.parametrize(
    ("raw", "stored", "key"),
    [
        ("Ada@Example.COM", "Ada@example.com", "ada@example.com"),
        ("  bob@example.org ", "bob@example.org", "bob@example.org"),
    ],
)
def test_email_normalisation(raw: str, stored: str, key: str) -> None:
    assert identifiers.normalize_email(raw) == (stored, key)


@pytest.mark.parametrize("bad", ["", "plain", "a@", "@b.com", "a@b", "a b@c.com"])
def test_bad_emails(bad: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        identifiers.normalize_email(bad)
    assert info.value.errors[0].path == "email"


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+33 6 12 34 56 78", None, "+33612345678"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("(415) 555-0123", "US", "+14155550123"),
        ("+1 415 555 0123", "FR", "+14155550123"),
    ],
)
def test_phone_normalisation(raw: str, region: str | None, e164: str) -> None:
    assert identifiers.normalize_phone(raw, region=region) == e164


@pytest.mark.parametrize(
    ("bad", "region"), [("06 12 34 56 78", None), ("12", "FR"), ("+999 123", None), ("phone", "US")]
)
def test_bad_phones(bad: str, region: str | None) -> None:
    with pytest.raises(ValidationFailed):
        identifiers.normalize_phone(bad, region=region)


def test_keys_have_a_visible_prefix_and_verify_by_digest() -> None:
    new = keys.generate_key()
    assert new.secret.startswith(new.prefix + "_")
    assert keys.prefix_of(new.secret) == new.prefix
    assert keys.matches(new.secret, new.digest)
    assert not keys.matches(new.secret + "x", new.digest)
    assert new.digest != new.secret
    assert len(new.digest) == 64
    assert keys.prefix_of("pat_short_x") is None
    assert keys.prefix_of("bearer-token") is None


def test_role_matrix_basics() -> None:
    assert allowed("platform", "programs.create")
    assert not allowed("admin", "programs.create")
    assert allowed("pos", "members.write")
    assert not allowed("pos", "members.status")
    assert not allowed("read", "members.write")
    with pytest.raises(Forbidden):
        require("partner", "config.write")
