"""Code 128 (ISO/IEC 15417), code sets B and C: what a point-of-sale scanner reads from a card.

A symbol is a start character, the data values, a check value (the start value plus each data
value times its position, modulo 103) and the stop character. Each character is six elements
(bar, space, bar, space, bar, space) of one to four modules, eleven modules in all; the stop
character has a seventh, a final two-module bar.

A run of digits is packed two to a character in code set C (a 16-digit card number is eight
characters instead of sixteen, so the printed barcode is half as wide); other text, and the odd
digit left at the end of a run, uses code set B (printable ASCII). Patron writes the bars itself
because no barcode library is pinned yet; the tests read the widths back into text.
"""

from __future__ import annotations

PATTERNS: tuple[str, ...] = (
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312",
    "132212", "221213", "221312", "231212", "112232", "122132", "122231", "113222",
    "123122", "123221", "223211", "221132", "221231", "213212", "223112", "312131",
    "311222", "321122", "321221", "312212", "322112", "322211", "212123", "212321",
    "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
    "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121",
    "313121", "211331", "231131", "213113", "213311", "213131", "311123", "311321",
    "331121", "312113", "312311", "332111", "314111", "221411", "431111", "111224",
    "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
    "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112",
    "421211", "212141", "214121", "412121", "111143", "111341", "131141", "114113",
    "114311", "411113", "411311", "113141", "114131", "311141", "411131", "211412",
    "211214", "211232", "2331112",
)  # fmt: skip
"""Element widths of each character value, 0 to 106 (106 is the stop character)."""

CODE_B = 100
CODE_C = 99
START_B = 104
START_C = 105
STOP = 106
QUIET = 10
"""Modules of white space a scanner needs on each side of the bars."""


def values(text: str) -> list[int]:
    """The character values of ``text``: start, data, check, stop.

    Raises: ValueError for an empty text or a character outside printable ASCII."""
    if not text:
        raise ValueError("Code 128 needs at least one character")
    if any(not 32 <= ord(ch) <= 126 for ch in text):
        raise ValueError("Code 128 code sets B and C encode printable ASCII only")
    out: list[int] = []
    mode = ""
    i = 0
    while i < len(text):
        run = _digit_run(text, i)
        if run >= 4 or (run >= 2 and i == 0 and run == len(text)) or (mode == "C" and run >= 2):
            if mode != "C":
                out.append(START_C if not out else CODE_C)
                mode = "C"
            out.extend(int(text[j : j + 2]) for j in range(i, i + run - run % 2, 2))
            i += run - run % 2
            continue
        if mode != "B":
            out.append(START_B if not out else CODE_B)
            mode = "B"
        out.append(ord(text[i]) - 32)
        i += 1
    out.append(checksum(out))
    out.append(STOP)
    return out


def checksum(symbols: list[int]) -> int:
    """The check value of a start character and data values."""
    return (symbols[0] + sum(v * i for i, v in enumerate(symbols[1:], start=1))) % 103


def widths(text: str) -> list[int]:
    """The module widths of the bars and spaces of ``text``, bar first (no quiet zones)."""
    return [int(w) for v in values(text) for w in PATTERNS[v]]


def _digit_run(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end].isdigit() and text[end].isascii():
        end += 1
    return end - start
