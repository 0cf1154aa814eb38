"""The job loop: run every due job, wait, repeat. Used by `patron worker` and `patron serve`.

Two cadences: every job (release, expiry, tiers, ..., webhooks, messages) each ``interval``
seconds, and webhook and message delivery alone each ``webhook_interval`` seconds in between, so
a fact reaches its endpoints and members within seconds and a failed attempt is retried on time.

A failing run is logged and retried at the next tick; nothing is lost, because every job is
idempotent and resumes from the database. Before each full run the loop checks the database: when
it does not answer, or its schema is not migrated to this Patron's latest revision, the loop logs
one line saying so (and what to run), skips its work, and logs again only when that changes, so
an unmigrated database gives one clear warning instead of a traceback every few seconds.

On PostgreSQL several loops may run at once: each batch locks the rows it changes, so two workers
never apply the same change.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.exc import SQLAlchemyError

from patron.adapters.db import migrate
from patron.bootstrap import Container
from patron.services import jobs

log = logging.getLogger("patron.jobs")


class JobLoop:
    def __init__(
        self, container: Container, interval: float, webhook_interval: float | None = None
    ) -> None:
        self._container = container
        self._interval = interval
        settings = container.settings
        self._webhook_interval = min(
            interval,
            webhook_interval or settings.webhooks_interval_seconds,
            settings.messages_interval_seconds,
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._paused: str | None = None  # why the loop does nothing, when it does nothing

    def ready(self) -> bool:
        """Whether the database answers with the schema this Patron needs; logs a change."""
        try:
            state = migrate.schema_state(self._container.engine)
            reason = None if state.ready else state.message
        except SQLAlchemyError as exc:
            reason = f"the database does not answer ({type(exc).__name__})"
        if reason != self._paused:
            if reason is not None:
                log.warning("scheduled jobs paused: %s", reason)
            else:
                log.info("scheduled jobs resumed: the database is ready")
            self._paused = reason
        return reason is None

    def tick(self) -> jobs.Report | None:
        if not self.ready():
            return None
        try:
            report = jobs.run_due(
                self._container.uow,
                self._container.clock.now(),
                sender=self._container.webhooks,
                outlets=self._container.outlets(),
                wallet=self._container.wallet(),
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
        if self._paused is not None:  # known not ready since the last full run
            return 0
        done = 0
        box = self._container
        try:
            done += jobs.run_webhooks(box.uow, box.webhooks, box.clock.now())
        except Exception:
            log.exception("webhook delivery failed; retrying at the next tick")
        try:
            done += jobs.run_messages(box.uow, box.outlets(), box.clock.now())
        except Exception:
            log.exception("message delivery failed; retrying at the next tick")
        try:
            done += jobs.run_wallet(box.uow, box.wallet(), box.clock.now())
        except Exception:
            log.exception("wallet pass updates failed; retrying at the next tick")
        return done

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
