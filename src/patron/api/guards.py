"""Abuse limits at the API edge: rate limits on guessable lookups, and the request body cap.

Rate limits (``patron.adapters.ratelimit``; values from the ``PATRON_RATE_LIMIT_*`` settings)
count per API key **and** per client address, so neither a leaked key used from many places nor
one client spraying many keys gets past them:

- ``vouchers``: every voucher lookup and use (``GET .../vouchers/{code}``,
  ``POST .../vouchers/{code}/use``) counts, found or not.
- ``member_lookups``: every member search by an identifier (``GET .../members?email=|phone=|
  external_id=|card_number=|referral_code=``) counts. Writes that name their member by an
  identifier (purchases, previews, claims, events, enrolments with ``referred_by``) are refused
  while the bucket is exhausted, and count only when the member is not found: a till that
  names known members is never slowed, while guessing through writes is bounded like searching.
- ``auth_failures``: see ``patron.api.deps``.

The body cap is ASGI middleware: a ``Content-Length`` above the cap is refused before anything
is read, and a body without one (chunked) is read only up to the cap, then refused; either way
413 ``payload_too_large``, and the application never sees the body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from patron.api.deps import Caller, client_address
from patron.api.problems import problem
from patron.domain.errors import MemberNotFound, ValidationFailed


def throttle(who: Caller, request: Request, bucket: str) -> None:
    """Count this request in ``bucket`` for the caller's key and address.

    Raises: RateLimited.
    """
    who.container.limiter.hit(bucket, key=who.key.id, address=client_address(request))


def _member_not_found(error: Exception) -> bool:
    return isinstance(error, MemberNotFound)


def unknown_referral_code(error: Exception) -> bool:
    return isinstance(error, ValidationFailed) and any(
        f.path == "referred_by" and f.type == "unknown_reference" for f in error.errors
    )


@contextmanager
def member_reference(
    who: Caller,
    request: Request,
    *,
    by_identifier: bool,
    miss: Callable[[Exception], bool] = _member_not_found,
) -> Iterator[None]:
    """Guard a write that names a member: while ``member_lookups`` is exhausted it is refused
    before the member is looked up; an identifier that finds nobody (``miss``) counts once.

    Raises: RateLimited.
    """
    if not by_identifier:
        yield
        return
    limiter, address = who.container.limiter, client_address(request)
    limiter.check("member_lookups", key=who.key.id, address=address)
    try:
        yield
    except Exception as error:
        if miss(error):
            limiter.hit("member_lookups", key=who.key.id, address=address)
        raise


class BodyLimit:
    """Refuse request bodies over ``max_bytes()`` with 413, reading at most that much.

    ``max_bytes`` is asked per request, because the app's container (and so its settings) may
    be built only when the app starts.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: Callable[[], int]) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.max_bytes()
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await _refuse(cap, scope, receive, send)
            return
        # Read the whole (bounded) body first: FastAPI would buffer it anyway, and a refusal
        # can then still be a clean 413 instead of a connection cut mid-request.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                # the client went away: let the application see the disconnect
                await self.app(scope, _replay([], message, receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                await _refuse(cap, scope, receive, send)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        await self.app(scope, _replay(chunks, None, receive), send)


async def _refuse(cap: int, scope: Scope, receive: Receive, send: Send) -> None:
    response = problem(
        413,
        "payload_too_large",
        "Request body too large",
        f"the request body is over {cap} bytes",
        max_bytes=cap,
        headers={"Connection": "close"},
    )
    await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(chunks: list[bytes], first: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that hands the buffered body over once, then defers to the real one."""
    pending: list[Message] = (
        [first] if first is not None else [{"type": "http.request", "body": b"".join(chunks)}]
    )

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replay
