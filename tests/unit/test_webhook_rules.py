"""Webhook rules without I/O: which addresses a webhook may reach, URLs, subscriptions, backoff."""

from __future__ import annotations

from datetime import timedelta

import pytest

from patron.domain import webhooks as rules


@pytest.mark.parametrize(
    ("address", "label"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("100.64.0.1", "public"),  # carrier-grade NAT: shared, not global
        ("169.254.169.254", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
    ],
)
def test_non_public_addresses_are_refused(address: str, label: str) -> None:
    reason = rules.address_error(address)
    assert reason is not None
    assert label in reason


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::6810:84e5", "8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert rules.address_error(address) is None


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("https://hooks.example.com/patron", None),
        ("http://hooks.example.com:8080/p?x=1", None),
        ("gopher://example.com", "http or https"),
        ("https://", "host"),
        ("https://a:b@example.com/", "credentials"),
        ("https://example.com/#x", "fragment"),
        ("https://example.com:99999/", "valid URL"),
    ],
)
def test_urls(url: str, fragment: str | None) -> None:
    reason = rules.url_error(url)
    if fragment is None:
        assert reason is None
    else:
        assert reason is not None
        assert fragment in reason


def test_subscriptions() -> None:
    assert rules.subscribed(["*"], "points.earned")
    assert rules.subscribed(["points.earned"], "points.earned")
    assert not rules.subscribed(["points.earned"], "tier.changed")
    assert rules.events_error([]) is not None
    assert rules.events_error(["*", "tier.changed"]) is None
    assert "nope.never" in (rules.events_error(["nope.never"]) or "")


def test_backoff_grows_then_gives_up_after_days() -> None:
    delays = [rules.retry_delay(n) for n in range(1, rules.MAX_ATTEMPTS + 1)]
    assert delays[-1] is None
    waits = [d for d in delays if d is not None]
    assert waits == sorted(waits)
    assert sum(waits, timedelta(0)) > timedelta(days=3)
    assert timedelta(seconds=rules.SEND_TIMEOUT_SECONDS * 5) < rules.LEASE
