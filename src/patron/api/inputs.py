"""One check every request passes: its values are values Patron can store
(``patron.schemas.storable`` says which and why).

It runs before the route's own dependencies (so, like malformed JSON, before authentication),
on the body FastAPI has already parsed.
"""

from __future__ import annotations

from fastapi import Request

from patron.domain.errors import FieldError, ValidationFailed
from patron.schemas.storable import REASON, bad_text, unstorable


async def storable_input(request: Request) -> None:
    """App-wide dependency: raises ValidationFailed when a path or query parameter, or any
    string (or key) of the JSON body, is not storable text, or an integer of the body does not
    fit in 64 bits."""
    found: list[FieldError] = []
    for name, value in request.path_params.items():
        if isinstance(value, str) and bad_text(value):
            found.append(FieldError(name, REASON, "invalid_text"))
    for name, value in request.query_params.multi_items():
        if bad_text(name) or bad_text(value):
            found.append(FieldError(name, REASON, "invalid_text"))
    if await request.body():
        try:
            document = await request.json()  # FastAPI's own parse, kept by the request
        except ValueError:
            document = None  # malformed: FastAPI's own parsing answers it
        found += unstorable(document)
    if found:
        raise ValidationFailed(found)
