"""``UnitOfWorkFactory.message_recorder`` (adapters/db/messages.py): each result is committed
before ``record`` returns, only the recorder's program's messages are written, and on
PostgreSQL the recorder's session settings (tenant role and scope) never reach a pooled
connection."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.services import messages
from patron.services.ports import MessageUpdate
from tests.factories import create_program, enrol


def _queued(container: Container, program_id: str) -> str:
    with container.engine.connect() as conn:
        found = conn.execute(
            sa.select(t.messages.c.id).where(
                t.messages.c.program_id == program_id, t.messages.c.status == "queued"
            )
        ).scalar()
    assert found is not None
    return str(found)


def _status(container: Container, message_id: str) -> Any:
    with container.engine.connect() as conn:
        return conn.execute(
            sa.select(t.messages.c.status, t.messages.c.sent_at).where(
                t.messages.c.id == message_id
            )
        ).one()


def test_records_are_committed_one_by_one_and_stay_in_their_program(
    client: TestClient, container: Container, shop: dict[str, str], platform: str
) -> None:
    enrol(client, shop["admin"], program="shop", email="ann@example.com", consents={"email": True})
    now = container.clock.now()
    assert messages.plan(container.uow, shop["id"], now, "https://loyalty.example.com") >= 1
    message_id = _queued(container, shop["id"])
    other = create_program(client, platform, slug="other")
    sent = MessageUpdate(message_id, "sent", None, "250 OK", None, sent_at=now)
    with container.uow.scoped(other["id"]).message_recorder() as recorder:
        recorder.record(sent)  # another program's recorder cannot touch the message
    assert _status(container, message_id).status == "queued"
    with container.uow.scoped(shop["id"]).message_recorder() as recorder:
        recorder.record(sent)
        assert _status(container, message_id).status == "sent"  # committed, seen from outside
        later = now + timedelta(minutes=1)
        recorder.record(MessageUpdate(message_id, "sent", None, "250 again", None, sent_at=later))
    assert _status(container, message_id).sent_at == later


def test_the_recorders_session_settings_never_reach_the_pool(
    client: TestClient, container: Container, shop: dict[str, str]
) -> None:
    for _ in range(3):
        with container.uow.scoped(shop["id"]).message_recorder():
            pass
    if container.engine.dialect.name != "postgresql":
        return
    seen = set()
    with container.engine.connect() as a, container.engine.connect() as b:
        for conn in (a, b):
            seen.add(
                conn.execute(
                    sa.text("SELECT current_user, current_setting('patron.program_id', true)")
                ).one()
            )
    assert {user for user, _ in seen} == {"postgres"}
    assert {scope or None for _, scope in seen} == {None}
