"""A messages worker that stops dead right after the SMTP server accepted its N-th message,
before the result is recorded, for a test to SIGKILL it there.

The worker's real two-step path runs: the wrapped SMTP transport prepares each email while the
previous result is recorded in another thread, and the stop comes right after a ``finish``.

Run as ``python -m tests.message_crash N NOW`` with ``PATRON_DATABASE_URL`` and
``PATRON_SMTP_URL`` set: it runs the real worker step (``jobs.run_messages``) and, once the
N-th message is accepted, prints ``CRASH POINT`` and sleeps until it is killed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from datetime import datetime

from patron.adapters.clock import FixedClock
from patron.bootstrap import build
from patron.services import jobs
from patron.services.ports import (
    Delivery,
    OutgoingEmail,
    PendingEmail,
    PipelinedEmailTransport,
)

MARK = "CRASH POINT"


class CrashAfterAccept:
    def __init__(self, transport: PipelinedEmailTransport, number: int) -> None:
        self.transport = transport
        self.number = number
        self.accepted = 0

    def send(self, emails: Sequence[OutgoingEmail]) -> list[Delivery]:
        results = self.transport.send(emails)
        for result in results:
            self._count(result)
        return results

    def prepare(self, email: OutgoingEmail) -> Delivery | PendingEmail:
        step = self.transport.prepare(email)
        return step if isinstance(step, Delivery) else _Counted(self, step)

    def _count(self, result: Delivery) -> None:
        self.accepted += result.status == "sent"
        if self.accepted >= self.number:
            sys.stdout.write(MARK + "\n")
            sys.stdout.flush()
            time.sleep(3600)  # until SIGKILL

    def close(self) -> None:
        self.transport.close()


class _Counted:
    def __init__(self, crash: CrashAfterAccept, pending: PendingEmail) -> None:
        self.crash = crash
        self.pending = pending

    def finish(self) -> Delivery:
        result = self.pending.finish()
        self.crash._count(result)
        return result

    def abandon(self) -> None:
        self.pending.abandon()


def main(number: int, now: str) -> None:
    container = build(clock=FixedClock(datetime.fromisoformat(now)))
    assert isinstance(container.mailer, PipelinedEmailTransport), "PATRON_SMTP_URL is not set"
    container.mailer = CrashAfterAccept(container.mailer, number)
    jobs.run_messages(container.uow, container.outlets(), container.clock.now())
    sys.stdout.write("FINISHED without reaching the crash point\n")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
