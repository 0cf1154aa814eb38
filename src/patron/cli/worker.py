"""The job loop: run every due job, wait, repeat. Used by `patron worker` and `patron serve`.

Two cadences: every job (release, expiry, tiers, ..., webhooks) each ``interval`` seconds, and
webhook delivery alone each ``webhook_interval`` seconds in between, so a fact reaches its
endpoints within seconds and a failed attempt is retried on time.

A failing run is logged and retried at the next tick; nothing is lost, because every job is
idempotent and resumes from the database. On PostgreSQL several loops may run at once: each
batch locks the rows it changes, so two workers never apply the same change.
"""

from __future__ import annotations

import logging
import threading
import time

from patron.bootstrap import Container
from patron.services import jobs

log = logging.getLogger("patron.jobs")


class JobLoop:
    def __init__(
        self, container: Container, interval: float, webhook_interval: float | None = None
    ) -> None:
        self._container = container
        self._interval = interval
        self._webhook_interval = min(
            interval, webhook_interval or container.settings.webhooks_interval_seconds
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> jobs.Report | None:
        try:
            report = jobs.run_due(
                self._container.uow,
                self._container.clock.now(),
                sender=self._container.webhooks,
            )
        except Exception:
            log.exception("scheduled jobs failed; retrying at the next tick")
            return None
        for slug, counts in report.done.items():
            changed = {job: n for job, n in counts.items() if n}
            if changed:
                log.info("jobs for %s: %s", slug, changed)
        return report

    def deliver(self) -> int:
        try:
            return jobs.run_webhooks(
                self._container.uow, self._container.webhooks, self._container.clock.now()
            )
        except Exception:
            log.exception("webhook delivery failed; retrying at the next tick")
            return 0

    def run(self) -> None:
        """Loop in the calling thread until ``stop``."""
        while not self._stop.is_set():
            self.tick()
            next_full = time.monotonic() + self._interval
            while not self._stop.wait(min(self._webhook_interval, next_full - time.monotonic())):
                if time.monotonic() >= next_full:
                    break
                self.deliver()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="patron-jobs", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Stop from a signal handler, after the batch in progress. The event is set from
        another thread: the handler may have interrupted this one while it held the event's
        lock."""
        threading.Thread(target=self._stop.set, name="patron-stop").start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
