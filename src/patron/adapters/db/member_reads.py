"""The console's member reads (``services.ports.member_reads``): search and the member's page.

A name prefix is an index range, ``key >= 'gra' AND key < 'grb'``, on the key columns of
migration 0025, which compare byte by byte on both databases (``COLLATE "C"`` on PostgreSQL):
the same statement uses the indexes ``(program_id, first_key)`` and ``(program_id, last_key)``
on SQLite and PostgreSQL, where ``LIKE`` would not on SQLite (its ``LIKE`` ignores case, so it
cannot use an index of case-sensitive text). Results are sorted by ``(name_key, id)`` and paged
by that pair, the index ``(program_id, name_key, id)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.adapters.db.repositories import member_of_row
from patron.domain.ledger import Lot
from patron.domain.members import Member
from patron.services.ports import Redemption, StoredPurchase, StoredRefund
from patron.services.ports.member_reads import IDENTIFIER_COLUMNS, ConsentRecord, NameQuery

_m = t.members.c
_PURCHASE = [t.purchases.c[f.name] for f in fields(StoredPurchase)]
_REFUND = [t.refunds.c[f.name] for f in fields(StoredRefund)]
_REDEMPTION = [t.redemptions.c[f.name] for f in fields(Redemption)]
_LOT = [t.ledger_lots.c[f.name] for f in fields(Lot)]
_l = t.ledger_lots.c


def _prefix(column: sa.ColumnElement[Any], prefix: str) -> sa.ColumnElement[bool]:
    """``column`` starts with ``prefix``, as an index range."""
    last = ord(prefix[-1])
    if last >= 0x10FFFF:  # no code point above it: an open range
        return column >= prefix
    return sa.and_(column >= prefix, column < prefix[:-1] + chr(last + 1))


def _matching(query: NameQuery) -> sa.ColumnElement[bool]:
    every_word = sa.and_(
        *(sa.or_(_prefix(_m.first_key, w), _prefix(_m.last_key, w)) for w in query.words)
    )
    alternatives = [every_word]
    if len(query.words) > 1:
        alternatives += [_prefix(_m.name_key, query.whole), _prefix(_m.last_key, query.whole)]
    return sa.or_(*alternatives)


FEW = 2_000
"""Below this many candidates a name query reads them by its words' index ranges (``_named``)."""
FEW_PAIRED = 2_000
"""Below this many candidates a query of several words reads them by its pair's ranges."""


def _word_ranges(word: str) -> list[sa.ColumnElement[bool]]:
    """The members whose first or last name starts with ``word``."""
    return [_prefix(_m.first_key, word), _prefix(_m.last_key, word)]


def _whole_ranges(query: NameQuery) -> list[sa.ColumnElement[bool]]:
    """For several words, the members whose full or last name starts with the whole query."""
    if len(query.words) < 2:
        return []
    return [_prefix(_m.name_key, query.whole), _prefix(_m.last_key, query.whole)]


def _pair_ranges(words: Sequence[str]) -> list[sa.ColumnElement[bool]]:
    """For two words of which neither starts the other, the members with one word starting
    the first name and the other the last name: two index ranges, each with its second column
    filtered in the index (``ix_members_program_id_first_key_last_key`` and its mirror).

    A member matches every word only with the two words on different names (two prefixes of
    one name always start one another), so these ranges and the whole query's hold every
    match. Empty when every pair of words nests ("gra grace")."""
    for i, a in enumerate(words):
        for b in words[i + 1 :]:
            if not (a.startswith(b) or b.startswith(a)):
                return [
                    sa.and_(_prefix(_m.first_key, a), _prefix(_m.last_key, b)),
                    sa.and_(_prefix(_m.last_key, a), _prefix(_m.first_key, b)),
                ]
    return []


def _keys(key: Any, program_id: str, ranges: Sequence[sa.ColumnElement[bool]]) -> list[Any]:
    """One SELECT of ``key`` per index range."""
    return [sa.select(key.label("k")).where(_m.program_id == program_id, r) for r in ranges]


class SqlMemberReads:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        # A search page asks for a name query's page and its count: the way to read it is
        # chosen once (its ranges counted) for both, within this unit of work.
        self._ways: dict[tuple[str, NameQuery], list[sa.ColumnElement[bool]]] = {}

    def holding(
        self, program_id: str, identifiers: Sequence[tuple[str, str]], *, limit: int
    ) -> list[Member]:
        wanted = [(c, v) for c, v in identifiers if c in IDENTIFIER_COLUMNS]
        if not wanted:
            return []
        stmt = (
            sa.select(t.members)
            .where(_m.program_id == program_id, sa.or_(*(_m[c] == v for c, v in wanted)))
            .order_by(_m.id)
            .limit(limit)
        )
        return self._members(stmt)

    def named(
        self, program_id: str, query: NameQuery, *, after: str | None, limit: int
    ) -> list[Member]:
        stmt = sa.select(t.members).where(*self._named(program_id, query))
        if after is not None:
            mark = (
                sa.select(_m.name_key, _m.id)
                .where(_m.program_id == program_id, _m.id == after)
                .subquery()
            )
            stmt = stmt.where(
                sa.tuple_(_m.name_key, _m.id)
                > sa.tuple_(sa.select(mark.c.name_key).scalar_subquery(), after)
            )
        return self._members(stmt.order_by(_m.name_key, _m.id).limit(limit))

    def count_named(self, program_id: str, query: NameQuery, *, cap: int) -> int:
        return self._count(sa.select(_m.id).where(*self._named(program_id, query)), cap)

    def newest(self, program_id: str, *, before: str | None, limit: int) -> list[Member]:
        stmt = sa.select(t.members).where(_m.program_id == program_id)
        if before is not None:
            stmt = stmt.where(_m.id < before)
        return self._members(stmt.order_by(_m.id.desc()).limit(limit))

    def count(self, program_id: str, *, cap: int) -> int:
        return self._count(sa.select(_m.id).where(_m.program_id == program_id), cap)

    def open_lots(
        self, member_id: str, wallet: str, *, limit: int, offset: int = 0
    ) -> tuple[list[Lot], int]:
        where = sa.and_(_l.member_id == member_id, _l.wallet == wallet, _l.remaining > 0)
        rows = self._conn.execute(
            sa.select(*_LOT)
            .where(where)
            .order_by(_l.expires_at.is_(None), _l.expires_at, _l.earned_at, _l.id)
            .limit(limit)
            .offset(offset)
        )
        lots = [Lot(**row._mapping) for row in rows]
        total = self._conn.execute(sa.select(sa.func.count()).where(where)).scalar_one()
        return lots, int(total)

    def pending_lots(self, member_id: str) -> list[Lot]:
        rows = self._conn.execute(
            sa.select(*_LOT)
            .where(_l.member_id == member_id, _l.pending, _l.remaining > 0)
            .order_by(_l.available_at, _l.id)
        )
        return [Lot(**row._mapping) for row in rows]

    def consent_history(self, member_id: str) -> list[ConsentRecord]:
        c = t.member_consents.c
        stmt = (
            sa.select(c.channel, c.granted, c.recorded_at, c.source)
            .where(c.member_id == member_id)
            .order_by(c.recorded_at.desc(), c.id.desc())
        )
        return [
            ConsentRecord(r.channel, bool(r.granted), r.recorded_at, r.source)
            for r in self._conn.execute(stmt)
        ]

    def purchases(self, program_id: str, member_id: str, *, limit: int) -> list[StoredPurchase]:
        p = t.purchases.c
        stmt = (
            sa.select(*_PURCHASE)
            .where(p.program_id == program_id, p.member_id == member_id)
            .order_by(p.occurred_at.desc(), p.id.desc())
            .limit(limit)
        )
        return [StoredPurchase(**row._asdict()) for row in self._conn.execute(stmt)]

    def refunds_of(self, purchase_ids: Sequence[str]) -> list[StoredRefund]:
        if not purchase_ids:
            return []
        r = t.refunds.c
        stmt = (
            sa.select(*_REFUND)
            .where(r.purchase_id.in_(list(purchase_ids)))
            .order_by(r.recorded_at, r.id)
        )
        return [StoredRefund(**row._asdict()) for row in self._conn.execute(stmt)]

    def redemptions(self, program_id: str, member_id: str, *, limit: int) -> list[Redemption]:
        d = t.redemptions.c
        stmt = (
            sa.select(*_REDEMPTION)
            .where(d.program_id == program_id, d.member_id == member_id)
            .order_by(d.id.desc())
            .limit(limit)
        )
        return [Redemption(**row._asdict()) for row in self._conn.execute(stmt)]

    def _named(self, program_id: str, query: NameQuery) -> list[sa.ColumnElement[bool]]:
        way = self._ways.get((program_id, query))
        if way is None:
            way = self._ways[program_id, query] = self._way(program_id, query)
        return list(way)

    def _way(self, program_id: str, query: NameQuery) -> list[sa.ColumnElement[bool]]:
        """Three ways to read a name query, chosen by how many index entries its ranges hold
        (each range counted from the index alone, up to the thresholds, in one statement):

        - a narrow word (its ranges and the whole query's hold fewer than ``FEW``): read those
          candidates by their ranges and sort the few that match;
        - several words, each broad, forming a narrow pair (fewer than ``FEW_PAIRED``
          candidates with the whole query's; ``_pair_ranges``: "grace hop" at
          100,000 members is 9,000 and 7,700 entries for its words, 700 for the pair): read
          the pair's and the whole query's candidates (a few milliseconds, from the two
          composite indexes) and sort them;
        - otherwise (one broad word, a common first name; a broad pair such as "a s"): walk
          the name order, where a page fills at once. Walking it for a narrow query tests
          every member of the program (350 ms at 100,000 members on SQLite; "grace hop" read
          28,000 members before its first page on PostgreSQL); reading the ranges of a broad
          query sorts thousands.

        Candidates are read by row key: SQLite's ``rowid``, which its indexes hold, so no row
        is read until the few that match; the primary key on PostgreSQL."""
        where = [_m.program_id == program_id, _m.status != "erased", _matching(query)]
        words = sorted(set(query.words), key=len, reverse=True)  # longest first on a tie
        whole = _whole_ranges(query)
        pair = _pair_ranges(words) if len(words) > 1 else []
        groups = [_word_ranges(w) for w in words] + [whole, pair]
        cap = max(FEW, FEW_PAIRED)
        counts = [
            sa.select(sa.func.count())
            .select_from(
                sa.select(_m.id).where(_m.program_id == program_id, r).limit(cap).subquery()
            )
            .scalar_subquery()
            for group in groups
            for r in group
        ]
        counted = iter(self._conn.execute(sa.select(*counts)).one())
        totals = [sum(next(counted) for _ in group) for group in groups]
        *word_totals, extra, paired = totals
        narrowest = min(range(len(words)), key=lambda i: word_totals[i])
        key = sa.literal_column("rowid") if self._conn.dialect.name == "sqlite" else _m.id
        if word_totals[narrowest] + extra < FEW:
            ranges = [*groups[narrowest], *whole]
        elif pair and paired + extra < FEW_PAIRED:
            ranges = [*pair, *whole]
        else:
            return where
        where.insert(1, key.in_(sa.union(*_keys(key, program_id, ranges))))
        return where

    def _members(self, stmt: sa.Select[Any]) -> list[Member]:
        return [member_of_row(row) for row in self._conn.execute(stmt)]

    def _count(self, ids: sa.Select[Any], cap: int) -> int:
        capped = ids.limit(cap).subquery()
        return int(self._conn.execute(sa.select(sa.func.count()).select_from(capped)).scalar_one())
