"""The member's export document as one piece: the head, the Member shape and everything else
``privacy.export`` gathers, exactly as ``GET /v1/programs/{program}/members/{member}/export``
answers it, for entrypoints that cannot use the API's renderers (the console's download).

A console test compares the two documents field by field, so the Member shape here cannot
drift from the API's ``MemberOut``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from patron.domain.money import from_minor
from patron.domain.programs import Program
from patron.domain.timestamps import rfc3339, rfc3339_or_none
from patron.services import privacy
from patron.services.balances import MemberView, member_views
from patron.services.members import get_member
from patron.services.ports import UnitOfWork


def export_document(
    uow: UnitOfWork, program: Program, member_id: str, now: datetime
) -> dict[str, Any]:
    """Raises: MemberNotFound."""
    found = get_member(uow, program, member_id)
    view = member_views(uow, program, [found], now=now)[0]
    document = privacy.export(uow, program, found.id, now)
    head = {k: document[k] for k in ("format", "exported_at", "program")}
    return {**head, "member": member_shape(view, program.currency_exponent), **document}


def member_shape(view: MemberView, exponent: int) -> dict[str, Any]:
    """The API's Member object, as JSON-able data."""
    m = view.member

    def amount(value: int, kind: str) -> int | str:
        return value if kind == "points" else from_minor(value, exponent)

    return {
        "id": m.id,
        "external_id": m.external_id,
        "email": m.email,
        "phone": m.phone,
        "first_name": m.first_name,
        "last_name": m.last_name,
        "birth_date": m.birth_date.isoformat() if m.birth_date else None,
        "status": m.status,
        "card_number": m.card_number,
        "referral_code": m.referral_code,
        "enrolled_at": rfc3339(m.enrolled_at),
        "tier": (
            {
                "code": view.tier.code,
                "name": view.tier.name,
                "since": rfc3339_or_none(view.tier.since),
                "until": rfc3339_or_none(view.tier.until),
            }
            if view.tier
            else None
        ),
        "balances": {
            code: {
                "available": amount(w.available, w.kind),
                "pending": amount(w.pending, w.kind),
                "lifetime_earned": amount(w.lifetime_earned, w.kind),
                "expiring": [
                    {"amount": amount(n, w.kind), "expires_at": rfc3339(at)} for n, at in w.expiring
                ],
            }
            for code, w in view.wallets.items()
        },
        "attributes": m.attributes,
        "consents": {c.channel: c.granted for c in m.consents.values()},
        "consent_records": {
            c.channel: {
                "granted": c.granted,
                "recorded_at": rfc3339(c.recorded_at),
                "source": c.source,
            }
            for c in m.consents.values()
        },
        "referred_by": m.referred_by,
        "created_at": rfc3339(m.created_at),
        "updated_at": rfc3339(m.updated_at),
    }
