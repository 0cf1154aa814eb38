"""Webhook rules that need no I/O: event types, subscriptions, target URLs and addresses, backoff.

Delivery follows the Standard Webhooks specification: every message carries ``webhook-id`` (the
outbox fact's id, the same on every retry so receivers can deduplicate), ``webhook-timestamp``
and ``webhook-signature`` (HMAC-SHA256, ``v1,<base64>``; during a secret rotation both the new
and the previous secret sign, separated by a space).

Targets: ``https`` (or ``http``) URLs without credentials. A target whose host resolves to a
private, loopback, link-local, multicast, reserved or otherwise non-global address is refused
(server-side request forgery: a webhook must not reach the merchant's internal network), unless
the deployment allows private targets for development. The check runs when the endpoint is
saved and again, on the resolved address actually connected to, at every delivery.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from urllib.parse import urlsplit

EVENT_TYPES = frozenset(
    {
        "member.enrolled",
        "member.updated",
        "member.erased",
        "points.earned",
        "points.released",
        "points.redeemed",
        "points.expired",
        "points.expiring",
        "points.adjusted",
        "points.transferred",
        "tier.changed",
        "reward.redeemed",
        "voucher.used",
        "redemption.cancelled",
        "referral.completed",
        "purchase.refunded",
    }
)
"""Every fact an endpoint may subscribe to (``*`` subscribes to all of them, and to types added
later)."""

ALL = "*"

RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
"""Wait after each failed attempt. The first attempt is immediate; after the last delay fails
(ten attempts, about three and a half days after the fact) the delivery is given up as
``failed`` and can be retried by hand."""

MAX_ATTEMPTS = len(RETRY_DELAYS) + 1

LEASE = timedelta(minutes=2)
"""How long a worker owns a delivery it claimed. A worker that dies mid-delivery leaves the
delivery due again when its lease ends, and the next worker sends it with the same id. It must
exceed the send time-out by a wide margin."""

SEND_TIMEOUT_SECONDS = 10.0

MAX_ENDPOINTS = 20


def subscribed(events: list[str], event_type: str) -> bool:
    return ALL in events or event_type in events


def events_error(events: list[str]) -> str | None:
    """Why a subscription list is invalid, or None."""
    if not events:
        return "subscribe to at least one event type, or to '*'"
    unknown = sorted({e for e in events if e != ALL and e not in EVENT_TYPES})
    if unknown:
        return f"unknown event type(s): {', '.join(unknown)}"
    return None


def url_error(url: str) -> str | None:
    """Why ``url`` cannot be a webhook target (syntax only; addresses are checked on resolve)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("https", "http"):
        return "must be an http or https URL"
    if not parts.hostname:
        return "must name a host"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials; authenticate with the signature instead"
    if parts.fragment:
        return "must not have a fragment"
    if port == 0:
        return "port 0 is not a valid port"
    return None


def address_error(address: str) -> str | None:
    """Why a webhook may not connect to this IP address, or None when it is a public one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, label in (
        # Most specific first: loopback and link-local ranges also count as private.
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_multicast, "multicast"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
    ):
        if test:
            return f"{address} is a {label} address"
    if not ip.is_global:
        return f"{address} is not a public address"
    return None


def retry_delay(attempts: int) -> timedelta | None:
    """The wait before the next attempt after ``attempts`` failed ones (None: give up)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return RETRY_DELAYS[attempts - 1]
