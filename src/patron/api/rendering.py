"""JSON rendering shared by responses and problems (orjson: fast, exact for Decimal as str)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from fastapi.responses import JSONResponse


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot render {type(value).__name__}")


def dumps(body: Any) -> bytes:
    return orjson.dumps(body, default=_default)


class JsonResponse(JSONResponse):
    """A JSONResponse (so the OpenAPI document shows each route's ``response_model``) rendered
    by orjson."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
