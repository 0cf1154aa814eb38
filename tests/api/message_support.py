"""Helpers of the message tests: a transport that records what it is given (the pipeline's own
logic under test; the real SMTP and HTTP transports have tests of their own and end-to-end
tests against a real SMTP server), and shortcuts to run the worker's message step."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from patron.bootstrap import Container
from patron.services import jobs
from patron.services.ports import Delivery, OutgoingEmail, OutgoingSms


@dataclass
class Recorder:
    """Accepts everything (or answers ``script`` in order), remembering what it was given."""

    script: list[Delivery] = field(default_factory=list)
    sent: list[OutgoingEmail | OutgoingSms] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, items: Sequence[OutgoingEmail | OutgoingSms]) -> list[Delivery]:  # type: ignore[override]
        answers = []
        with self.lock:
            for item in items:
                answer = self.script.pop(0) if self.script else Delivery("sent", "250 OK")
                if answer.status == "sent":
                    self.sent.append(item)
                answers.append(answer)
        return answers

    def close(self) -> None:
        pass

    def to(self, address: str) -> list[OutgoingEmail | OutgoingSms]:
        return [item for item in self.sent if item.to == address]


def run_messages(container: Container) -> int:
    return jobs.run_messages(container.uow, container.outlets(), container.clock.now())
