"""Rewards catalogue, redemptions and vouchers (SPEC §5).

A redemption is one transaction: lock the member's balance row, check eligibility (status,
negative balance, window, stock, tier, per-member limit, balance), take one unit of stock with a
single conditional UPDATE (so concurrent redemptions can never oversell), debit the wallet
soonest-expiring lots first, and issue a voucher. Using a voucher is one conditional UPDATE from
``issued`` to ``used``: of many simultaneous uses exactly one succeeds.

Cancelling gives the points back as new lots with their original expiry: an unused voucher's
redemption (``issued`` → ``cancelled``, stock returned), or a direct spend of a wallet
(``completed`` → ``cancelled``: a checkout that failed gives the store credit back). The status
changes by one conditional UPDATE under the member's balance lock, and the ledger refuses a
second cancellation of an entry, so the points come back once however many cancels race.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from patron.domain.errors import (
    FieldError,
    InsufficientBalance,
    NotCancellable,
    RedemptionNotFound,
    RewardNotFound,
    RewardUnavailable,
    ValidationFailed,
    VoucherAlreadyUsed,
    VoucherCancelled,
    VoucherExpired,
    VoucherNotFound,
)
from patron.domain.ids import new_id
from patron.domain.ledger import REDEEMED
from patron.domain.money import to_minor
from patron.domain.rewards import REWARD_KINDS, Reward, new_voucher_code, normalize_voucher, refusal
from patron.domain.timestamps import rfc3339_or_none
from patron.services import audit, ledger, members, outbox
from patron.services.balances import wallet_views
from patron.services.ledger import Context
from patron.services.ports import Redemption

EDITABLE = (
    "name",
    "description",
    "cost_amount",
    "value",
    "stock",
    "per_member_limit",
    "tiers",
    "available_from",
    "available_until",
    "voucher_valid_days",
    "active",
)


def _check(ctx: Context, reward: Reward) -> None:
    errors: list[FieldError] = []
    wallet = ctx.config.wallets.get(reward.cost_wallet)
    if wallet is None:
        errors.append(FieldError("cost.wallet", f"unknown wallet {reward.cost_wallet!r}"))
    if reward.kind not in REWARD_KINDS:
        errors.append(FieldError("kind", f"must be one of: {', '.join(REWARD_KINDS)}"))
    if reward.kind in ("amount_off", "percent_off", "free_item", "credit") and not reward.value:
        errors.append(FieldError("value", f"a {reward.kind} reward needs a value", "missing"))
    if reward.kind == "credit" and not any(w.is_money for w in ctx.config.wallets.values()):
        errors.append(FieldError("kind", "a credit reward needs a money wallet to credit"))
    tiers = ctx.config.tiers
    for code in reward.tiers or []:
        if tiers is None or tiers.level(code) is None:
            errors.append(FieldError("tiers", f"unknown tier {code!r}"))
    start, end = reward.available_from, reward.available_until
    if start and end and end <= start:
        errors.append(FieldError("available_until", "must come after available_from"))
    if errors:
        raise ValidationFailed(errors)


def create(ctx: Context, fields: dict[str, Any]) -> Reward:
    """Add a reward to the catalogue. Raises: ValidationFailed, RewardCodeTaken."""
    now = ctx.clock.now()
    reward = Reward(
        id=new_id(), program_id=ctx.program.id, created_at=now, updated_at=now, **fields
    )
    _check(ctx, reward)
    ctx.uow.rewards.add(reward)
    return reward


def get(ctx: Context, code: str) -> Reward:
    found = ctx.uow.rewards.get(ctx.program.id, code)
    if found is None:
        raise RewardNotFound(f"no reward {code!r} in this program")
    return found


def update(ctx: Context, code: str, changes: dict[str, Any]) -> Reward:
    """Change catalogue fields. Raises: RewardNotFound, ValidationFailed."""
    current = get(ctx, code)
    reward = replace(
        current,
        **{k: v for k, v in changes.items() if k in EDITABLE},
        updated_at=ctx.clock.now(),
    )
    _check(ctx, reward)
    ctx.uow.rewards.update(reward)
    before, after = audit.changed(
        {k: getattr(current, k) for k in EDITABLE}, {k: getattr(reward, k) for k in EDITABLE}
    )
    audit.record(
        ctx.uow,
        program_id=ctx.program.id,
        actor=ctx.actor,
        action="reward.updated",
        target=("reward", reward.code),
        at=reward.updated_at,
        before=before,
        after=after,
    )
    return reward


def _gated(ctx: Context, reward: Reward) -> Reward:
    """The reward with every tier that opens it: its own ``tiers`` and the tiers whose
    ``benefits.rewards`` list it."""
    tiers = ctx.config.tiers
    opened_by = (
        [lv.code for lv in tiers.levels if reward.code in (lv.benefits.rewards or [])]
        if tiers
        else []
    )
    if not opened_by:
        return reward
    return replace(reward, tiers=sorted({*(reward.tiers or []), *opened_by}))


@dataclass(frozen=True, slots=True)
class Offer:
    reward: Reward
    reason: str | None  # None: the member can redeem it


def catalogue(ctx: Context, member_id: str | None) -> list[Offer]:
    """Every reward; with a member, whether they can redeem each and why not."""
    rewards = ctx.uow.rewards.all(ctx.program.id)
    if member_id is None:
        return [Offer(r, None) for r in rewards]
    member = members.get_member(ctx.uow, ctx.program, member_id)
    counts = ctx.uow.rewards.redeemed_by(member.id, [r.id for r in rewards])
    now = ctx.clock.now()
    balances = wallet_views(ctx.uow, ctx.program, [member.id], now=now)[member.id]
    offers = []
    for reward in rewards:
        balance = balances.get(reward.cost_wallet)
        reason = refusal(
            _gated(ctx, reward),
            now=now,
            tier_code=member.tier_code,
            redeemed_by_member=counts.get(reward.id, 0),
            available=balance.available if balance else 0,
        )
        if reason is None and member.status != "active":
            reason = f"member_{member.status}"
        offers.append(Offer(reward, reason))
    return offers


@dataclass(frozen=True, slots=True)
class Redeemed:
    redemption: Redemption
    reward: Reward | None


def redeem(ctx: Context, member_id: str, code: str) -> Redeemed:
    """Redeem a reward for a member.

    Raises: RewardNotFound, MemberNotFound, MemberFrozen, MemberInactive, InsufficientBalance,
    RewardUnavailable (with the reason).
    """
    reward = get(ctx, code)
    ctx.uow.ledger.lock_balances(ctx.program.id, [(member_id, reward.cost_wallet)])
    member = ledger.member_for(ctx, member_id, debit=True)
    available = ledger.settle(ctx, member_id, reward.cost_wallet)[0].available
    reason = refusal(
        _gated(ctx, reward),
        now=ctx.clock.now(),
        tier_code=member.tier_code,
        redeemed_by_member=ctx.uow.rewards.redeemed_by(member_id, [reward.id]).get(reward.id, 0),
        available=available,
    )
    if reason == "insufficient_balance" or available < 0:
        raise InsufficientBalance(
            f"the available balance is {available}, the reward costs {reward.cost_amount}",
            available=available,
            requested=reward.cost_amount,
        )
    if reason is not None:
        raise RewardUnavailable(f"reward {code!r} is unavailable: {reason}", reason=reason)
    if not ctx.uow.rewards.take_stock(reward.id):
        raise RewardUnavailable(f"reward {code!r} is out of stock", reason="out_of_stock")
    redemption_id = new_id()
    posted = ledger.debit(
        ctx,
        member_id,
        wallet=reward.cost_wallet,
        amount=reward.cost_amount,
        reference=redemption_id,
        reason=f"reward {reward.code}",
        member=member,
    )
    if reward.kind == "credit":
        _credit(ctx, member_id, reward, redemption_id)
    now = ctx.clock.now()
    days = reward.voucher_valid_days
    voucher = None if reward.kind == "credit" else new_voucher_code()
    redemption = Redemption(
        id=redemption_id,
        program_id=ctx.program.id,
        member_id=member_id,
        reward_id=reward.id,
        wallet=reward.cost_wallet,
        amount=reward.cost_amount,
        entry_id=posted.entry.id,
        status="issued" if voucher else "completed",
        voucher_code=voucher,
        voucher_expires_at=now + timedelta(days=days) if voucher and days else None,
        created_at=now,
    )
    ctx.uow.rewards.add_redemption(redemption)
    outbox.emit(
        ctx,
        "reward.redeemed",
        member_id,
        {
            "member_id": member_id,
            "redemption_id": redemption_id,
            "reward": reward.code,
            "cost": {"wallet": reward.cost_wallet, "amount": reward.cost_amount},
            "voucher_expires_at": rfc3339_or_none(redemption.voucher_expires_at),
        },
    )
    return Redeemed(redemption, reward)


def _credit(ctx: Context, member_id: str, reward: Reward, redemption_id: str) -> None:
    wallet = next(code for code, w in ctx.config.wallets.items() if w.is_money)
    amount = to_minor(Decimal(reward.value or "0"), ctx.program.currency_exponent, path="value")
    ledger.earn(
        ctx,
        member_id,
        wallet=wallet,
        amount=amount,
        reference=redemption_id,
        reason=f"reward {reward.code}",
        source=REDEEMED,
        hold=False,
    )


def spend(ctx: Context, member_id: str, wallet: str, amount: int) -> Redeemed:
    """Spend a wallet directly (store credit at checkout): a redemption without a reward.

    Raises: ValidationFailed, MemberNotFound, MemberFrozen, InsufficientBalance.
    """
    redemption_id = new_id()
    posted = ledger.debit(ctx, member_id, wallet=wallet, amount=amount, reference=redemption_id)
    redemption = Redemption(
        id=redemption_id,
        program_id=ctx.program.id,
        member_id=member_id,
        reward_id=None,
        wallet=wallet,
        amount=amount,
        entry_id=posted.entry.id,
        status="completed",
        voucher_code=None,
        voucher_expires_at=None,
        created_at=ctx.clock.now(),
    )
    ctx.uow.rewards.add_redemption(redemption)
    return Redeemed(redemption, None)


@dataclass(frozen=True, slots=True)
class Cancelled:
    redemption: Redemption
    replayed: bool  # it was cancelled before: nothing changed


def cancel(ctx: Context, redemption_id: str) -> Cancelled:
    """Cancel an unused redemption, or a direct spend: points (or credit) back with their
    original expiry, stock restored. Cancelling again answers the cancelled redemption.

    Raises: RedemptionNotFound, NotCancellable (used, expired, a credit reward), MemberInactive.
    """
    found = ctx.uow.rewards.redemption(ctx.program.id, redemption_id)
    if found is None:
        raise RedemptionNotFound(f"no redemption {redemption_id!r} in this program")
    ctx.uow.ledger.lock_balances(ctx.program.id, [(found.member_id, found.wallet)])
    # Read again under the lock: a cancel that committed while we waited for it is seen.
    found = ctx.uow.rewards.redemption(ctx.program.id, redemption_id)
    assert found is not None
    if found.status == "cancelled":
        return Cancelled(found, replayed=True)
    direct = found.reward_id is None  # a direct spend is complete at once; nothing was issued
    if not ctx.uow.rewards.set_status(
        found.id,
        from_status="completed" if direct else "issued",
        to_status="cancelled",
        at=ctx.clock.now(),
    ):
        raise NotCancellable(
            f"a {found.status} redemption cannot be cancelled", redemption_status=found.status
        )
    ledger.cancel_debit(ctx, found.entry_id, reason="redemption cancelled")
    if found.reward_id:
        ctx.uow.rewards.return_stock(found.reward_id)
    outbox.emit(
        ctx,
        "redemption.cancelled",
        found.member_id,
        {"redemption_id": found.id, "member_id": found.member_id},
    )
    cancelled = ctx.uow.rewards.redemption(ctx.program.id, redemption_id)
    assert cancelled is not None
    return Cancelled(cancelled, replayed=False)


def void_vouchers(ctx: Context, member_id: str, *, reason: str) -> list[Redemption]:
    """Cancel the member's vouchers still to be used (on erasure): each is refused from then on
    and its unit of stock returns; the points stay spent. Returns those voided."""
    now = ctx.clock.now()
    voided = []
    for found in ctx.uow.rewards.live_vouchers(ctx.program.id, member_id, now):
        if not ctx.uow.rewards.set_status(
            found.id, from_status="issued", to_status="cancelled", at=now
        ):
            continue  # used at this very moment: it stays used
        if found.reward_id:
            ctx.uow.rewards.return_stock(found.reward_id)
        outbox.emit(
            ctx,
            "redemption.cancelled",
            member_id,
            {"redemption_id": found.id, "member_id": member_id, "reason": reason},
        )
        voided.append(found)
    return voided


def voucher(ctx: Context, code: str) -> Redemption:
    """Raises: VoucherNotFound."""
    stored = normalize_voucher(code)
    found = ctx.uow.rewards.voucher(ctx.program.id, stored) if stored else None
    if found is None:
        raise VoucherNotFound("no such voucher in this program")
    if (
        found.status == "issued"
        and found.voucher_expires_at
        and found.voucher_expires_at <= ctx.clock.now()
    ):
        return replace(found, status="expired")
    return found


def use(ctx: Context, code: str, reference: str | None) -> Redemption:
    """Mark a voucher used, once.

    Raises: VoucherNotFound, VoucherAlreadyUsed, VoucherExpired, VoucherCancelled.
    """
    found = voucher(ctx, code)
    if found.status == "used":
        raise VoucherAlreadyUsed(
            "this voucher was already used", used_at=rfc3339_or_none(found.used_at)
        )
    if found.status == "expired":
        raise VoucherExpired("this voucher has expired")
    if found.status == "cancelled":
        raise VoucherCancelled("this voucher's redemption was cancelled")
    if not ctx.uow.rewards.set_status(
        found.id, from_status="issued", to_status="used", at=ctx.clock.now(), reference=reference
    ):
        raise VoucherAlreadyUsed("this voucher was already used")
    outbox.emit(
        ctx, "voucher.used", found.member_id, {"redemption_id": found.id, "reference": reference}
    )
    return replace(found, status="used", used_at=ctx.clock.now(), used_reference=reference)


def expire_vouchers(ctx: Context, now: datetime) -> int:
    """The voucher job: issued vouchers past their date become expired. Idempotent."""
    return ctx.uow.rewards.expire_vouchers(ctx.program.id, now)
