"""A messages worker that stops dead right after the SMTP server accepted its N-th message,
before the result is recorded, for a test to SIGKILL it there.

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
from patron.services.ports import Delivery, EmailTransport, OutgoingEmail

MARK = "CRASH POINT"


class CrashAfterAccept:
    def __init__(self, transport: EmailTransport, number: int) -> None:
        self.transport = transport
        self.number = number
        self.accepted = 0

    def send(self, emails: Sequence[OutgoingEmail]) -> list[Delivery]:
        results = self.transport.send(emails)
        self.accepted += sum(1 for r in results if r.status == "sent")
        if self.accepted >= self.number:
            sys.stdout.write(MARK + "\n")
            sys.stdout.flush()
            time.sleep(3600)  # until SIGKILL
        return results

    def close(self) -> None:
        self.transport.close()


def main(number: int, now: str) -> None:
    container = build(clock=FixedClock(datetime.fromisoformat(now)))
    assert container.mailer is not None, "PATRON_SMTP_URL is not set"
    container.mailer = CrashAfterAccept(container.mailer, number)
    jobs.run_messages(container.uow, container.outlets(), container.clock.now())
    sys.stdout.write("FINISHED without reaching the crash point\n")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
