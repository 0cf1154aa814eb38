"""row-level security: the database refuses another program's rows to program-scoped work

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 14:40:00

PostgreSQL only (a no-op on SQLite, where one file is one deployment and there is no role system).

- A cluster role ``patron_tenant`` (NOLOGIN) is created unless it exists: roles are shared by
  every database of a cluster, so creation must tolerate a role made by another Patron database
  (or by an operator beforehand, which a migration user without CREATEROLE requires).
- The connecting user is made a member of it when it is not one already (superusers are members
  of every role), so the application may ``SET ROLE patron_tenant``.
- The role gets SELECT/INSERT/UPDATE/DELETE on every Patron table and the sequences behind the
  serial ids: a program-scoped transaction works under this role, and only under it.
- Every program-scoped table (each table with a ``program_id`` column, and ``programs`` itself
  by ``id``) gets ROW LEVEL SECURITY, forced on the table owner too, and one policy for everyone,
  ``patron_scope``: a row is visible and writable when its program is the scope's program
  (``patron.program_id``), or when no scope is set and the role is not ``patron_tenant``
  (unscoped work: jobs, CLI, platform-wide work, migrations). Under the tenant role an unset
  scope matches nothing, so a scoped transaction that lost its setting fails closed.

  The policy names no role on purpose: a policy ``TO patron_tenant`` would also bind every
  member of that role, and the application's own login role is one (it must be, to
  ``SET ROLE``); it would wall in that role's unscoped work too.

The lists are written out, not read from ``tables.py``: a migration is frozen in time. A test
(``tests/integration/test_row_level_security.py``) fails when a program-scoped table of
``tables.py`` has no policy, so a later migration that adds one must also protect it.

The downgrade drops the policies and the grants but keeps the role: other databases on the
cluster may still use it.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "patron_tenant"
SETTING = "patron.program_id"

# Every table with a program_id column at this revision.
PROGRAM_TABLES = (
    "activity_events",
    "api_keys",
    "audit_log",
    "balances",
    "campaigns",
    "erasure_keys",
    "erasures",
    "event_awards",
    "grants",
    "ledger_entries",
    "ledger_lots",
    "ledger_postings",
    "member_consents",
    "member_tiers",
    "members",
    "outbox",
    "program_configs",
    "purchase_awards",
    "purchases",
    "redemptions",
    "referrals",
    "refunds",
    "rewards",
    "segments",
    "tier_grants",
    "tier_history",
    "webhook_deliveries",
    "webhook_endpoints",
)
# Tables without program_id that program-scoped work reads or writes (children reached through a
# program's rows, and idempotency keys, which are scoped by API key).
OTHER_TABLES = ("idempotency_keys", "lot_consumptions", "programs", "webhook_attempts")
# (table, column) of the serial ids, whose sequences scoped inserts advance.
SERIALS = (("audit_log", "id"), ("ledger_postings", "id"), ("member_consents", "id"))


def _scope() -> str:
    return f"nullif(current_setting('{SETTING}', true), '')"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        DO $$
        DECLARE
            may_set boolean;
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{ROLE}') THEN
                BEGIN
                    CREATE ROLE {ROLE} NOLOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN
                    NULL;  -- another database of this cluster created it at the same moment
                END;
            END IF;
            -- PostgreSQL 16 splits membership into options; SET ROLE needs the SET one.
            IF current_setting('server_version_num')::int >= 160000 THEN
                may_set := pg_catalog.pg_has_role(current_user, '{ROLE}', 'SET');
            ELSE
                may_set := pg_catalog.pg_has_role(current_user, '{ROLE}', 'MEMBER');
            END IF;
            IF NOT may_set THEN
                BEGIN
                    EXECUTE format(
                        'GRANT {ROLE} TO %I%s',
                        current_user,
                        CASE WHEN current_setting('server_version_num')::int >= 160000
                            THEN ' WITH SET TRUE' ELSE '' END
                    );
                EXCEPTION WHEN insufficient_privilege THEN
                    RAISE EXCEPTION 'role % may not be granted role {ROLE}', current_user
                        USING HINT = 'as a superuser: GRANT {ROLE} TO ' || quote_ident(current_user)
                            || ' (see docs/adr/0005-row-level-security.md)';
                END;
            END IF;
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO {ROLE}', current_schema());
        END
        $$
        """
    )
    tables = ", ".join(f'"{name}"' for name in sorted(PROGRAM_TABLES + OTHER_TABLES))
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {ROLE}")
    for table, column in SERIALS:
        op.execute(
            f"DO $$ BEGIN EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO {ROLE}', "
            f"pg_get_serial_sequence('{table}', '{column}')); END $$"
        )
    for table in PROGRAM_TABLES:
        _protect(table, "program_id")
    _protect("programs", "id")


def _protect(table: str, column: str) -> None:
    scope = _scope()
    admitted = f"{column} = {scope} OR ({scope} IS NULL AND current_user <> '{ROLE}')"
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(
        f'CREATE POLICY patron_scope ON "{table}" AS PERMISSIVE FOR ALL TO PUBLIC '
        f"USING ({admitted}) WITH CHECK ({admitted})"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in (*PROGRAM_TABLES, "programs"):
        op.execute(f'DROP POLICY IF EXISTS patron_scope ON "{table}"')
        op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
    tables = ", ".join(f'"{name}"' for name in sorted(PROGRAM_TABLES + OTHER_TABLES))
    op.execute(f"REVOKE ALL ON {tables} FROM {ROLE}")
    for table, column in SERIALS:
        op.execute(
            f"DO $$ BEGIN EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM {ROLE}', "
            f"pg_get_serial_sequence('{table}', '{column}')); END $$"
        )
    op.execute(
        f"DO $$ BEGIN EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM {ROLE}', current_schema()); "
        "END $$"
    )
