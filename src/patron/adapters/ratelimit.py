"""Rate limits on guessable lookups and failed authentications, on the ``limits`` library.

A :class:`RateLimiter` holds one set of limits per *bucket* (``vouchers``, ``member_lookups``,
``auth_failures``) and *scope* (``key``: the authenticated API key; ``address``: the client's
address). Each limit string is in ``limits`` notation, several separated by ``;``
(``"60/minute;1000/hour"``): a request passes only while every one of them has room.

Counters live in a ``limits`` storage chosen by URI: ``memory://`` (the default: one process)
or a shared one such as ``redis://host:6379`` so that several API processes count together.
The strategy is the moving window (exact: no burst of twice the limit across a window boundary)
or the fixed window (one counter per key: cheaper on a shared store).

Two ways to count:

- :meth:`RateLimiter.hit` counts a request and refuses it (:class:`RateLimited`) when a limit of
  its bucket has no room: voucher and member lookups, where every request counts.
- :meth:`RateLimiter.check` refuses without counting, and :meth:`RateLimiter.hit` is called only
  when the attempt failed: authentication, where only failures count but, once the limit is
  reached, every attempt from that address is refused *before* its key is checked, so a correct
  guess cannot be told from a wrong one.

Retry-After is the number of whole seconds (rounded up, at least 1) until the exhausted window
has room again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from limits import RateLimitItem, parse_many
from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.strategies import RateLimiter as Strategy

from patron.domain.errors import PatronError

Scope = Literal["key", "address"]
StrategyName = Literal["moving-window", "fixed-window"]


class RateLimited(PatronError):
    """Too many requests of this kind: answered 429 with ``Retry-After``."""

    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Bucket:
    """The limits of one kind of request, per scope (an empty tuple: no limit for that scope)."""

    per_key: tuple[RateLimitItem, ...] = ()
    per_address: tuple[RateLimitItem, ...] = ()

    def items(self, scope: Scope) -> tuple[RateLimitItem, ...]:
        return self.per_key if scope == "key" else self.per_address


def parse_limits(text: str) -> tuple[RateLimitItem, ...]:
    """``"60/minute;1000/hour"`` as limit items; ``""`` or ``"none"`` is no limit.

    Raises: ValueError for anything else that is not ``limits`` notation.
    """
    cleaned = text.strip()
    if cleaned.lower() in ("", "none", "off"):
        return ()
    return tuple(parse_many(cleaned))


class RateLimiter:
    """Counts requests per bucket and scope, and refuses those over a limit."""

    def __init__(
        self,
        buckets: Mapping[str, Bucket],
        *,
        storage_uri: str = "memory://",
        strategy: StrategyName = "moving-window",
        enabled: bool = True,
    ) -> None:
        try:
            self._storage = storage_from_string(storage_uri)
        except ConfigurationError as error:
            raise ValueError(f"rate limit storage {storage_uri!r}: {error}") from error
        kind = MovingWindowRateLimiter if strategy == "moving-window" else FixedWindowRateLimiter
        self._strategy: Strategy = kind(self._storage)
        self._buckets = dict(buckets)
        self.enabled = enabled

    def hit(self, bucket: str, **scopes: str) -> None:
        """Count one request in ``bucket`` for each scope given (``key=..., address=...``).

        Raises: RateLimited when a limit has no room (that request is not counted further).
        """
        if not self.enabled:
            return
        limits = self._buckets[bucket]
        for scope, value in scopes.items():
            for item in limits.items(_scope(scope)):
                if not self._strategy.hit(item, bucket, scope, value):
                    self._refuse(bucket, scope, value, item)

    def check(self, bucket: str, **scopes: str) -> None:
        """Refuse, without counting, when a limit of ``bucket`` is already exhausted.

        Raises: RateLimited.
        """
        if not self.enabled:
            return
        limits = self._buckets[bucket]
        for scope, value in scopes.items():
            for item in limits.items(_scope(scope)):
                if not self._strategy.test(item, bucket, scope, value):
                    self._refuse(bucket, scope, value, item)

    def reset(self) -> None:
        """Forget every counter (operators' and tests' use)."""
        self._storage.reset()

    def _refuse(self, bucket: str, scope: str, value: str, item: RateLimitItem) -> None:
        stats = self._strategy.get_window_stats(item, bucket, scope, value)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        unit = item.GRANULARITY.name
        window = unit if item.multiples == 1 else f"{item.multiples} {unit}s"
        raise RateLimited(
            f"too many {bucket.replace('_', ' ')} requests from this {_NOUN[scope]}: "
            f"at most {item.amount} per {window}; retry in {wait} s",
            retry_after=wait,
        )


_NOUN = {"key": "API key", "address": "client address"}


def _scope(name: str) -> Scope:
    if name not in ("key", "address"):
        raise ValueError(f"unknown rate limit scope {name!r}")
    return "key" if name == "key" else "address"
