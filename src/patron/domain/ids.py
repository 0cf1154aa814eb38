"""Identifiers and random codes.

Object ids are UUIDv7 (RFC 9562): random enough to be unguessable across tenants and ordered by
creation time, so ``ORDER BY id`` is a stable, index-friendly order for cursor pagination.
Human-facing codes use an alphabet without look-alike characters (no 0/O, 1/I/L, U).
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid

HUMAN_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


_last = [0, 0]  # [milliseconds, 12-bit counter] of the previous id in this process
_lock = threading.Lock()


def new_id() -> str:
    """A new UUIDv7 as a string: 48 bits of milliseconds, a 12-bit counter, 62 random bits.

    The counter (RFC 9562, "fixed bit-length dedicated counter") makes ids of one process
    strictly increasing even within one millisecond, so they sort in creation order.
    """
    with _lock:
        millis = max(time.time_ns() // 1_000_000, _last[0])
        if millis == _last[0]:
            counter = _last[1] + 1
            if counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                millis, counter = millis + 1, secrets.randbelow(0x800)
        else:
            counter = secrets.randbelow(0x800)  # random start, leaving room to count up
        _last[0], _last[1] = millis, counter
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= counter << 64  # rand_a used as the counter
    value |= 0b10 << 62  # variant
    value |= secrets.randbits(62)  # rand_b
    return str(uuid.UUID(int=value))


def human_code(length: int) -> str:
    """A random code of ``length`` characters from the look-alike-free alphabet."""
    return "".join(secrets.choice(HUMAN_ALPHABET) for _ in range(length))


def luhn_check_digit(digits: str) -> str:
    """The Luhn (ISO/IEC 7812-1) check digit to append to ``digits``."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return len(number) >= 2 and number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def new_card_number() -> str:
    """A 16-digit loyalty card number: '8', 14 random digits, a Luhn check digit."""
    body = "8" + "".join(secrets.choice("0123456789") for _ in range(14))
    return body + luhn_check_digit(body)
