"""Staff users in SQL (``staff_*`` tables): see ``patron.services.ports.staff``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from patron.adapters.db.tables import staff as st
from patron.domain.staff import StaffGrant, StaffSession, StaffUser
from patron.services.ports.staff import StaffCredentials


def _user(row: Any) -> StaffUser:
    return StaffUser(
        id=row.id,
        email=row.email,
        name=row.name,
        every_program=row.every_program,
        has_password=row.password_hash is not None,
        totp_enabled=row.totp_secret is not None,
        status=row.status,
        created_at=row.created_at,
        last_sign_in_at=row.last_sign_in_at,
    )


def _grant(row: Any) -> StaffGrant:
    return StaffGrant(
        program_id=row.program_id,
        staff_id=row.staff_id,
        role=row.role,
        support_limit=row.support_limit,
        support_daily_limit=row.support_daily_limit,
    )


def _session(row: Any) -> StaffSession:
    return StaffSession(
        id=row.id,
        staff_id=row.staff_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_seen_at=row.last_seen_at,
        second_factor_pending=row.second_factor_pending,
        revoked_at=row.revoked_at,
        address=row.address,
        user_agent=row.user_agent,
    )


class SqlStaffRepository:
    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._postgres = dialect == "postgresql"

    def add(self, user: StaffUser) -> None:
        self._conn.execute(
            st.staff_users.insert().values(
                id=user.id,
                email=user.email,
                email_key=user.email.casefold(),
                name=user.name,
                every_program=user.every_program,
                status=user.status,
                created_at=user.created_at,
                updated_at=user.created_at,
            )
        )

    def get(self, staff_id: str) -> StaffUser | None:
        row = self._conn.execute(
            sa.select(st.staff_users).where(st.staff_users.c.id == staff_id)
        ).first()
        return _user(row) if row else None

    def _credentials(self, where: sa.ColumnElement[bool]) -> StaffCredentials | None:
        row = self._conn.execute(sa.select(st.staff_users).where(where)).first()
        if row is None:
            return None
        return StaffCredentials(_user(row), row.password_hash, row.totp_secret)

    def credentials(self, email_key: str) -> StaffCredentials | None:
        return self._credentials(st.staff_users.c.email_key == email_key)

    def credentials_of(self, staff_id: str) -> StaffCredentials | None:
        return self._credentials(st.staff_users.c.id == staff_id)

    def every(self) -> list[StaffUser]:
        rows = self._conn.execute(sa.select(st.staff_users).order_by(st.staff_users.c.email_key))
        return [_user(row) for row in rows]

    def update(self, staff_id: str, at: datetime, **values: object) -> None:
        self._conn.execute(
            st.staff_users.update()
            .where(st.staff_users.c.id == staff_id)
            .values(updated_at=at, **values)
        )

    def use_totp_step(self, staff_id: str, step: int) -> bool:
        c = st.staff_users.c
        done = self._conn.execute(
            st.staff_users.update()
            .where(c.id == staff_id, sa.or_(c.totp_last_step.is_(None), c.totp_last_step < step))
            .values(totp_last_step=step)
            .returning(c.id)
        )
        return done.first() is not None

    def put_grant(self, grant: StaffGrant, at: datetime) -> None:
        values = {
            "program_id": grant.program_id,
            "staff_id": grant.staff_id,
            "role": grant.role,
            "support_limit": grant.support_limit,
            "support_daily_limit": grant.support_daily_limit,
            "created_at": at,
        }
        insert = (postgresql.insert if self._postgres else sqlite.insert)(st.staff_grants)
        self._conn.execute(
            insert.values(**values).on_conflict_do_update(
                index_elements=["program_id", "staff_id"],
                set_={k: v for k, v in values.items() if k not in ("program_id", "staff_id")},
            )
        )

    def remove_grant(self, program_id: str, staff_id: str) -> None:
        c = st.staff_grants.c
        self._conn.execute(
            st.staff_grants.delete().where(c.program_id == program_id, c.staff_id == staff_id)
        )

    def grants_of(self, staff_id: str) -> list[StaffGrant]:
        c = st.staff_grants.c
        rows = self._conn.execute(sa.select(st.staff_grants).where(c.staff_id == staff_id))
        return [_grant(row) for row in rows]

    def grants_in(self, program_id: str) -> list[StaffGrant]:
        c = st.staff_grants.c
        rows = self._conn.execute(sa.select(st.staff_grants).where(c.program_id == program_id))
        return [_grant(row) for row in rows]

    def add_session(self, session: StaffSession, digest: str) -> None:
        self._conn.execute(
            st.staff_sessions.insert().values(
                id=session.id,
                staff_id=session.staff_id,
                token_digest=digest,
                created_at=session.created_at,
                expires_at=session.expires_at,
                last_seen_at=session.last_seen_at,
                second_factor_pending=session.second_factor_pending,
                address=session.address[:64],
                user_agent=session.user_agent[:300],
            )
        )

    def session(self, digest: str) -> StaffSession | None:
        c = st.staff_sessions.c
        row = self._conn.execute(
            sa.select(st.staff_sessions).where(c.token_digest == digest)
        ).first()
        return _session(row) if row else None

    def sessions_of(self, staff_id: str) -> list[StaffSession]:
        c = st.staff_sessions.c
        rows = self._conn.execute(
            sa.select(st.staff_sessions)
            .where(c.staff_id == staff_id)
            .order_by(c.last_seen_at.desc())
            .limit(100)
        )
        return [_session(row) for row in rows]

    def touch_session(self, session_id: str, at: datetime) -> None:
        c = st.staff_sessions.c
        self._conn.execute(
            st.staff_sessions.update().where(c.id == session_id).values(last_seen_at=at)
        )

    def pass_second_factor(self, session_id: str) -> None:
        c = st.staff_sessions.c
        self._conn.execute(
            st.staff_sessions.update().where(c.id == session_id).values(second_factor_pending=False)
        )

    def revoke_session(self, session_id: str, at: datetime) -> bool:
        c = st.staff_sessions.c
        done = self._conn.execute(
            st.staff_sessions.update()
            .where(c.id == session_id, c.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(c.id)
        )
        return done.first() is not None

    def revoke_sessions(self, staff_id: str, at: datetime) -> int:
        c = st.staff_sessions.c
        done = self._conn.execute(
            st.staff_sessions.update()
            .where(c.staff_id == staff_id, c.revoked_at.is_(None), c.expires_at > at)
            .values(revoked_at=at)
            .returning(c.id)
        )
        return len(done.all())

    def add_link(
        self, digest: str, staff_id: str, purpose: str, at: datetime, expires_at: datetime
    ) -> None:
        self._conn.execute(
            st.staff_links.insert().values(
                token_digest=digest,
                staff_id=staff_id,
                purpose=purpose,
                created_at=at,
                expires_at=expires_at,
            )
        )

    def _live(self, digest: str, purpose: str, at: datetime) -> sa.ColumnElement[bool]:
        c = st.staff_links.c
        return sa.and_(
            c.token_digest == digest, c.purpose == purpose, c.used_at.is_(None), c.expires_at > at
        )

    def link(self, digest: str, purpose: str, at: datetime) -> str | None:
        found = self._conn.execute(
            sa.select(st.staff_links.c.staff_id).where(self._live(digest, purpose, at))
        ).scalar()
        return str(found) if found is not None else None

    def use_link(self, digest: str, purpose: str, at: datetime) -> str | None:
        c = st.staff_links.c
        found = self._conn.execute(
            st.staff_links.update()
            .where(self._live(digest, purpose, at))
            .values(used_at=at)
            .returning(c.staff_id)
        ).scalar()
        return str(found) if found is not None else None

    def add_daily_usage(self, program_id: str, staff_id: str, day: date, points: int) -> int:
        table = st.staff_daily_usage
        insert = (postgresql.insert if self._postgres else sqlite.insert)(table)
        total = self._conn.execute(
            insert.values(program_id=program_id, staff_id=staff_id, day=day, points=points)
            .on_conflict_do_update(
                index_elements=["program_id", "staff_id", "day"],
                set_={"points": table.c.points + insert.excluded.points},
            )
            .returning(table.c.points)
        ).scalar_one()
        return int(total)
