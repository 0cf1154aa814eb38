"""The schema, as SQLAlchemy Core tables.

Core tables rather than ORM classes: the hot paths (earn, refund, redeem) build their statements
once and run them on a connection, which ARCHITECTURE.md's measurements show is 2-4x cheaper per
request than the ORM. Alembic migrations in ``migrations/`` create and evolve this schema; the
tests compare the migrated database with these definitions.

Constraint names are fixed (``uq_<table>_<columns>``) because error translation reads them.

The tables live in modules by area, all on the one ``metadata`` of ``base``; this package
re-exports every one, so callers write ``from patron.adapters.db import tables as t`` and
``t.members`` whatever module defines it:

- ``base``: the ``metadata`` (naming convention) and the shared ``ID`` and ``BIG`` types;
- ``programs``: programs, configuration versions, API keys, idempotency records;
- ``members``: members, consents, erasure keys and tombstones;
- ``ledger``: balances, entries, postings, lots, lot consumptions (and the append-only list);
- ``purchases``: purchases, activity events, refunds, and the awards they earned;
- ``tiers``: current tiers, tier history, tier grants;
- ``rewards``: the catalogue and redemptions;
- ``campaigns``: campaigns, segments, referrals, bulk grants;
- ``events``: the outbox, webhook endpoints, deliveries and attempts, the audit log;
- ``messages``: message templates, the message log, the unsubscribe keys;
- ``portal``: the member portal's one-time links, sessions and pending sign-in requests;
- ``staff``: console staff users, their roles per program, sessions, links, daily limits;
- ``analytics``: the daily roll-ups of the dashboard's additive figures;
- ``wallet``: each program's wallet pass settings (secrets sealed).
"""

from __future__ import annotations

from patron.adapters.db.tables.analytics import (
    analytics_day_flows,
    analytics_days,
    analytics_span_buyers,
    analytics_spans,
)
from patron.adapters.db.tables.base import BIG, ID, metadata
from patron.adapters.db.tables.campaigns import (
    campaigns,
    grants,
    referrals,
    segments,
)
from patron.adapters.db.tables.events import (
    audit_log,
    outbox,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
)
from patron.adapters.db.tables.ledger import (
    APPEND_ONLY_TABLES,
    balances,
    ledger_entries,
    ledger_lots,
    ledger_postings,
    lot_consumptions,
)
from patron.adapters.db.tables.members import (
    erasure_keys,
    erasures,
    member_consents,
    members,
)
from patron.adapters.db.tables.messages import message_keys, message_templates, messages
from patron.adapters.db.tables.portal import (
    portal_links,
    portal_sessions,
    portal_sign_in_requests,
)
from patron.adapters.db.tables.programs import (
    api_keys,
    idempotency_keys,
    program_configs,
    programs,
)
from patron.adapters.db.tables.purchases import (
    activity_events,
    event_awards,
    purchase_awards,
    purchases,
    refunds,
)
from patron.adapters.db.tables.rewards import (
    redemptions,
    rewards,
)
from patron.adapters.db.tables.staff import (
    staff_daily_usage,
    staff_grants,
    staff_links,
    staff_sessions,
    staff_users,
)
from patron.adapters.db.tables.tiers import (
    member_tiers,
    tier_grants,
    tier_history,
)
from patron.adapters.db.tables.wallet import wallet_devices, wallet_passes, wallet_settings

__all__ = [
    "APPEND_ONLY_TABLES",
    "BIG",
    "ID",
    "activity_events",
    "analytics_day_flows",
    "analytics_days",
    "analytics_span_buyers",
    "analytics_spans",
    "api_keys",
    "audit_log",
    "balances",
    "campaigns",
    "erasure_keys",
    "erasures",
    "event_awards",
    "grants",
    "idempotency_keys",
    "ledger_entries",
    "ledger_lots",
    "ledger_postings",
    "lot_consumptions",
    "member_consents",
    "member_tiers",
    "members",
    "message_keys",
    "message_templates",
    "messages",
    "metadata",
    "outbox",
    "portal_links",
    "portal_sessions",
    "portal_sign_in_requests",
    "program_configs",
    "programs",
    "purchase_awards",
    "purchases",
    "redemptions",
    "referrals",
    "refunds",
    "rewards",
    "segments",
    "staff_daily_usage",
    "staff_grants",
    "staff_links",
    "staff_sessions",
    "staff_users",
    "tier_grants",
    "tier_history",
    "wallet_devices",
    "wallet_passes",
    "wallet_settings",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoints",
]
