"""member name pairs: each name key's index carries the other name key

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-04 14:30:00

A console search of two words ("grace hop") matches members whose first name starts with one
word and last name with the other. When both words are common, each word's own range holds
thousands of members and the search read either their intersection or the whole name order
(80 to 135 ms at 100,000 members on PostgreSQL). With the other name key beside each one in the
index, the pair is one index range with a filter on the second column, read from the index
alone: the ~700 members of "grace hop" in a few milliseconds (``member_reads._named``).

The two indexes replace ``ix_members_program_id_first_key`` and ``..._last_key``: their leading
columns are the same, so every single-word range still reads them.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = (
    ("ix_members_program_id_first_key", ["program_id", "first_key"]),
    ("ix_members_program_id_last_key", ["program_id", "last_key"]),
)
NEW = (
    ("ix_members_program_id_first_key_last_key", ["program_id", "first_key", "last_key"]),
    ("ix_members_program_id_last_key_first_key", ["program_id", "last_key", "first_key"]),
)


def upgrade() -> None:
    for index, columns in NEW:
        op.create_index(index, "members", columns, unique=False)
    for index, _ in OLD:
        op.drop_index(index, table_name="members")


def downgrade() -> None:
    for index, columns in OLD:
        op.create_index(index, "members", columns, unique=False)
    for index, _ in NEW:
        op.drop_index(index, table_name="members")
