"""A Code 128 reader for tests: element widths back into text, as a scanner would, checking
the start, check and stop characters. It reads widths only, never Patron's encoder."""

from __future__ import annotations

from patron.domain.code128 import PATTERNS

_BY_PATTERN = {pattern: value for value, pattern in enumerate(PATTERNS)}


def read(widths: list[int]) -> str:
    """The text of bars and spaces (bar first, no quiet zones).

    Raises: ValueError for widths that are not a valid symbol."""
    if len(widths) < 13 or (len(widths) - 7) % 6:
        raise ValueError(f"{len(widths)} elements is not a Code 128 symbol")
    values = [
        _BY_PATTERN["".join(map(str, widths[i : i + 6]))] for i in range(0, len(widths) - 7, 6)
    ]
    if "".join(map(str, widths[-7:])) != PATTERNS[106]:
        raise ValueError("no stop character")
    *symbols, check = values
    expected = (symbols[0] + sum(v * i for i, v in enumerate(symbols[1:], start=1))) % 103
    if check != expected:
        raise ValueError(f"check character {check}, expected {expected}")
    code = {103: "A", 104: "B", 105: "C"}[symbols[0]]
    text = []
    for value in symbols[1:]:
        if code == "C":
            if value < 100:
                text.append(f"{value:02d}")
            elif value == 100:
                code = "B"
            else:
                raise ValueError(f"value {value} in code set C")
        elif value == 99:
            code = "C"
        elif value < 95:
            text.append(chr(value + 32))
        else:
            raise ValueError(f"value {value} in code set B")
    return "".join(text)


def bar_widths(xs: list[tuple[float, float]]) -> list[int]:
    """Element widths of bars given as (x, width) rectangles, in modules (the narrowest
    element is one module): the gaps between bars are the spaces."""
    elements: list[float] = []
    for i, (x, width) in enumerate(xs):
        if i:
            prev_x, prev_w = xs[i - 1]
            elements.append(x - (prev_x + prev_w))
        elements.append(width)
    unit = min(elements)
    return [round(e / unit) for e in elements]
