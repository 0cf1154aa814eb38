"""Staff users of the console and what each role may do (SPEC §9).

A staff user signs in to the console with an email and a password (optionally a TOTP second
factor) and holds one role per program: ``owner``, ``manager``, ``marketer``, ``support`` or
``viewer``. An owner may also hold every program of the installation (``every_program``), as
``patron staff create --role owner`` without ``--program`` makes one.

:data:`MATRIX` is the console's permission table. It follows SPEC §9, with the issue's one
tightening: erasing a member is for owners alone. Message templates: ``messages.read`` (the
templates screen and its preview, read-only) goes with the read set, so marketers and viewers see
them (templates hold no personal data); ``messages.templates`` (save, test send) is SPEC §9's
"draft message templates" for marketers, beside owners and managers. Support resends a member's
messages (``messages.resend``) but has no configuration, templates included. The console asks
:func:`allowed` before every page and action, on the server; the pages only hide what the role
may not use.

Support users adjust balances within two limits, both in points: ``support_limit`` per adjustment
(default 500) and ``support_daily_limit`` per day in the program's time zone (default four
adjustments' worth, 2,000), counted over credits and debits alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

StaffRole = Literal["owner", "manager", "marketer", "support", "viewer"]
ROLES: tuple[StaffRole, ...] = get_args(StaffRole)

ConsolePermission = Literal[
    "dashboard.read",
    "members.read",
    "members.personal",
    "members.adjust",
    "members.status",
    "members.tier",
    "members.export",
    "members.erase",
    "members.portal_link",
    "audit.read",
    "config.draft",
    "config.publish",
    "staff.manage",
    "keys.manage",
    "webhooks.manage",
    "messages.read",
    "messages.templates",
    "messages.resend",
]

_EVERYTHING: frozenset[ConsolePermission] = frozenset(get_args(ConsolePermission))
_READ: frozenset[ConsolePermission] = frozenset(
    {"dashboard.read", "members.read", "members.personal", "audit.read", "messages.read"}
)

MATRIX: dict[StaffRole, frozenset[ConsolePermission]] = {
    "owner": _EVERYTHING,
    "manager": _EVERYTHING - {"staff.manage", "keys.manage", "members.erase"},
    "marketer": _READ | {"config.draft", "messages.templates"},
    "support": frozenset(
        {
            "members.read",
            "members.personal",
            "members.adjust",
            "members.status",
            "members.portal_link",
            "messages.resend",
        }
    ),
    "viewer": frozenset({"dashboard.read", "members.read", "audit.read", "messages.read"}),
}

DEFAULT_SUPPORT_LIMIT = 500
DAILY_LIMIT_FACTOR = 4


def allowed(role: StaffRole, permission: ConsolePermission) -> bool:
    return permission in MATRIX[role]


@dataclass(frozen=True, slots=True)
class StaffUser:
    id: str
    email: str
    name: str
    every_program: bool  # an owner of every program of the installation
    has_password: bool
    totp_enabled: bool
    status: Literal["active", "disabled"]
    created_at: datetime
    last_sign_in_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StaffGrant:
    """A staff user's role in one program."""

    program_id: str
    staff_id: str
    role: StaffRole
    support_limit: int = DEFAULT_SUPPORT_LIMIT
    support_daily_limit: int = DEFAULT_SUPPORT_LIMIT * DAILY_LIMIT_FACTOR


@dataclass(frozen=True, slots=True)
class StaffSession:
    id: str
    staff_id: str
    created_at: datetime
    expires_at: datetime  # absolute end
    last_seen_at: datetime
    second_factor_pending: bool
    revoked_at: datetime | None = None
    address: str = ""
    user_agent: str = ""


def mask_email(email: str | None) -> str | None:
    """``grace@example.com`` → ``g••••@e••••••.com``: enough to tell two apart, not to write."""
    if not email:
        return email
    local, _, domain = email.partition("@")
    name, dot, tld = domain.rpartition(".")
    shown_domain = f"{name[:1]}{'•' * max(len(name) - 1, 1)}{dot}{tld}" if dot else "•••"
    return f"{local[:1]}{'•' * max(len(local) - 1, 1)}@{shown_domain}"


def mask_phone(phone: str | None) -> str | None:
    """``+14155550123`` → ``+1•••••••23``: the country and the last two digits."""
    if not phone:
        return phone
    return phone[:2] + "•" * max(len(phone) - 4, 1) + phone[-2:]
