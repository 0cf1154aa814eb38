"""The SQL unit of work: one connection, one transaction, the repositories bound to it.

On SQLite, write transactions in this process also take a process-wide lock before
``BEGIN IMMEDIATE``: threads queue on the lock instead of spinning on SQLite's busy handler, which
keeps one writer at a time at full speed (other processes, such as the CLI, still serialise on
SQLite's own lock with a busy time-out).

A factory may be scoped to one program (:meth:`SqlUnitOfWorkFactory.scoped`): its units of work
open their connection with the ``patron_program`` option, so on PostgreSQL every transaction runs
as role ``patron_tenant`` with ``patron.program_id`` set, and row-level security refuses any other
program's rows even to a statement that forgot its ``program_id`` filter (see
``patron.adapters.db.engine`` and migration 0016). On SQLite the scope changes nothing: the
repositories' filters are the only wall there.
"""

from __future__ import annotations

import threading
from types import TracebackType

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine, RootTransaction

from patron.adapters.db.analytics import SqlAnalyticsRepository
from patron.adapters.db.campaigns import SqlCampaignRepository
from patron.adapters.db.engine import PROGRAM_OPTION, WRITE_OPTION, is_sqlite
from patron.adapters.db.errors import translate
from patron.adapters.db.grants import SqlGrantRepository
from patron.adapters.db.ledger import SqlLedgerRepository
from patron.adapters.db.member_reads import SqlMemberReads
from patron.adapters.db.messages import SessionRecorder, SqlMessageRepository, TransactionRecorder
from patron.adapters.db.outbox import SqlOutboxRepository
from patron.adapters.db.portal import SqlPortalRepository
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
from patron.adapters.db.staff import SqlStaffRepository
from patron.adapters.db.tiers import SqlTierRepository
from patron.adapters.db.wallet import SqlWalletPassRepository, SqlWalletRepository
from patron.adapters.db.webhooks import SqlWebhookRepository
from patron.domain.fingerprints import Fingerprints
from patron.services.ports import BatchReads, MessageRecorder


class SqlUnitOfWork:
    def __init__(
        self,
        engine: Engine,
        *,
        write: bool,
        write_lock: threading.Lock | None,
        program_id: str | None = None,
    ) -> None:
        self._engine = engine
        self._write = write
        self.program_id = program_id
        self._lock = write_lock if write else None
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None

    def __enter__(self) -> SqlUnitOfWork:
        if self._lock is not None:
            self._lock.acquire()
        try:
            options: dict[str, object] = {WRITE_OPTION: self._write}
            if self.program_id is not None:
                options[PROGRAM_OPTION] = self.program_id
            conn = self._engine.connect().execution_options(**options)
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
        self.staff = SqlStaffRepository(conn, dialect)
        self.member_reads = SqlMemberReads(conn)
        self.messages = SqlMessageRepository(conn, dialect)
        self.wallet = SqlWalletRepository(conn, dialect)
        self.passes = SqlWalletPassRepository(conn, dialect)
        self.portal = SqlPortalRepository(conn)
        return self

    def prefetch(self, reads: BatchReads) -> None:
        """Nothing to do: a plain unit of work reads as it goes (see ``batched``)."""

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
    """Makes units of work on one engine (with the single-writer lock on SQLite), unscoped or
    scoped to one program."""

    def __init__(
        self,
        engine: Engine,
        *,
        program_id: str | None = None,
        fingerprint: Fingerprints | None = None,
        _write_lock: threading.Lock | None = None,
        _unit: type[SqlUnitOfWork] | None = None,
    ) -> None:
        self.engine = engine
        self.program_id = program_id
        self.fingerprint = fingerprint or Fingerprints()
        self._unit = _unit or SqlUnitOfWork
        if _write_lock is None and is_sqlite(engine):
            _write_lock = threading.Lock()
        self._write_lock = _write_lock

    def __call__(self, *, write: bool) -> SqlUnitOfWork:
        return self._unit(
            self.engine, write=write, write_lock=self._write_lock, program_id=self.program_id
        )

    def scoped(self, program_id: str) -> SqlUnitOfWorkFactory:
        """A factory on the same engine (and writer lock) whose units of work see only
        ``program_id``'s rows. A scope cannot be widened or moved to another program."""
        if self.program_id is not None and self.program_id != program_id:
            raise ValueError("this unit-of-work factory is scoped to another program")
        return SqlUnitOfWorkFactory(
            self.engine,
            program_id=program_id,
            fingerprint=self.fingerprint,
            _write_lock=self._write_lock,
            _unit=self._unit,
        )

    def batched(self) -> SqlUnitOfWorkFactory:
        """A factory on the same engine, scope and writer lock whose units of work queue their
        hot writes to commit and read a batch ahead (``patron.adapters.db.batched``)."""
        from patron.adapters.db.batched import BatchedUnitOfWork  # it builds on this module

        return SqlUnitOfWorkFactory(
            self.engine,
            program_id=self.program_id,
            fingerprint=self.fingerprint,
            _write_lock=self._write_lock,
            _unit=BatchedUnitOfWork,
        )

    def message_recorder(self) -> MessageRecorder:
        """Delivery results of this factory's program, one committed write each: a unit of work
        per result on SQLite, one autocommit ``UPDATE`` on PostgreSQL (``SessionRecorder``)."""
        if self.program_id is None:
            raise ValueError("a message recorder belongs to one program: scope the factory")
        if is_sqlite(self.engine):
            return TransactionRecorder(self, self.program_id)
        return SessionRecorder(self.engine, self.program_id)
