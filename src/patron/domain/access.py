"""Who may do what: the permission matrix of API key roles.

A key is scoped to one program (``admin``, ``pos``, ``partner``, ``read``) or to the platform
(``platform``: creates programs and may act as ``admin`` on any program). The API edge asks
:func:`require` before each use case; a key of another program never gets this far (it is
answered 404, so it learns nothing about the program's existence).

``members.export`` (everything Patron holds about a member) and ``members.erase`` (the right to
be forgotten) are personal-data permissions of their own: only ``admin`` and ``platform`` keys
hold them, never a POS, partner or read key, even though those may look members up.

``keys.manage`` (listing a program's keys and revoking them) belongs to ``admin`` and
``platform`` keys, like ``keys.create``; ``programs.list`` (every program of the installation)
to ``platform`` keys alone.

A ``partner`` key (a coalition partner) posts, refunds and claims purchases and looks members up;
it may not post activity events (``events.write``), which award fixed points whatever was bought.
``tests/api/test_roles.py`` holds the intended matrix for every route.

``messages.read`` (the templates, a member's message log) belongs to ``admin``, ``platform``
and ``read`` keys; ``messages.manage`` (editing templates, test sends, resending) to ``admin``
and ``platform`` keys.

``wallet.manage`` (the program's Apple and Google pass certificates and keys) belongs to
``admin`` and ``platform`` keys. A member's card and passes are read with ``members.read``: a
till shows the card to scan, and no read ever returns a wallet secret.

``members.list`` is reading members in bulk: the member list without an identifier filter, and
a segment's members. A till or a partner looks a customer up by identifier (``members.read``);
paging through every profile is an export of personal data, left to ``admin``, ``platform`` and
reporting (``read``) keys.
"""

from __future__ import annotations

from typing import Literal, get_args

from patron.domain.errors import Forbidden
from patron.domain.keys import Role

Permission = Literal[
    "programs.create",
    "programs.list",
    "program.read",
    "config.read",
    "config.write",
    "keys.create",
    "keys.manage",
    "members.read",
    "members.list",
    "members.write",
    "members.status",
    "members.export",
    "members.erase",
    "members.portal_link",
    "audit.read",
    "ledger.adjust",
    "purchases.read",
    "purchases.write",
    "events.write",
    "tiers.grant",
    "rewards.write",
    "redemptions.write",
    "webhooks.manage",
    "analytics.read",
    "messages.read",
    "messages.manage",
    "wallet.manage",
]

_EVERYTHING: frozenset[Permission] = frozenset(get_args(Permission))

_MATRIX: dict[Role, frozenset[Permission]] = {
    "platform": _EVERYTHING,
    "admin": _EVERYTHING - {"programs.create", "programs.list"},
    "pos": frozenset(
        {
            "program.read",
            "config.read",
            "members.read",
            "members.write",
            "members.portal_link",
            "purchases.read",
            "purchases.write",
            "events.write",
            "redemptions.write",
        }
    ),
    "partner": frozenset({"program.read", "members.read", "purchases.read", "purchases.write"}),
    "read": frozenset(
        {
            "program.read",
            "config.read",
            "members.read",
            "members.list",
            "purchases.read",
            "analytics.read",
            "messages.read",
        }
    ),
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in _MATRIX[role]


def require(role: Role, permission: Permission) -> None:
    """Raises: Forbidden."""
    if not allowed(role, permission):
        raise Forbidden(f"a {role!r} key may not do this ({permission})", permission=permission)
