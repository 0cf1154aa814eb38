"""Cursor pagination: ``{"items": [...], "next_cursor": "..."|null}`` with ``?limit=&cursor=``.
An empty ``cursor=`` is the same as none: the first page.

A cursor is an opaque, URL-safe token holding the sort key of the last item returned; the next
page starts strictly after it, so inserts between pages never repeat or skip an item.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson
from fastapi import Query

from patron.domain.errors import FieldError, ValidationFailed

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def limit_param(
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="items per page"),
) -> int:
    return limit


def encode_cursor(position: str | int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"after": position})).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    """The position a cursor holds; ``None`` (the first page) when it is absent or empty, as a
    client that echoes an empty ``next_cursor`` into ``?cursor=`` sends it."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = orjson.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationFailed(
            [FieldError("cursor", "not a cursor of this list", "cursor")]
        ) from exc
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValidationFailed([FieldError("cursor", "not a cursor of this list", "cursor")])
    return value


def page(
    items: Sequence[T],
    *,
    limit: int,
    position: Callable[[T], str | int],
    render: Callable[[T], Any],
) -> dict[str, Any]:
    """A page from up to ``limit + 1`` fetched items (the extra one says there is more)."""
    shown = items[:limit]
    more = len(items) > limit
    return {
        "items": [render(item) for item in shown],
        "next_cursor": encode_cursor(position(shown[-1])) if more and shown else None,
    }
