"""Activity events (``enrolled``, ``birthday``, ``review_posted``, any custom type).

An event earns through the ``event`` rules of the configuration and of the campaigns live at
its ``occurred_at`` for the member's audience, within their per-member limits and budgets
(counted over purchases and events alike, see ``services/earning.py``). Its ``external_id`` is a
business key, unique forever per program: a resend with the same body answers the stored
result, a different body is a conflict. An event may not be dated before the member enrolled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patron.domain.errors import BusinessKeyConflict
from patron.domain.ids import new_id
from patron.domain.members import Member
from patron.domain.rules import Event, evaluate_event
from patron.services import earning, ledger, tiers
from patron.services.ledger import Context
from patron.services.ports import StoredEvent, StoredEventAward


@dataclass(frozen=True, slots=True)
class Recorded:
    event: StoredEvent
    replayed: bool


def record(
    ctx: Context, member: Member, event: Event, *, fingerprint: str, key_is_new: bool = False
) -> Recorded:
    """Record an event and post its awards. ``key_is_new``, when the caller proved in this
    transaction that ``event.external_id`` was never used (the unique index still guards it),
    spares the lookup of an earlier event.

    Raises: MemberInactive, BusinessKeyConflict, ValidationFailed.
    """
    ctx.uow.ledger.lock_balances(ctx.program.id, [(member.id, w) for w in ctx.config.wallets])
    earlier = None if key_is_new else ctx.uow.purchases.get_event(ctx.program.id, event.external_id)
    if earlier is not None:
        if earlier.fingerprint != fingerprint:
            raise BusinessKeyConflict(
                f"event {event.external_id!r} was already recorded with a different body",
                external_id=event.external_id,
            )
        return Recorded(earlier, replayed=True)
    earning.check_event_date(ctx, event.occurred_at, member)
    ledger.member_for(ctx, member.id, debit=False)
    config, state = earning.prepare(ctx, member, event.occurred_at)
    evaluation = evaluate_event(config, state, event, timezone=ctx.program.timezone)
    event_id = new_id()
    awards: list[dict[str, Any]] = []
    stored_awards = []
    for award in evaluation.awards:
        posted = ledger.earn(
            ctx,
            member.id,
            wallet=award.wallet,
            amount=award.amount,
            occurred_at=event.occurred_at,
            key=f"event:{event.external_id}:{award.rule_id}",
            reference=event.external_id,
            explanation=[award.explanation() | {"event": event.type}],
            hold=False,  # only purchases can be returned
            # An award's key is the event's with the rule: a new event's keys are new too.
            key_is_new=True,
        )
        awards.append({"rule_id": award.rule_id, "wallet": award.wallet, "amount": award.amount})
        stored_awards.append(
            StoredEventAward(
                event_id,
                award.rule_id,
                ctx.program.id,
                member.id,
                award.wallet,
                award.amount,
                event.occurred_at,
                posted.entry.id,
            )
        )
    stored = StoredEvent(
        id=event_id,
        program_id=ctx.program.id,
        external_id=event.external_id,
        member_id=member.id,
        type=event.type,
        occurred_at=event.occurred_at,
        fingerprint=fingerprint,
        result={
            "id": event_id,
            "external_id": event.external_id,
            "member_id": member.id,
            "type": event.type,
            "awards": awards,
            "skipped": [{"rule_id": s.rule_id, "reason": s.reason} for s in evaluation.skipped],
        },
        recorded_at=ctx.clock.now(),
    )
    ctx.uow.purchases.add_event(stored, stored_awards)
    if stored_awards:
        tiers.reevaluate(ctx, member.id, cause="event", reference=event.external_id)
    return Recorded(stored, replayed=False)


def enrolled(ctx: Context, member: Member) -> Recorded:
    """The ``enrolled`` event of a member enrolled in this transaction, as of its
    ``enrolled_at``: its key names the new member, so it cannot have been used."""
    event = Event(f"enrolled:{member.id}", "enrolled", member.enrolled_at)
    return record(ctx, member, event, fingerprint=f"enrolled:{member.id}", key_is_new=True)
