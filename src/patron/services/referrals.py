"""Referrals (SPEC §6): pending at enrolment, completed by the referee's first qualifying
purchase, refused with a reason, reversed when that purchase is refunded in its return window.

Guards: no self-referral (the same normalised email, where ``ada+ref@x`` is ``ada@x`` and Gmail
ignores dots, the same phone or the same card); the referrer must be active; at most
``max_per_referrer.count`` completed referrals per referrer per period. Awards are ``referral``
entries for both sides, keyed by the referral, so a retry never pays twice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from patron.domain.ids import new_id
from patron.domain.members import Member
from patron.domain.rules import period_key
from patron.services import ledger, outbox
from patron.services.ledger import Context
from patron.services.ports import Referral, StoredPurchase

_GMAIL = {"gmail.com", "googlemail.com"}


def email_identity(email_key: str | None) -> str | None:
    """The person behind an address: no ``+tag``, and no dots for Gmail."""
    if not email_key or "@" not in email_key:
        return None
    local, domain = email_key.rsplit("@", 1)
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _same_person(a: Member, b: Member) -> bool:
    identity = email_identity(a.email_key)
    return bool(
        (identity and identity == email_identity(b.email_key))
        or (a.phone and a.phone == b.phone)
        or a.card_number == b.card_number
    )


def on_enrolment(ctx: Context, referee: Member) -> Referral | None:
    """Record the referral a new member enrolled with (``referred_by``), or its refusal."""
    if referee.referred_by is None or ctx.config.referrals is None:
        return None
    referrer = ctx.uow.members.get(ctx.program.id, referee.referred_by)
    status, reason = "pending", None
    if referrer is None or referrer.id == referee.id or _same_person(referrer, referee):
        status, reason = "refused", "self_referral"
    elif referrer.status != "active":
        status, reason = "refused", "referrer_inactive"
    referral = Referral(
        id=new_id(),
        program_id=ctx.program.id,
        referrer_id=referee.referred_by,
        referee_id=referee.id,
        status=status,
        reason=reason,
        purchase=None,
        created_at=ctx.clock.now(),
    )
    ctx.uow.referrals.add(referral)
    return referral


def on_purchase(ctx: Context, referee: Member, purchase: StoredPurchase) -> Referral | None:
    """Complete a pending referral when this is the referee's first qualifying purchase."""
    settings = ctx.config.referrals
    if settings is None or referee.referred_by is None:
        return None  # only a member who enrolled referred has a referral (``on_enrolment``)
    referral = ctx.uow.referrals.of_referee(referee.id)
    if referral is None or referral.status != "pending":
        return None
    eligible = Decimal(purchase.eligible_amount).scaleb(-ctx.program.currency_exponent)
    if eligible < settings.qualifying_min_spend:
        return None
    now = ctx.clock.now()
    cap = settings.max_per_referrer
    if cap is not None:
        zone = ZoneInfo(ctx.program.timezone)
        period = period_key(cap.period, now.astimezone(zone))
        done = [
            r
            for r in ctx.uow.referrals.of_referrer(referral.referrer_id)
            if r.status == "completed"
            and r.completed_at is not None
            and period_key(cap.period, r.completed_at.astimezone(zone)) == period
        ]
        if len(done) >= cap.count:
            refused = replace(referral, status="refused", reason="referrer_cap_reached")
            ctx.uow.referrals.update(refused)
            return refused
    for side, member_id, award in (
        ("referrer", referral.referrer_id, settings.referrer),
        ("referee", referee.id, settings.referee),
    ):
        if award.points > 0:
            ledger.earn(
                ctx,
                member_id,
                wallet=award.wallet,
                amount=award.points,
                entry_type="referral",
                key=f"referral:{referral.id}:{side}",
                reference=purchase.external_id,
                explanation=[{"referral": referral.id, "side": side, "amount": award.points}],
                hold=False,
            )
    completed = replace(
        referral, status="completed", purchase=purchase.external_id, completed_at=now
    )
    ctx.uow.referrals.update(completed)
    outbox.emit(
        ctx,
        "referral.completed",
        referral.referrer_id,
        {"referral_id": referral.id, "referrer_id": referral.referrer_id, "referee_id": referee.id},
    )
    return completed


def on_refund(ctx: Context, purchase: StoredPurchase, eligible_left: int) -> Referral | None:
    """Take the referral awards back when their qualifying purchase falls below the minimum
    through a refund inside the return window (the points wallet's ``pending_days``)."""
    settings = ctx.config.referrals
    if settings is None or purchase.member_id is None:
        return None
    referral = ctx.uow.referrals.of_referee(purchase.member_id)
    if (
        referral is None
        or referral.status != "completed"
        or referral.purchase != purchase.external_id
    ):
        return None
    window = timedelta(days=ctx.config.wallets["points"].pending_days)
    left = Decimal(eligible_left).scaleb(-ctx.program.currency_exponent)
    if ctx.clock.now() > purchase.occurred_at + window or left >= settings.qualifying_min_spend:
        return None
    for side, member_id, award in (
        ("referrer", referral.referrer_id, settings.referrer),
        ("referee", referral.referee_id, settings.referee),
    ):
        earned = ctx.uow.ledger.entry_by_key(ctx.program.id, f"referral:{referral.id}:{side}")
        if earned is not None and award.points > 0:
            ledger.clawback(
                ctx,
                member_id,
                wallet=award.wallet,
                amount=award.points,
                earned_by=earned.id,
                key=f"referral:{referral.id}:{side}:reversed",
                reference=purchase.external_id,
            )
    reversed_ = replace(referral, status="reversed", reason="qualifying_purchase_refunded")
    ctx.uow.referrals.update(reversed_)
    return reversed_
