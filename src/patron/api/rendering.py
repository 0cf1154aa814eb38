"""JSON rendering shared by responses and problems (orjson: fast, exact for Decimal as str).

Moments are written one way everywhere (``patron.domain.timestamps``: RFC 3339, UTC, ``Z``, whole
seconds): route code renders them with :func:`rfc3339` and response models declare them as
:data:`Timestamp`; a ``datetime`` handed straight to :func:`dumps` comes out the same way.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import orjson
from fastapi.responses import JSONResponse
from pydantic import PlainSerializer, WithJsonSchema

from patron.domain.timestamps import rfc3339, rfc3339_or_none

__all__ = ["JsonResponse", "Timestamp", "dumps", "rfc3339", "rfc3339_or_none"]

Timestamp = Annotated[
    datetime,
    PlainSerializer(rfc3339, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "examples": ["2026-03-01T10:00:00Z"]},
        mode="serialization",
    ),
]
"""A moment in a response model, written as :func:`rfc3339` writes it."""

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS | orjson.OPT_NAIVE_UTC


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot render {type(value).__name__}")


def dumps(body: Any) -> bytes:
    return orjson.dumps(body, default=_default, option=_OPTIONS)


class JsonResponse(JSONResponse):
    """A JSONResponse (so the OpenAPI document shows each route's ``response_model``) rendered
    by orjson."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
