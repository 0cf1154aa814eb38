"""The SQL unit of work: one connection, one transaction, the repositories bound to it.

On SQLite, write transactions in this process also take a process-wide lock before
``BEGIN IMMEDIATE``: threads queue on the lock instead of spinning on SQLite's busy handler, which
keeps one writer at a time at full speed (other processes, such as the CLI, still serialise on
SQLite's own lock with a busy time-out).
"""

from __future__ import annotations

import threading
from types import TracebackType

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine, RootTransaction

from patron.adapters.db.analytics import SqlAnalyticsRepository
from patron.adapters.db.campaigns import SqlCampaignRepository
from patron.adapters.db.engine import WRITE_OPTION, is_sqlite
from patron.adapters.db.errors import translate
from patron.adapters.db.grants import SqlGrantRepository
from patron.adapters.db.ledger import SqlLedgerRepository
from patron.adapters.db.outbox import SqlOutboxRepository
from patron.adapters.db.privacy import SqlPrivacyRepository
from patron.adapters.db.purchases import SqlPurchaseRepository
from patron.adapters.db.referrals import SqlReferralRepository
from patron.adapters.db.repositories import (
    SqlApiKeyRepository,
    SqlAuditRepository,
    SqlIdempotencyRepository,
    SqlMemberRepository,
    SqlProgramRepository,
)
from patron.adapters.db.rewards import SqlRewardRepository
from patron.adapters.db.segments import SqlSegmentRepository
from patron.adapters.db.tiers import SqlTierRepository
from patron.adapters.db.webhooks import SqlWebhookRepository


class SqlUnitOfWork:
    def __init__(self, engine: Engine, *, write: bool, write_lock: threading.Lock | None) -> None:
        self._engine = engine
        self._write = write
        self._lock = write_lock if write else None
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None

    def __enter__(self) -> SqlUnitOfWork:
        if self._lock is not None:
            self._lock.acquire()
        try:
            conn = self._engine.connect().execution_options(**{WRITE_OPTION: self._write})
            self._conn = conn
            self._tx = conn.begin()
        except sa_exc.DBAPIError as error:
            self._release()
            raise translate(error) from error
        except BaseException:
            self._release()
            raise
        dialect = conn.dialect.name
        self.programs = SqlProgramRepository(conn)
        self.api_keys = SqlApiKeyRepository(conn)
        self.members = SqlMemberRepository(conn)
        self.audit = SqlAuditRepository(conn)
        self.idempotency = SqlIdempotencyRepository(conn, dialect)
        self.ledger = SqlLedgerRepository(conn, dialect)
        self.purchases = SqlPurchaseRepository(conn)
        self.tiers = SqlTierRepository(conn, dialect)
        self.rewards = SqlRewardRepository(conn)
        self.outbox = SqlOutboxRepository(conn)
        self.referrals = SqlReferralRepository(conn)
        self.segments = SqlSegmentRepository(conn)
        self.grants = SqlGrantRepository(conn)
        self.campaigns = SqlCampaignRepository(conn)
        self.webhooks = SqlWebhookRepository(conn, dialect)
        self.analytics = SqlAnalyticsRepository(conn)
        self.privacy = SqlPrivacyRepository(conn, dialect)
        return self

    @property
    def connection(self) -> Connection:
        assert self._conn is not None, "unit of work not entered"
        return self._conn

    def commit(self) -> None:
        assert self._tx is not None, "unit of work not entered"
        try:
            self._tx.commit()
        except sa_exc.DBAPIError as error:
            raise translate(error) from error

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                self._tx.rollback()
        except sa_exc.DBAPIError:
            # The connection is gone (e.g. terminated); the database rolled back for us.
            pass
        finally:
            self._release()
        if isinstance(exc, sa_exc.DBAPIError):
            translated = translate(exc)
            if translated is not exc:
                raise translated from exc

    def _release(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._tx = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None


class SqlUnitOfWorkFactory:
    """Makes units of work on one engine (with the single-writer lock on SQLite)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write_lock = threading.Lock() if is_sqlite(engine) else None

    def __call__(self, *, write: bool) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, write=write, write_lock=self._write_lock)
