"""One check every request passes: its values are values Patron can store.

JSON can carry a NUL character (``\\u0000``) or half of a surrogate pair (``\\ud800``), and a URL
can carry ``%00``; PostgreSQL refuses the first in every text and JSON column, and neither
database can encode the second as UTF-8. JSON can also carry an integer of any size, and the
JSON documents Patron keeps (attributes, request bodies bound to idempotency keys) are written
with 64-bit integers. Left to the storage, such input failed deep inside a use case (a 500), or
was stored on one backend and refused on the other. Refused here, at the boundary, it is a 422
``validation_error`` naming the field, on both backends, and changes nothing.
"""

from __future__ import annotations

from typing import Any

from patron.domain.errors import FieldError

REASON = "must be valid text: no NUL character and no unpaired surrogate"
TOO_BIG = "an integer must fit in 64 bits"
_INT64 = range(-(2**63), 2**63)


def bad_text(text: str) -> bool:
    """Whether a text holds a NUL character or an unpaired surrogate."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _walk(value: Any, path: str, found: list[FieldError]) -> None:
    if isinstance(value, str):
        if bad_text(value):
            found.append(FieldError(path or "body", REASON, "invalid_text"))
    elif isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        found.append(FieldError(path or "body", TOO_BIG, "invalid_number"))
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and bad_text(key):
                found.append(FieldError(path or "body", REASON, "invalid_text"))  # a key
            _walk(item, where, found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", found)


def unstorable(document: Any) -> list[FieldError]:
    """What of a JSON document Patron cannot store (``patron import`` checks each row too)."""
    found: list[FieldError] = []
    _walk(document, "", found)
    return found
