"""The member portal's links, sessions and sign-in requests in SQL (``ports.PortalRepository``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.domain.portal import PortalLink, PortalSession


class SqlPortalRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add_link(self, link: PortalLink, digest: str) -> None:
        self._conn.execute(
            t.portal_links.insert().values(
                id=link.id,
                program_id=link.program_id,
                member_id=link.member_id,
                token_digest=digest,
                source=link.source,
                return_url=link.return_url,
                created_at=link.created_at,
                expires_at=link.expires_at,
                used_at=None,
            )
        )

    def link(self, program_id: str, digest: str) -> PortalLink | None:
        c = t.portal_links.c
        row = self._conn.execute(
            sa.select(t.portal_links).where(c.program_id == program_id, c.token_digest == digest)
        ).first()
        return _link(row._mapping) if row else None

    def use_link(self, link_id: str, at: datetime) -> bool:
        c = t.portal_links.c
        done = self._conn.execute(
            t.portal_links.update()
            .where(c.id == link_id, c.used_at.is_(None))
            .values(used_at=at)
            .returning(c.id)
        )
        return done.first() is not None

    def add_session(self, session: PortalSession, digest: str) -> None:
        self._conn.execute(
            t.portal_sessions.insert().values(
                id=session.id,
                program_id=session.program_id,
                member_id=session.member_id,
                token_digest=digest,
                created_at=session.created_at,
                expires_at=session.expires_at,
                revoked_at=None,
            )
        )

    def session(self, program_id: str, digest: str) -> PortalSession | None:
        c = t.portal_sessions.c
        row = self._conn.execute(
            sa.select(t.portal_sessions).where(c.program_id == program_id, c.token_digest == digest)
        ).first()
        if row is None:
            return None
        r = row._mapping
        return PortalSession(
            id=r["id"],
            program_id=r["program_id"],
            member_id=r["member_id"],
            created_at=r["created_at"],
            expires_at=r["expires_at"],
            revoked_at=r["revoked_at"],
        )

    def end_session(self, session_id: str, at: datetime) -> None:
        c = t.portal_sessions.c
        self._conn.execute(
            t.portal_sessions.update()
            .where(c.id == session_id, c.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    def end_member(self, program_id: str, member_id: str, at: datetime) -> int:
        s, k = t.portal_sessions.c, t.portal_links.c
        ended = self._conn.execute(
            t.portal_sessions.update()
            .where(s.program_id == program_id, s.member_id == member_id, s.revoked_at.is_(None))
            .values(revoked_at=at)
        ).rowcount
        spent = self._conn.execute(
            t.portal_links.update()
            .where(k.program_id == program_id, k.member_id == member_id, k.used_at.is_(None))
            .values(used_at=at)
        ).rowcount
        return int(ended or 0) + int(spent or 0)

    def add_request(self, request_id: str, program_id: str, email_key: str, at: datetime) -> None:
        self._conn.execute(
            t.portal_sign_in_requests.insert().values(
                id=request_id, program_id=program_id, email_key=email_key, requested_at=at
            )
        )

    def forget_requests(self, program_id: str, email_key: str) -> int:
        r = t.portal_sign_in_requests.c
        deleted = self._conn.execute(
            t.portal_sign_in_requests.delete().where(
                r.program_id == program_id, r.email_key == email_key
            )
        ).rowcount
        return int(deleted or 0)

    def take_requests(self, program_id: str, limit: int) -> list[str]:
        r = t.portal_sign_in_requests.c
        ids = (
            self._conn.execute(
                sa.select(r.id)
                .where(r.program_id == program_id)
                .order_by(r.requested_at, r.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            .scalars()
            .all()
        )
        if not ids:
            return []
        # Deleting what was locked: a concurrent worker skipped these rows, so each request is
        # answered by one transaction only.
        taken = self._conn.execute(
            t.portal_sign_in_requests.delete()
            .where(r.id.in_(ids))
            .returning(r.email_key, r.requested_at, r.id)
        ).all()
        return [row.email_key for row in sorted(taken, key=lambda row: (row[1], row[2]))]


def _link(r: Any) -> PortalLink:
    return PortalLink(
        id=r["id"],
        program_id=r["program_id"],
        member_id=r["member_id"],
        source=r["source"],
        created_at=r["created_at"],
        expires_at=r["expires_at"],
        used_at=r["used_at"],
        return_url=r["return_url"],
    )
