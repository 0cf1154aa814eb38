"""A webhook worker that stops dead at a chosen crash point, for a test to SIGKILL it there.

Run as ``python -m tests.webhook_crash POINT NOW`` with ``PATRON_DATABASE_URL`` set. It runs
the real worker tick (``jobs.run_webhooks``: fan-out, then delivery) and, at the crash point,
prints ``CRASH POINT`` and sleeps until it is killed:

- ``fan-out:N`` — inside the N-th fan-out transaction, after its deliveries were inserted and
  its facts marked published, before the commit (fan-out batches of ``BATCH`` facts);
- ``after-post`` — right after a POST that the receiver answered 2xx, before the result is
  recorded.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import Any

from patron.adapters.clock import FixedClock
from patron.adapters.db.webhooks import SqlWebhookRepository
from patron.bootstrap import build
from patron.services import jobs, webhooks
from patron.services.ports import SendResult, WebhookSender

BATCH = 5
MARK = "CRASH POINT"


def halt() -> None:
    sys.stdout.write(MARK + "\n")
    sys.stdout.flush()
    time.sleep(3600)  # until SIGKILL


def crash_in_fan_out(number: int) -> None:
    original = SqlWebhookRepository.fan_out
    calls = 0

    def fan_out(self: SqlWebhookRepository, program_id: str, now: datetime, limit: int) -> int:
        nonlocal calls
        done = original(self, program_id, now, limit)
        calls += 1
        if calls == number:
            halt()
        return done

    SqlWebhookRepository.fan_out = fan_out  # type: ignore[method-assign]
    webhooks.FAN_OUT_BATCH = BATCH


class CrashAfterPost:
    def __init__(self, sender: WebhookSender) -> None:
        self.sender = sender

    def check(self, url: str) -> str | None:
        return self.sender.check(url)

    def send(self, url: str, message_id: str, body: bytes, keys: list[str]) -> SendResult:
        result = self.sender.send(url, message_id, body, keys)
        if result.ok:
            halt()
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sender, name)


def main(point: str, now: str) -> None:
    container = build(clock=FixedClock(datetime.fromisoformat(now)))
    sender: WebhookSender = container.webhooks
    if point.startswith("fan-out:"):
        crash_in_fan_out(int(point.split(":", 1)[1]))
    elif point == "after-post":
        sender = CrashAfterPost(sender)
    else:
        raise SystemExit(f"unknown crash point {point!r}")
    jobs.run_webhooks(container.uow, sender, container.clock.now())
    sys.stdout.write("FINISHED without reaching the crash point\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
