"""SQL repositories: domain objects in, domain objects out, Core statements in between."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from patron.adapters.db import tables as t
from patron.domain.audit import Actor, AuditRecord
from patron.domain.keys import ApiKey, Role
from patron.domain.members import Consent, Member, MemberStatus, full_name_key, name_key
from patron.domain.programs import Program
from patron.services.ports import AuditFilter, MemberFilter, StoredOutcome

# Read by every request and every job transaction: built once (ADR 0001).
_PROGRAM_BY_REF = sa.select(t.programs).where(
    sa.or_(t.programs.c.id == sa.bindparam("ref"), t.programs.c.slug == sa.bindparam("ref"))
)


class SqlProgramRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, program: Program) -> None:
        self._conn.execute(
            t.programs.insert().values(
                id=program.id,
                slug=program.slug,
                name=program.name,
                currency=program.currency,
                timezone=program.timezone,
                country=program.country,
                config_version=program.config_version,
                created_at=program.created_at,
            )
        )

    def get(self, ref: str) -> Program | None:
        row = self._conn.execute(_PROGRAM_BY_REF, {"ref": ref}).first()
        return _program(row) if row else None

    def all(self) -> list[Program]:
        rows = self._conn.execute(sa.select(t.programs).order_by(t.programs.c.slug))
        return [_program(row) for row in rows]

    def page(self, *, after: str | None, limit: int) -> list[Program]:
        c = t.programs.c
        stmt = sa.select(t.programs)
        if after is not None:
            stmt = stmt.where(c.slug > after)
        return [_program(row) for row in self._conn.execute(stmt.order_by(c.slug).limit(limit))]

    def slug_taken(self, slug: str) -> bool:
        stmt = sa.select(t.programs.c.id).where(t.programs.c.slug == slug)
        return self._conn.execute(stmt).first() is not None

    def lock(self, program_id: str) -> None:
        """Serialise the program's budget-consuming writes (a no-op on SQLite's single writer)."""
        stmt = sa.select(t.programs.c.id).where(t.programs.c.id == program_id)
        if self._conn.dialect.name == "postgresql":
            # FOR NO KEY UPDATE: rows inserted with a foreign key to the program hold FOR KEY
            # SHARE on it, which FOR UPDATE would wait for (a deadlock between two purchases).
            stmt = stmt.with_for_update(key_share=True)
        self._conn.execute(stmt)

    def bump_config_version(self, program_id: str) -> int:
        stmt = (
            t.programs.update()
            .where(t.programs.c.id == program_id)
            .values(config_version=t.programs.c.config_version + 1)
            .returning(t.programs.c.config_version)
        )
        return int(self._conn.execute(stmt).scalar_one())

    def add_config(
        self, program_id: str, version: int, document: dict[str, Any], at: datetime, actor: str
    ) -> None:
        self._conn.execute(
            t.program_configs.insert().values(
                program_id=program_id,
                version=version,
                document=document,
                created_at=at,
                created_by=actor,
            )
        )

    def get_config(self, program_id: str, version: int) -> dict[str, Any] | None:
        stmt = sa.select(t.program_configs.c.document).where(
            t.program_configs.c.program_id == program_id,
            t.program_configs.c.version == version,
        )
        return cast(dict[str, Any] | None, self._conn.execute(stmt).scalar_one_or_none())


def _program(row: Row[Any]) -> Program:
    return Program(
        id=row.id,
        slug=row.slug,
        name=row.name,
        currency=row.currency,
        timezone=row.timezone,
        country=row.country,
        config_version=row.config_version,
        created_at=row.created_at,
    )


class SqlApiKeyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, key: ApiKey, digest: str) -> None:
        self._conn.execute(
            t.api_keys.insert().values(
                id=key.id,
                program_id=key.program_id,
                name=key.name,
                role=key.role,
                prefix=key.prefix,
                key_digest=digest,
                created_at=key.created_at,
                revoked_at=key.revoked_at,
            )
        )

    def by_prefix(self, prefix: str) -> tuple[ApiKey, str] | None:
        row = self._conn.execute(sa.select(t.api_keys).where(t.api_keys.c.prefix == prefix)).first()
        if row is None:
            return None
        return _api_key(row), row.key_digest

    def get(self, key_id: str) -> ApiKey | None:
        row = self._conn.execute(sa.select(t.api_keys).where(t.api_keys.c.id == key_id)).first()
        return _api_key(row) if row else None

    def of_program(self, program_id: str, *, after: str | None, limit: int) -> list[ApiKey]:
        return self._page(t.api_keys.c.program_id == program_id, after, limit)

    def every(self, *, after: str | None, limit: int) -> list[ApiKey]:
        return self._page(sa.true(), after, limit)

    def _page(self, where: sa.ColumnElement[bool], after: str | None, limit: int) -> list[ApiKey]:
        c = t.api_keys.c
        stmt = sa.select(t.api_keys).where(where)
        if after is not None:
            stmt = stmt.where(c.id > after)
        return [_api_key(row) for row in self._conn.execute(stmt.order_by(c.id).limit(limit))]

    def revoke(self, key_id: str, at: datetime) -> None:
        c = t.api_keys.c
        self._conn.execute(
            t.api_keys.update().where(c.id == key_id, c.revoked_at.is_(None)).values(revoked_at=at)
        )

    def touch(self, key_id: str, at: datetime, *, unless_since: datetime) -> bool:
        c = t.api_keys.c
        # The condition makes concurrent requests (several processes) write once: the second
        # UPDATE finds the row already fresh.
        done = self._conn.execute(
            t.api_keys.update()
            .where(
                c.id == key_id,
                sa.or_(c.last_used_at.is_(None), c.last_used_at < unless_since),
            )
            .values(last_used_at=at)
            .returning(c.id)
        )
        return done.first() is not None

    def live_named(self, program_id: str, name: str) -> list[ApiKey]:
        k = t.api_keys.c
        stmt = sa.select(t.api_keys).where(
            k.program_id == program_id, k.name == name, k.revoked_at.is_(None)
        )
        return [_api_key(row) for row in self._conn.execute(stmt.order_by(k.created_at))]


def _api_key(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        program_id=row.program_id,
        name=row.name,
        role=cast(Role, row.role),
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


_MEMBER_FIELDS = (
    "external_id",
    "email",
    "email_key",
    "phone",
    "card_number",
    "referral_code",
    "first_name",
    "last_name",
    "birth_date",
    "status",
    "tier_code",
    "referred_by",
    "attributes",
    "enrolled_at",
    "created_at",
    "updated_at",
)
_IDENTIFIER_COLUMNS = ("external_id", "email_key", "phone", "card_number", "referral_code")


_MEMBER_BY_ID = sa.select(t.members).where(
    t.members.c.program_id == sa.bindparam("p"), t.members.c.id == sa.bindparam("m")
)
_CONSENTS_OF = (
    sa.select(
        t.member_consents.c.channel,
        t.member_consents.c.granted,
        t.member_consents.c.recorded_at,
        t.member_consents.c.source,
    )
    .where(t.member_consents.c.member_id == sa.bindparam("m"))
    .order_by(t.member_consents.c.id)  # oldest first: the latest record per channel wins
)


class SqlMemberRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, member: Member) -> None:
        values = {name: getattr(member, name) for name in _MEMBER_FIELDS} | _name_keys(member)
        # Parameters, not inline values: a batch's enrolments then share one statement.
        self._conn.execute(
            t.members.insert(), [{"id": member.id, "program_id": member.program_id, **values}]
        )

    def update(self, member: Member) -> None:
        values = {name: getattr(member, name) for name in _MEMBER_FIELDS if name != "created_at"}
        values |= _name_keys(member)
        self._conn.execute(
            t.members.update()
            .where(t.members.c.id == member.id, t.members.c.program_id == member.program_id)
            .values(**values)
        )

    def get(self, program_id: str, member_id: str) -> Member | None:
        # The hottest read of all (every earn, redemption and lookup): statements built once.
        row = self._conn.execute(_MEMBER_BY_ID, {"p": program_id, "m": member_id}).first()
        if row is None:
            return None
        member = member_of_row(row)
        for consent in self._conn.execute(_CONSENTS_OF, {"m": member_id}):
            member.consents[consent.channel] = Consent(
                channel=consent.channel,
                granted=bool(consent.granted),
                recorded_at=consent.recorded_at,
                source=consent.source,
            )
        return member

    def find(
        self, program_id: str, where: MemberFilter, *, after: str | None, limit: int
    ) -> Sequence[Member]:
        c = t.members.c
        conditions: list[sa.ColumnElement[bool]] = [c.program_id == program_id]
        for column, value in (
            (c.external_id, where.external_id),
            (c.email_key, where.email_key),
            (c.phone, where.phone),
            (c.card_number, where.card_number),
            (c.referral_code, where.referral_code),
            (c.tier_code, where.tier_code),
            (c.status, where.status),
        ):
            if value is not None:
                conditions.append(column == value)
        if after is not None:
            conditions.append(c.id > after)
        return self._select(sa.and_(*conditions), limit=limit)

    def by_external_ids(self, program_id: str, external_ids: Sequence[str]) -> dict[str, Member]:
        """The members with these external ids, with their consents (as ``find`` gives them)."""
        found = self._among(program_id, t.members.c.external_id, external_ids)
        return {str(m.external_id): m for m in found}

    def by_ids(self, program_id: str, member_ids: Sequence[str]) -> dict[str, Member]:
        """Those of these members that belong to the program, with their consents."""
        return {m.id: m for m in self._among(program_id, t.members.c.id, member_ids)}

    def _among(
        self, program_id: str, column: sa.Column[Any], values: Sequence[str]
    ) -> list[Member]:
        if not values:
            return []
        where = sa.and_(t.members.c.program_id == program_id, column.in_(list(values)))
        return self._select(where, limit=len(values))

    def born_on(
        self, program_id: str, days: Sequence[tuple[int, int]], *, after: str | None, limit: int
    ) -> list[Member]:
        c = t.members.c
        month, day = sa.extract("month", c.birth_date), sa.extract("day", c.birth_date)
        conditions = [
            c.program_id == program_id,
            c.status.in_(["active", "frozen"]),
            sa.or_(*(sa.and_(month == m, day == d) for m, d in days)),
        ]
        if after is not None:
            conditions.append(c.id > after)
        return self._select(sa.and_(*conditions), limit=limit)

    def holders(
        self, program_id: str, identifiers: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        """Which member holds each of these (column, value) identifiers (free ones are missing
        from the answer), in one statement."""
        c = t.members.c
        wanted: dict[str, set[str]] = {}
        for column, value in identifiers:
            wanted.setdefault(column, set()).add(value)
        if not wanted:
            return {}
        stmt = sa.select(c.id, *(c[name] for name in wanted)).where(
            c.program_id == program_id,
            sa.or_(*(c[name].in_(sorted(values)) for name, values in wanted.items())),
        )
        held: dict[tuple[str, str], str] = {}
        for row in self._conn.execute(stmt):
            for name, values in wanted.items():
                if (value := getattr(row, name)) in values:
                    held[(name, value)] = row.id
        return held

    def taken_identifiers(
        self, program_id: str, candidate: Member, *, exclude_id: str | None
    ) -> list[str]:
        c = t.members.c
        wanted = {name: getattr(candidate, name) for name in _IDENTIFIER_COLUMNS}
        clauses = [c[name] == value for name, value in wanted.items() if value is not None]
        if not clauses:
            return []
        stmt = sa.select(*(c[name] for name in _IDENTIFIER_COLUMNS)).where(
            c.program_id == program_id, sa.or_(*clauses)
        )
        if exclude_id is not None:
            stmt = stmt.where(c.id != exclude_id)
        taken: set[str] = set()
        for row in self._conn.execute(stmt):
            for name, value in wanted.items():
                if value is not None and getattr(row, name) == value:
                    taken.add("email" if name == "email_key" else name)
        return sorted(taken)

    def add_consents(self, member: Member, consents: Sequence[Consent]) -> None:
        if not consents:
            return
        self._conn.execute(
            t.member_consents.insert(),
            [
                {
                    "program_id": member.program_id,
                    "member_id": member.id,
                    "channel": c.channel,
                    "granted": c.granted,
                    "recorded_at": c.recorded_at,
                    "source": c.source,
                }
                for c in consents
            ],
        )

    def _select(self, condition: sa.ColumnElement[bool], *, limit: int) -> list[Member]:
        stmt = sa.select(t.members).where(condition).order_by(t.members.c.id).limit(limit)
        members = [member_of_row(row) for row in self._conn.execute(stmt)]
        if members:
            self._attach_consents(members)
        return members

    def _attach_consents(self, members: list[Member]) -> None:
        by_id = {m.id: m for m in members}
        c = t.member_consents.c
        stmt = (
            sa.select(c.member_id, c.channel, c.granted, c.recorded_at, c.source)
            .where(c.member_id.in_(list(by_id)))
            .order_by(c.id)
        )
        for row in self._conn.execute(stmt):
            # Rows come oldest first, so the latest record per channel wins.
            by_id[row.member_id].consents[row.channel] = Consent(
                channel=row.channel,
                granted=bool(row.granted),
                recorded_at=row.recorded_at,
                source=row.source,
            )


def _name_keys(member: Member) -> dict[str, str | None]:
    """The search keys of the member's names, written with every write of the names (an
    enrolment, an update, an import, an erasure that blanks them), so they never disagree."""
    return {
        "first_key": name_key(member.first_name),
        "last_key": name_key(member.last_name),
        "name_key": full_name_key(member.first_name, member.last_name),
    }


def member_of_row(row: Row[Any]) -> Member:
    return Member(
        id=row.id,
        program_id=row.program_id,
        external_id=row.external_id,
        email=row.email,
        email_key=row.email_key,
        phone=row.phone,
        card_number=row.card_number,
        referral_code=row.referral_code,
        first_name=row.first_name,
        last_name=row.last_name,
        birth_date=row.birth_date,
        status=cast(MemberStatus, row.status),
        enrolled_at=row.enrolled_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        attributes=dict(row.attributes or {}),
        consents={},
        referred_by=row.referred_by,
        tier_code=row.tier_code,
    )


class SqlAuditRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.recorded = 0

    def add(self, record: AuditRecord) -> None:
        self.recorded += 1
        # Parameters, not inline values: a batch's records then share one statement.
        self._conn.execute(
            t.audit_log.insert(),
            [
                {
                    "program_id": record.program_id,
                    "at": record.at,
                    "actor_kind": record.actor.kind,
                    "actor_id": record.actor.id,
                    "actor_name": record.actor.name,
                    "action": record.action,
                    "target_type": record.target_type,
                    "target_id": record.target_id,
                    "before": record.before,
                    "after": record.after,
                }
            ],
        )

    def find(
        self, program_id: str, where: AuditFilter, *, before: int | None, limit: int
    ) -> Sequence[AuditRecord]:
        c = t.audit_log.c
        stmt = sa.select(t.audit_log).where(c.program_id == program_id)
        for column, value in (
            (c.target_type, where.target_type),
            (c.target_id, where.target_id),
            (c.action, where.action),
            (c.actor_kind, where.actor_kind),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if where.action_prefix:
            stmt = stmt.where(c.action.startswith(where.action_prefix, autoescape=True))
        if where.actor:
            named = sa.func.lower(c.actor_name) == where.actor.lower()
            stmt = stmt.where(sa.or_(c.actor_id == where.actor, named))
        if where.since is not None:
            stmt = stmt.where(c.at >= where.since)
        if where.until is not None:
            stmt = stmt.where(c.at < where.until)
        if before is not None:
            stmt = stmt.where(c.id < before)
        stmt = stmt.order_by(c.id.desc()).limit(limit)
        return [
            AuditRecord(
                id=row.id,
                program_id=row.program_id,
                actor=Actor(kind=row.actor_kind, id=row.actor_id, name=row.actor_name),
                action=row.action,
                target_type=row.target_type,
                target_id=row.target_id,
                at=row.at,
                before=row.before,
                after=row.after,
            )
            for row in self._conn.execute(stmt)
        ]


class SqlIdempotencyRepository:
    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def claim(self, scope: str, key: str, fingerprint: str, at: datetime) -> StoredOutcome | None:
        c = t.idempotency_keys.c
        stmt = (
            self._insert(t.idempotency_keys)
            .values(scope=scope, key=key, fingerprint=fingerprint, created_at=at)
            .on_conflict_do_nothing(index_elements=[c.scope, c.key])
            .returning(c.key)
        )
        # RETURNING rather than rowcount: the driver's rowcount is not reliable for ON CONFLICT.
        if self._conn.execute(stmt).first() is not None:
            return None
        # Someone else holds the key. On PostgreSQL the INSERT above waited for their commit,
        # and this new statement sees the committed row.
        row = self._conn.execute(
            sa.select(c.fingerprint, c.status, c.body).where(c.scope == scope, c.key == key)
        ).one()
        return StoredOutcome(fingerprint=row.fingerprint, status=row.status, body=row.body)

    def complete(self, scope: str, key: str, status: int, body: Any) -> None:
        c = t.idempotency_keys.c
        self._conn.execute(
            t.idempotency_keys.update()
            .where(c.scope == scope, c.key == key)
            .values(status=status, body=body)
        )

    def purge(self, before: datetime, limit: int) -> int:
        c = t.idempotency_keys.c
        found = self._conn.execute(
            sa.select(c.scope, c.key).where(c.created_at < before).limit(limit)
        )
        old = [(row.scope, row.key) for row in found]
        if old:
            self._conn.execute(
                t.idempotency_keys.delete().where(sa.tuple_(c.scope, c.key).in_(old))
            )
        return len(old)
