"""Refunds of a purchase: cumulative, proportional, clawed back from its own lots first.

A refund's ``external_id`` is a business key like a purchase's: the same refund sent again
changes nothing and answers the original result. Each refund recomputes what every award of the
purchase keeps (``domain.rules.refunds``) under the configuration version that awarded it, and
claws back the difference per wallet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from patron.domain.dates import Floor, check_business_date
from patron.domain.errors import BusinessKeyConflict, FieldError, ValidationFailed
from patron.domain.ids import new_id
from patron.domain.money import to_minor
from patron.domain.rules import Purchase
from patron.domain.rules import refunds as rules
from patron.services import campaigns, ledger, outbox, purchases, referrals, tiers
from patron.services.ledger import Context
from patron.services.ports import StoredPurchase, StoredRefund
from patron.services.programs import load_config_version


@dataclass(frozen=True, slots=True)
class Recorded:
    refund: StoredRefund
    purchase: StoredPurchase
    replayed: bool


def request_of(document: dict[str, Any]) -> rules.RefundRequest:
    lines = tuple((str(item["sku"]), int(item["quantity"])) for item in document.get("lines") or [])
    amount = document.get("amount")
    return rules.RefundRequest(lines, None if amount is None else Decimal(str(amount)))


def refund(
    ctx: Context,
    purchase_external_id: str,
    *,
    external_id: str,
    document: dict[str, Any],
    fingerprint: str,
    occurred_at: datetime | None = None,
) -> Recorded:
    """Refund part or all of a purchase and claw back what its awards no longer keep.

    Raises: PurchaseNotFound, BusinessKeyConflict, ValidationFailed (more than remains; an
    ``occurred_at`` out of bounds or before the purchase).
    """
    stored = purchases.get(ctx.uow, ctx.program, purchase_external_id)
    if stored.member_id is not None:
        keys = [(stored.member_id, w) for w in ctx.config.wallets]
        ctx.uow.ledger.lock_balances(ctx.program.id, keys)
    earlier = ctx.uow.purchases.get_refund(ctx.program.id, external_id)
    if earlier is not None:
        if earlier.fingerprint != fingerprint or earlier.purchase_id != stored.id:
            raise BusinessKeyConflict(
                f"refund {external_id!r} was already recorded with a different body",
                external_id=external_id,
            )
        return Recorded(earlier, stored, replayed=True)
    if occurred_at is not None:
        floor = Floor(stored.occurred_at, "is before the purchase it refunds", "before_purchase")
        check_business_date(occurred_at, path="occurred_at", now=ctx.clock.now(), floor=floor)
    request = request_of(document)
    if request.lines and request.amount is not None:
        raise ValidationFailed([FieldError("amount", "give lines or an amount, not both")])
    config = load_config_version(ctx.uow, ctx.program, stored.config_version)
    for code in sorted(
        {
            a["rule_id"].split(".")[1]
            for a in stored.result["awards"]
            if a["rule_id"].startswith("c.")
        }
    ):
        campaign = ctx.uow.campaigns.get(ctx.program.id, code)
        if campaign is not None:  # the campaign's rules, as they awarded this purchase
            config = campaigns.with_campaign(config, code, campaign.rules, campaign.budget)
    bought = purchases.purchase_of(stored)
    left = rules.initial(bought)
    for previous in ctx.uow.purchases.refunds_of(stored.id):
        left = rules.apply(left, request_of(previous.document))
    if sum(item.amount for item in left) == 0 and not any(item.quantity for item in left):
        raise ValidationFailed([FieldError("", "this purchase is already fully refunded")])
    awards = [
        rules.AwardKept(a["rule_id"], a["kind"], a["wallet"], a["amount"])
        for a in stored.result["awards"]
    ]
    before = rules.kept_awards(config, bought, awards, left)
    after_left = rules.apply(left, request)
    after = rules.kept_awards(config, bought, awards, after_left)
    clawed: dict[str, int] = {}
    for award in awards:
        clawed[award.wallet] = (
            clawed.get(award.wallet, 0) + before[award.rule_id] - after[award.rule_id]
        )
    moment = occurred_at or ctx.clock.now()
    for wallet, amount in clawed.items():
        if amount <= 0 or stored.member_id is None:
            continue
        earned = ctx.uow.ledger.entry_by_key(
            ctx.program.id, f"purchase:{stored.external_id}:{wallet}"
        )
        ledger.clawback(
            ctx,
            stored.member_id,
            wallet=wallet,
            amount=amount,
            earned_by=earned.id if earned else None,
            key=f"refund:{external_id}:{wallet}",
            reference=stored.external_id,
            occurred_at=moment,
        )
    refunded = sum((i.amount for i in left), Decimal(0)) - sum(
        (i.amount for i in after_left), Decimal(0)
    )
    record = StoredRefund(
        id=new_id(),
        program_id=ctx.program.id,
        purchase_id=stored.id,
        external_id=external_id,
        fingerprint=fingerprint,
        document=document,
        result={
            "external_id": external_id,
            "purchase": stored.external_id,
            "refunded_amount": str(
                refunded.quantize(Decimal(1).scaleb(-ctx.program.currency_exponent))
            ),
            "eligible_refunded": _eligible_share(stored, bought, left)
            - _eligible_share(stored, bought, after_left),
            "clawed_back": {w: n for w, n in clawed.items() if n > 0},
            "kept": after,
            "money_wallets": stored.result.get("money_wallets", []),
        },
        occurred_at=moment.astimezone(UTC),
        recorded_at=ctx.clock.now(),
    )
    ctx.uow.purchases.add_refund(record)
    ctx.uow.purchases.refunded(
        stored.id,
        eligible=record.result["eligible_refunded"],
        amount=to_minor(record.result["refunded_amount"], ctx.program.currency_exponent),
    )
    outbox.emit(
        ctx,
        "purchase.refunded",
        stored.member_id,
        {
            "purchase": stored.external_id,
            "refund": external_id,
            "member_id": stored.member_id,
            "clawed_back": record.result["clawed_back"],
        },
    )
    if stored.member_id is not None:
        tiers.reevaluate(ctx, stored.member_id, cause="refund", reference=external_id)
        referrals.on_refund(ctx, stored, _eligible_share(stored, bought, after_left))
    return Recorded(record, stored, replayed=False)


def _eligible_share(
    stored: StoredPurchase, bought: Purchase, left: Sequence[rules.LineLeft]
) -> int:
    """The purchase's eligible amount (minor units) still standing with ``left`` remaining.

    Differences of this value are what refunds take off the spend tier metric; they always add
    up to exactly the purchase's eligible amount once it is fully refunded.
    """
    subtotal = bought.subtotal
    if not subtotal:
        return 0
    remaining = sum((item.amount for item in left), Decimal(0))
    return int((stored.eligible_amount * remaining / subtotal).to_integral_value())
