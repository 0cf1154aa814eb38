"""Storage of the privacy use cases: a member's rows for an export, the stored copies an erasure
redacts, and the tombstones of erased members.

Which tables hold what, and what erasure does with each, is listed in ``docs/members.md``; the
copies are found here by the member's own rows (``member_id``, its purchases' refunds) and, in
the program's outbox facts and audit trail, by their text containing the member id or one of
its identifiers.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.services.ports import StoredDocument, Tombstone

_DIGEST_COLUMNS = {
    "email": t.erasures.c.email_digest,
    "phone": t.erasures.c.phone_digest,
    "external_id": t.erasures.c.external_id_digest,
}


def _rows(conn: Connection, stmt: sa.Select[Any]) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(stmt)]


def _mentions(column: sa.ColumnElement[Any], needles: Sequence[str]) -> sa.ColumnElement[bool]:
    text = sa.func.lower(sa.cast(column, sa.Text))
    return sa.or_(*(text.contains(n.lower(), autoescape=True) for n in needles))


class SqlPrivacyRepository:
    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    # --- export ------------------------------------------------------------------------------

    def member_records(self, program_id: str, member_id: str) -> dict[str, list[dict[str, Any]]]:
        conn = self._conn
        c, e, p, lot = t.member_consents.c, t.ledger_entries.c, t.ledger_postings.c, t.ledger_lots.c
        pu, r, ev, rd, rw = (
            t.purchases.c,
            t.refunds.c,
            t.activity_events.c,
            t.redemptions.c,
            t.rewards.c,
        )
        ref, mt, th, tg, a = (
            t.referrals.c,
            t.member_tiers.c,
            t.tier_history.c,
            t.tier_grants.c,
            t.audit_log.c,
        )
        mine = sa.select(pu.id).where(pu.program_id == program_id, pu.member_id == member_id)
        return {
            "consents": _rows(
                conn,
                sa.select(c.channel, c.granted, c.recorded_at, c.source)
                .where(c.program_id == program_id, c.member_id == member_id)
                .order_by(c.id),
            ),
            "entries": _rows(
                conn,
                sa.select(t.ledger_entries)
                .where(e.program_id == program_id, e.member_id == member_id)
                .order_by(e.id),
            ),
            "postings": _rows(
                conn,
                sa.select(p.entry_id, p.wallet, p.source, p.destination, p.amount)
                .where(p.program_id == program_id, p.member_id == member_id)
                .order_by(p.id),
            ),
            "lots": _rows(
                conn,
                sa.select(t.ledger_lots)
                .where(lot.program_id == program_id, lot.member_id == member_id)
                .order_by(lot.id),
            ),
            "balances": _rows(
                conn,
                sa.select(t.balances)
                .where(t.balances.c.program_id == program_id, t.balances.c.member_id == member_id)
                .order_by(t.balances.c.wallet),
            ),
            "purchases": _rows(
                conn,
                sa.select(t.purchases)
                .where(pu.program_id == program_id, pu.member_id == member_id)
                .order_by(pu.occurred_at, pu.id),
            ),
            "refunds": _rows(
                conn,
                sa.select(t.refunds)
                .where(r.program_id == program_id, r.purchase_id.in_(mine))
                .order_by(r.occurred_at, r.id),
            ),
            "events": _rows(
                conn,
                sa.select(t.activity_events)
                .where(ev.program_id == program_id, ev.member_id == member_id)
                .order_by(ev.occurred_at, ev.id),
            ),
            "redemptions": _rows(
                conn,
                sa.select(t.redemptions, rw.code.label("reward_code"))
                .select_from(t.redemptions.outerjoin(t.rewards, rw.id == rd.reward_id))
                .where(rd.program_id == program_id, rd.member_id == member_id)
                .order_by(rd.created_at, rd.id),
            ),
            "referrals_made": _rows(
                conn,
                sa.select(t.referrals)
                .where(ref.program_id == program_id, ref.referrer_id == member_id)
                .order_by(ref.created_at, ref.id),
            ),
            "referrals_received": _rows(
                conn,
                sa.select(t.referrals).where(
                    ref.program_id == program_id, ref.referee_id == member_id
                ),
            ),
            "tier": _rows(
                conn,
                sa.select(t.member_tiers).where(
                    mt.program_id == program_id, mt.member_id == member_id
                ),
            ),
            "tier_history": _rows(
                conn,
                sa.select(t.tier_history)
                .where(th.program_id == program_id, th.member_id == member_id)
                .order_by(th.at, th.id),
            ),
            "tier_grants": _rows(
                conn,
                sa.select(t.tier_grants)
                .where(tg.program_id == program_id, tg.member_id == member_id)
                .order_by(tg.created_at, tg.id),
            ),
            "audit": _rows(
                conn,
                sa.select(t.audit_log)
                .where(
                    a.program_id == program_id,
                    a.target_type == "member",
                    a.target_id == member_id,
                )
                .order_by(a.id),
            ),
        }

    # --- erasure -----------------------------------------------------------------------------

    def claim_erasure(self, program_id: str, member_id: str, at: datetime) -> bool:
        m = t.members.c
        stmt = (
            t.members.update()
            .where(m.program_id == program_id, m.id == member_id, m.status != "erased")
            .values(status="erased", updated_at=at)
            .returning(m.id)
        )
        return self._conn.execute(stmt).first() is not None

    def documents(
        self, program_id: str, member_id: str, needles: Sequence[str]
    ) -> list[StoredDocument]:
        pu, r, ev = t.purchases.c, t.refunds.c, t.activity_events.c
        o, a, th, tg, rd = (
            t.outbox.c,
            t.audit_log.c,
            t.tier_history.c,
            t.tier_grants.c,
            t.redemptions.c,
        )
        anywhere = [member_id, *needles]
        mine = sa.select(pu.id).where(pu.program_id == program_id, pu.member_id == member_id)
        found: list[StoredDocument] = []
        for table, columns, where in (
            (t.purchases, ("document", "result"), pu.member_id == member_id),
            (t.refunds, ("document", "result"), r.purchase_id.in_(mine)),
            (t.activity_events, ("result",), ev.member_id == member_id),
            (t.tier_history, ("reason",), th.member_id == member_id),
            (t.tier_grants, ("reason",), tg.member_id == member_id),
            (t.redemptions, ("used_reference",), rd.member_id == member_id),
            (
                t.outbox,
                ("payload",),
                sa.or_(o.subject == member_id, _mentions(o.payload, anywhere)),
            ),
            (
                t.audit_log,
                ("before", "after"),
                sa.or_(
                    sa.and_(a.target_type == "member", a.target_id == member_id),
                    _mentions(a.before, anywhere),
                    _mentions(a.after, anywhere),
                ),
            ),
        ):
            key = table.c.id
            extra = [table.c.target_type, table.c.target_id] if table is t.audit_log else []
            stmt = sa.select(key, *extra, *(table.c[name] for name in columns)).where(
                table.c.program_id == program_id, where
            )
            for row in self._conn.execute(stmt):
                profile = table is t.audit_log and (row.target_type, row.target_id) == (
                    "member",
                    member_id,
                )
                for name in columns:
                    value = row._mapping[name]
                    if value is not None:
                        found.append(StoredDocument(table.name, str(row.id), name, value, profile))
        return found

    def rewrite(self, document: StoredDocument, value: Any) -> None:
        table = t.metadata.tables[document.table]
        key: Any = int(document.row) if document.table == "audit_log" else document.row
        self._conn.execute(table.update().where(table.c.id == key).values({document.column: value}))

    def forget_consents(self, member_id: str) -> None:
        self._conn.execute(
            t.member_consents.delete().where(t.member_consents.c.member_id == member_id)
        )

    def forget_responses(self, program_id: str, needles: Sequence[str]) -> int:
        i, k = t.idempotency_keys.c, t.api_keys.c
        keys = sa.select(k.id).where(sa.or_(k.program_id == program_id, k.program_id.is_(None)))
        found = self._conn.execute(
            sa.select(i.scope, i.key).where(
                i.scope.in_(keys), i.body.is_not(None), _mentions(i.body, needles)
            )
        ).all()
        if found:
            self._conn.execute(
                t.idempotency_keys.delete().where(
                    sa.tuple_(i.scope, i.key).in_([(row.scope, row.key) for row in found])
                )
            )
        return len(found)

    # --- tombstones --------------------------------------------------------------------------

    def secret(self, program_id: str, at: datetime, *, create: bool) -> str | None:
        k = t.erasure_keys.c
        if create:
            self._conn.execute(
                self._insert(t.erasure_keys)
                .values(program_id=program_id, secret=secrets.token_hex(32), created_at=at)
                .on_conflict_do_nothing(index_elements=[k.program_id])
            )
        found = self._conn.execute(sa.select(k.secret).where(k.program_id == program_id))
        value = found.scalar_one_or_none()
        return str(value) if value is not None else None

    def add_tombstone(
        self, program_id: str, member_id: str, at: datetime, actor: str, digests: dict[str, str]
    ) -> None:
        self._conn.execute(
            t.erasures.insert().values(
                member_id=member_id,
                program_id=program_id,
                erased_at=at,
                actor=actor,
                **{f"{kind}_digest": value for kind, value in digests.items()},
            )
        )

    def tombstone(self, member_id: str) -> Tombstone | None:
        e = t.erasures.c
        row = self._conn.execute(
            sa.select(e.member_id, e.erased_at).where(e.member_id == member_id)
        ).first()
        return Tombstone(row.member_id, row.erased_at, ()) if row else None

    def find_tombstone(self, program_id: str, digests: dict[str, str]) -> Tombstone | None:
        e = t.erasures.c
        wanted = [_DIGEST_COLUMNS[kind] == value for kind, value in digests.items()]
        if not wanted:
            return None
        row = self._conn.execute(
            sa.select(t.erasures)
            .where(e.program_id == program_id, sa.or_(*wanted))
            .order_by(e.erased_at)
            .limit(1)
        ).first()
        if row is None:
            return None
        matched = tuple(
            kind for kind, value in digests.items() if row._mapping[f"{kind}_digest"] == value
        )
        return Tombstone(row.member_id, row.erased_at, matched)
