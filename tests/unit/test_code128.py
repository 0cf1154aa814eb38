"""Code 128: every character's pattern is six elements of eleven modules, and the bars of any
text read back to that text through an independent reader (tests/code128_reader.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patron.domain import code128
from tests.code128_reader import read


def test_the_table_has_107_distinct_patterns_of_eleven_modules() -> None:
    assert len(code128.PATTERNS) == 107
    assert len(set(code128.PATTERNS)) == 107
    assert all(len(p) == 6 and sum(map(int, p)) == 11 for p in code128.PATTERNS[:106])
    assert code128.PATTERNS[106] == "2331112"


def test_a_card_number_is_packed_two_digits_a_character() -> None:
    values = code128.values("4111111111111111")
    assert values[0] == code128.START_C
    assert values[1:9] == [41, 11, 11, 11, 11, 11, 11, 11]
    assert values[-1] == code128.STOP
    assert read(code128.widths("4111111111111111")) == "4111111111111111"


def test_the_reference_example_has_its_published_check_character() -> None:
    # "PJJ123C" in code set B: 104 + 48*1 + 42*2 + 42*3 + 17*4 + 18*5 + 19*6 + 35*7 = 879;
    # 879 mod 103 = 55.
    assert code128.values("PJJ123C")[-2] == 55


def test_an_odd_run_of_digits_ends_in_code_set_b() -> None:
    values = code128.values("12345")
    assert values[:4] == [code128.START_C, 12, 34, code128.CODE_B]
    assert read(code128.widths("12345")) == "12345"


@pytest.mark.parametrize(
    "text",
    ["A", "7", "AB-12", "CARD 0042 9", "x1234y", "0000", "9999", "8230990543576141", "a99991"],
)
def test_mixed_texts_read_back(text: str) -> None:
    assert read(code128.widths(text)) == text


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1))
def test_any_printable_text_reads_back(text: str) -> None:
    assert read(code128.widths(text)) == text


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_any_number_reads_back(text: str) -> None:
    assert read(code128.widths(text)) == text


def test_text_outside_printable_ascii_is_refused() -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        code128.values("café")
    with pytest.raises(ValueError, match="at least one"):
        code128.values("")
