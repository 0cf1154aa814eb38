"""Message templates, the message log, unsubscribe keys, and the outbox's message mark."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from patron.adapters.db import tables as t
from patron.adapters.db.engine import SCOPE_SETTING, TENANT_ROLE
from patron.adapters.db.errors import translate
from patron.services.ports import (
    Message,
    MessageUpdate,
    OutboxEvent,
    StoredTemplate,
    UnitOfWorkFactory,
)

_m = t.messages.c
_tp = t.message_templates.c
_o = t.outbox.c
_MESSAGE = [f.name for f in fields(Message)]
_TEMPLATE = [f.name for f in fields(StoredTemplate)]
_EVENT = [f.name for f in fields(OutboxEvent)]


def _recorded(program_id: str, update: MessageUpdate) -> sa.Update:
    values: dict[str, object] = {
        "status": update.status,
        "reason": update.reason,
        "detail": update.detail[:500] if update.detail else None,
        "next_attempt_at": update.next_attempt_at,
        "sent_at": update.sent_at,
    }
    if update.attempts_back:
        values["attempts"] = _m.attempts - 1
    return (
        t.messages.update().where(_m.id == update.id, _m.program_id == program_id).values(**values)
    )


class TransactionRecorder:
    """``MessageRecorder`` that writes each result in its own unit of work (SQLite, where a
    transaction costs no round trip)."""

    def __init__(self, uow_factory: UnitOfWorkFactory, program_id: str) -> None:
        self._uow_factory = uow_factory
        self._program_id = program_id

    def __enter__(self) -> TransactionRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def record(self, update: MessageUpdate) -> None:
        with self._uow_factory(write=True) as uow:
            uow.messages.record(self._program_id, [update])
            uow.commit()


class SessionRecorder:
    """``MessageRecorder`` for PostgreSQL: one connection of its own, taken out of the pool, in
    autocommit with the program's tenant scope set for the session, so that each result is one
    ``UPDATE`` and one round trip, committed durably (a transaction of its own: BEGIN, scope,
    UPDATE, COMMIT would be four). The connection is closed, never pooled, when the recorder
    ends: its session settings cannot leak to another checkout."""

    def __init__(self, engine: Engine, program_id: str) -> None:
        self._engine = engine
        self._program_id = program_id
        self._conn: Connection | None = None

    def __enter__(self) -> SessionRecorder:
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            conn.detach()  # closed for good on exit: the session settings below stay with it
            conn.execute(_SESSION_SCOPE, {"program": self._program_id})
            conn.commit()
        except sa_exc.DBAPIError as error:
            conn.close()
            raise translate(error) from error
        self._conn = conn
        return self

    def __exit__(self, *exc: object) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def record(self, update: MessageUpdate) -> None:
        assert self._conn is not None, "recorder not entered"
        try:
            self._conn.execute(_recorded(self._program_id, update))
            self._conn.commit()  # ends SQLAlchemy's own transaction; the row is already committed
        except sa_exc.DBAPIError as error:
            raise translate(error) from error


_SESSION_SCOPE = sa.text(
    f"SELECT set_config('role', '{TENANT_ROLE}', false), "
    f"set_config('{SCOPE_SETTING}', :program, false)"
)


class SqlMessageRepository:
    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self._postgres = dialect == "postgresql"

    # --- templates ---------------------------------------------------------------------------

    def templates(self, program_id: str) -> list[StoredTemplate]:
        rows = self._conn.execute(
            sa.select(*(_tp[n] for n in _TEMPLATE))
            .where(_tp.program_id == program_id)
            .order_by(_tp.event, _tp.channel)
        )
        return [StoredTemplate(**row._asdict()) for row in rows]

    def template(self, program_id: str, event: str, channel: str) -> StoredTemplate | None:
        row = self._conn.execute(
            sa.select(*(_tp[n] for n in _TEMPLATE)).where(
                _tp.program_id == program_id, _tp.event == event, _tp.channel == channel
            )
        ).first()
        return StoredTemplate(**row._asdict()) if row is not None else None

    def put_template(self, template: StoredTemplate) -> None:
        values = {n: getattr(template, n) for n in _TEMPLATE}
        changed = {n: values[n] for n in _TEMPLATE if n not in ("program_id", "event", "channel")}
        self._conn.execute(
            self._insert(t.message_templates)
            .values(**values)
            .on_conflict_do_update(
                index_elements=[_tp.program_id, _tp.event, _tp.channel], set_=changed
            )
        )

    def key(self, program_id: str, now: datetime, *, create: bool) -> str | None:
        k = t.message_keys.c
        if create:
            self._conn.execute(
                self._insert(t.message_keys)
                .values(program_id=program_id, secret=secrets.token_hex(32), created_at=now)
                .on_conflict_do_nothing(index_elements=[k.program_id])
            )
        value = self._conn.execute(
            sa.select(k.secret).where(k.program_id == program_id)
        ).scalar_one_or_none()
        return str(value) if value is not None else None

    # --- the outbox's message side -----------------------------------------------------------

    def unplanned(self, program_id: str, limit: int) -> list[OutboxEvent]:
        rows = self._conn.execute(
            sa.select(*(_o[n] for n in _EVENT))
            .where(_o.program_id == program_id, _o.messaged_at.is_(None))
            .order_by(_o.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [OutboxEvent(**row._asdict()) for row in rows]

    def mark_planned(self, event_ids: Sequence[str], now: datetime) -> None:
        if event_ids:
            self._conn.execute(
                t.outbox.update().where(_o.id.in_(list(event_ids))).values(messaged_at=now)
            )

    # --- the log -----------------------------------------------------------------------------

    def add(self, messages: Sequence[Message]) -> int:
        if not messages:
            return 0
        result = self._conn.execute(
            self._insert(t.messages)
            .on_conflict_do_nothing(
                index_elements=[_m.program_id, _m.member_id, _m.event, _m.channel, _m.subject_key]
            )
            .returning(_m.id),
            [{n: getattr(m, n) for n in _MESSAGE} for m in messages],
        )
        return len(result.all())

    def claim(
        self, program_id: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Message]:
        due = (
            self._conn.execute(
                sa.select(_m.id)
                .where(
                    _m.program_id == program_id, _m.status == "queued", _m.next_attempt_at <= now
                )
                .order_by(_m.next_attempt_at, _m.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            .scalars()
            .all()
        )
        if not due:
            return []
        self._conn.execute(
            t.messages.update()
            .where(_m.id.in_(due))
            .values(attempts=_m.attempts + 1, next_attempt_at=lease_until, last_attempt_at=now)
        )
        rows = self._conn.execute(
            sa.select(*(_m[n] for n in _MESSAGE))
            .where(_m.id.in_(due))
            .order_by(_m.created_at, _m.id)
        )
        return [Message(**row._asdict()) for row in rows]

    def record(self, program_id: str, updates: Sequence[MessageUpdate]) -> None:
        if self._postgres and updates:
            # The claim's decisions (skips, holds) need not wait for the WAL flush: only a crash
            # of PostgreSQL itself in the next few hundred milliseconds could lose them, and
            # the messages would be claimed and decided again when their lease ends. Delivery
            # results are not written here but by a ``MessageRecorder``, durably.
            self._conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        for update in updates:
            self._conn.execute(_recorded(program_id, update))

    def marketing_sent(
        self, member_id: str, channel: str, since: datetime, exempt: Sequence[str]
    ) -> int:
        query = sa.select(sa.func.count()).where(
            _m.member_id == member_id,
            _m.channel == channel,
            _m.sent_at >= since,
            _m.category == "marketing",
        )
        if exempt:
            query = query.where(_m.event.not_in(list(exempt)))
        return int(self._conn.execute(query).scalar_one())

    def of_member(
        self, program_id: str, member_id: str, limit: int, before: str | None = None
    ) -> list[Message]:
        query = sa.select(*(_m[n] for n in _MESSAGE)).where(
            _m.program_id == program_id, _m.member_id == member_id
        )
        if before is not None:
            anchor = self._conn.execute(
                sa.select(_m.created_at, _m.id).where(_m.id == before, _m.member_id == member_id)
            ).first()
            if anchor is None:
                return []
            query = query.where(sa.tuple_(_m.created_at, _m.id) < sa.tuple_(*anchor))
        rows = self._conn.execute(query.order_by(_m.created_at.desc(), _m.id.desc()).limit(limit))
        return [Message(**row._asdict()) for row in rows]

    def get(self, program_id: str, message_id: str) -> Message | None:
        row = self._conn.execute(
            sa.select(*(_m[n] for n in _MESSAGE)).where(
                _m.program_id == program_id, _m.id == message_id
            )
        ).first()
        return Message(**row._asdict()) if row is not None else None

    def resends(self, message_id: str) -> int:
        return int(
            self._conn.execute(
                sa.select(sa.func.count()).where(_m.resend_of == message_id)
            ).scalar_one()
        )

    def forget(self, member_id: str, now: datetime) -> None:
        self._conn.execute(
            t.messages.update()
            .where(_m.member_id == member_id, _m.status == "queued")
            .values(status="skipped", reason="member_erased", next_attempt_at=None)
        )
        self._conn.execute(
            t.messages.update()
            .where(_m.member_id == member_id)
            .values(to_address=None, subject=None, body=None, detail=None)
        )
