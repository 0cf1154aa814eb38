"""members carry name search keys: find a member by the first letters of a name

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 09:00:00

Three columns on ``members``: ``first_key`` and ``last_key`` (each name case-folded, its accents
stripped, its whitespace collapsed: ``domain.members.name_key``) and ``name_key``
(``"first last"``, what search results are sorted by). Each is indexed after ``program_id``. A
prefix search is the index range ``key >= 'gra' AND key < 'grb'``; for that, and for sorting,
the keys compare byte by byte on both databases: SQLite compares text that way already, and on
PostgreSQL the columns are ``COLLATE "C"`` (under a linguistic collation such as en_US a range
is not a prefix, and ``LIKE 'gra%'`` could not use the index).

Existing members are keyed here, a thousand at a time by id, so a large table is not read into
memory at once. The normalisation is written out below rather than imported: a migration is
frozen in time, and a later change of ``name_key`` comes with a migration that re-keys.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
COLUMNS = (("first_key", 200), ("last_key", 200), ("name_key", 401))
INDEXES = (
    ("ix_members_program_id_first_key", ["program_id", "first_key"]),
    ("ix_members_program_id_last_key", ["program_id", "last_key"]),
    ("ix_members_program_id_name_key_id", ["program_id", "name_key", "id"]),
)


def _bare(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _key(text: str | None) -> str | None:
    if text is None:
        return None
    key = " ".join(_bare(_bare(text).casefold()).split())[:200].rstrip()
    return key or None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, length in COLUMNS:
        op.add_column(
            "members",
            sa.Column(name, sa.String(length, collation="C" if postgres else None), nullable=True),
        )
    _backfill()
    for index, columns in INDEXES:
        op.create_index(index, "members", columns, unique=False)


def _backfill() -> None:
    conn = op.get_bind()
    members = sa.table(
        "members",
        sa.column("id"),
        sa.column("first_name"),
        sa.column("last_name"),
        sa.column("first_key"),
        sa.column("last_key"),
        sa.column("name_key"),
    )
    m = members.c
    write = (
        members.update()
        .where(m.id == sa.bindparam("m"))
        .values(first_key=sa.bindparam("f"), last_key=sa.bindparam("l"), name_key=sa.bindparam("n"))
    )
    named = sa.or_(m.first_name.is_not(None), m.last_name.is_not(None))
    after = ""
    while True:
        rows = conn.execute(
            sa.select(m.id, m.first_name, m.last_name)
            .where(named, m.id > after)
            .order_by(m.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        values = []
        for row in rows:
            first, last = _key(row.first_name), _key(row.last_name)
            full = " ".join(k for k in (first, last) if k) or None
            values.append({"m": row.id, "f": first, "l": last, "n": full})
        conn.execute(write, values)
        after = rows[-1].id


def downgrade() -> None:
    for index, _ in INDEXES:
        op.drop_index(index, table_name="members")
    for name, _ in COLUMNS:
        op.drop_column("members", name)
