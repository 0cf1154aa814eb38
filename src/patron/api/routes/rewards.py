"""Rewards catalogue, redemptions and vouchers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)

from patron.api.deps import ProgramCaller, in_program
from patron.api.guards import throttle
from patron.api.ledger_schemas import render_balances
from patron.api.rendering import JsonResponse, rfc3339_or_none
from patron.api.responses import RedemptionOut, RewardOut, RewardPage, VoucherOut
from patron.api.writes import respond
from patron.domain.errors import FieldError, ValidationFailed
from patron.domain.money import from_minor, to_minor
from patron.domain.rewards import Reward, display_voucher
from patron.services import rewards
from patron.services.balances import wallet_views
from patron.services.ledger import MAX_AMOUNT, Context
from patron.services.ports import Redemption, UnitOfWork
from patron.services.transactions import run_read

router = APIRouter(prefix="/v1/programs/{program}", tags=["rewards"])

Kind = Literal["amount_off", "percent_off", "free_item", "free_shipping", "perk", "credit"]
Amount = StrictInt | StrictStr | StrictFloat
MAX_COUNT = 2**31 - 1  # stock and per-member limits are 32-bit columns
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CostIn(_Strict):
    wallet: Text
    amount: Amount


class RewardIn(_Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    name: Text
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    cost: CostIn
    kind: Kind
    value: StrictStr | StrictInt | StrictFloat | None = None
    stock: Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)] | None = None
    per_member_limit: Annotated[StrictInt, Field(ge=1, le=MAX_COUNT)] | None = None
    tiers: Annotated[list[Text], Field(min_length=1, max_length=50)] | None = None
    available_from: AwareDatetime | None = None
    available_until: AwareDatetime | None = None
    voucher_valid_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None
    active: StrictBool = True


class RewardPatch(_Strict):
    name: Text | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    cost_amount: Amount | None = None
    value: StrictStr | StrictInt | StrictFloat | None = None
    stock: Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)] | None = None
    per_member_limit: Annotated[StrictInt, Field(ge=1, le=MAX_COUNT)] | None = None
    tiers: Annotated[list[Text], Field(min_length=1, max_length=50)] | None = None
    available_from: AwareDatetime | None = None
    available_until: AwareDatetime | None = None
    voucher_valid_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None
    active: StrictBool | None = None


class RedemptionIn(_Strict):
    reward: Text | None = None
    wallet: Text | None = None
    amount: Amount | None = None

    @model_validator(mode="after")
    def _one_way(self) -> RedemptionIn:
        if (self.reward is None) == (self.wallet is None and self.amount is None):
            raise ValueError("give either reward, or wallet and amount")
        if self.reward is None and (self.wallet is None or self.amount is None):
            raise ValueError("a direct spend needs both wallet and amount")
        return self


class VoucherUseIn(_Strict):
    purchase_external_id: Text | None = None


def _amount(ctx: Context, wallet: str, value: Any, path: str) -> int:
    """A wallet amount from the API: integers for points, decimals for money wallets."""
    found = ctx.wallet(wallet, path=path.rsplit(".", 1)[0] + ".wallet" if "." in path else "wallet")
    if found.is_money:
        minor = to_minor(value, ctx.program.currency_exponent, path=path)
    elif isinstance(value, int) and not isinstance(value, bool):
        minor = value
    else:
        raise ValidationFailed([FieldError(path, "points are whole numbers")])
    if minor <= 0:
        raise ValidationFailed([FieldError(path, "must be more than zero")])
    if minor > MAX_AMOUNT:  # what the ledger can move at once
        raise ValidationFailed([FieldError(path, f"must be at most {MAX_AMOUNT} (minor units)")])
    return minor


def _value(kind: str, value: Any) -> str | None:
    if value is None:
        return None
    if kind in ("amount_off", "percent_off", "credit"):
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            raise ValidationFailed([FieldError("value", "must be a decimal number")]) from None
        if not number.is_finite() or number <= 0 or (kind == "percent_off" and number > 100):
            raise ValidationFailed(
                [FieldError("value", "must be a positive amount (percent: at most 100)")]
            )
        return str(number)
    return str(value)


def render_reward(r: Reward, ctx_exponent: int, money: bool, reason: Any = ...) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": r.code,
        "name": r.name,
        "description": r.description,
        "cost": {
            "wallet": r.cost_wallet,
            "amount": from_minor(r.cost_amount, ctx_exponent) if money else r.cost_amount,
        },
        "kind": r.kind,
        "value": r.value,
        "stock": r.stock,
        "per_member_limit": r.per_member_limit,
        "tiers": r.tiers,
        "available_from": rfc3339_or_none(r.available_from),
        "available_until": rfc3339_or_none(r.available_until),
        "voucher_valid_days": r.voucher_valid_days,
        "active": r.active,
    }
    if reason is not ...:
        out["eligible"] = reason is None
        out["reason"] = reason
    return out


def _ctx(uow: UnitOfWork, who: ProgramCaller) -> Context:
    return Context(uow, who.container.clock, who.actor, who.program)


def _is_money(ctx: Context, wallet: str) -> bool:
    found = ctx.config.wallets.get(wallet)
    return bool(found and found.is_money)


@router.post("/rewards", status_code=201, response_model=RewardOut)
def create_reward(
    body: RewardIn, request: Request, who: ProgramCaller = Depends(in_program("rewards.write"))
) -> Response:
    def action(uow: UnitOfWork) -> dict[str, Any]:
        ctx = _ctx(uow, who)
        fields = body.model_dump(exclude={"cost"})
        fields.update(
            cost_wallet=body.cost.wallet,
            cost_amount=_amount(ctx, body.cost.wallet, body.cost.amount, "cost.amount"),
            value=_value(body.kind, body.value),
        )
        reward = rewards.create(ctx, fields)
        return render_reward(
            reward, ctx.program.currency_exponent, _is_money(ctx, reward.cost_wallet)
        )

    return respond(request, who, action, lambda r: r, status=201, body=body.model_dump(mode="json"))


@router.get("/rewards", response_model=RewardPage)
def list_rewards(
    member: str | None = None, who: ProgramCaller = Depends(in_program("members.read"))
) -> Response:
    """The catalogue; with ``?member=``, whether that member can redeem each reward and why not."""

    def read(uow: UnitOfWork) -> list[dict[str, Any]]:
        ctx = _ctx(uow, who)
        exponent = ctx.program.currency_exponent
        return [
            render_reward(
                o.reward,
                exponent,
                _is_money(ctx, o.reward.cost_wallet),
                o.reason if member else ...,
            )
            for o in rewards.catalogue(ctx, member)
        ]

    return JsonResponse({"items": run_read(who.uow, read), "next_cursor": None})


@router.patch("/rewards/{code}", response_model=RewardOut)
def patch_reward(
    code: str,
    body: RewardPatch,
    request: Request,
    who: ProgramCaller = Depends(in_program("rewards.write")),
) -> Response:
    changes = body.model_dump(exclude_unset=True)

    def action(uow: UnitOfWork) -> dict[str, Any]:
        ctx = _ctx(uow, who)
        current = rewards.get(ctx, code)
        if "cost_amount" in changes:
            changes["cost_amount"] = _amount(
                ctx, current.cost_wallet, changes["cost_amount"], "cost_amount"
            )
        if "value" in changes:
            changes["value"] = _value(current.kind, changes["value"])
        reward = rewards.update(ctx, code, changes)
        return render_reward(
            reward, ctx.program.currency_exponent, _is_money(ctx, reward.cost_wallet)
        )

    return respond(request, who, action, lambda r: r, status=200, body=body.model_dump(mode="json"))


def _render_redemption(ctx: Context, redeemed: Redemption, reward: Reward | None) -> dict[str, Any]:
    exponent = ctx.program.currency_exponent
    money = _is_money(ctx, redeemed.wallet)
    views = wallet_views(ctx.uow, ctx.program, [redeemed.member_id], now=ctx.clock.now())
    balances = views[redeemed.member_id]
    return {
        "id": redeemed.id,
        "reward": reward.code if reward else None,
        "cost": {
            "wallet": redeemed.wallet,
            "amount": from_minor(redeemed.amount, exponent) if money else redeemed.amount,
        },
        "voucher": {
            "code": display_voucher(redeemed.voucher_code),
            "expires_at": rfc3339_or_none(redeemed.voucher_expires_at),
        }
        if redeemed.voucher_code
        else None,
        "status": redeemed.status,
        "balances": render_balances(balances, exponent),
    }


@router.post("/members/{member}/redemptions", status_code=201, response_model=RedemptionOut)
def redeem(
    member: str,
    body: RedemptionIn,
    request: Request,
    who: ProgramCaller = Depends(in_program("redemptions.write")),
) -> Response:
    """Redeem a reward (``{reward}``) or spend a wallet directly (``{wallet, amount}``)."""

    def action(uow: UnitOfWork) -> dict[str, Any]:
        ctx = _ctx(uow, who)
        if body.reward is not None:
            done = rewards.redeem(ctx, member, body.reward)
        else:
            assert body.wallet is not None
            amount = _amount(ctx, body.wallet, body.amount, "amount")
            done = rewards.spend(ctx, member, body.wallet, amount)
        return _render_redemption(ctx, done.redemption, done.reward)

    return respond(request, who, action, lambda r: r, status=201, body=body.model_dump(mode="json"))


@router.post("/redemptions/{redemption_id}/cancel", response_model=RedemptionOut)
def cancel(
    redemption_id: str,
    request: Request,
    who: ProgramCaller = Depends(in_program("redemptions.write")),
) -> Response:
    """Cancel an unused redemption: points back with their original expiry, stock restored."""

    def action(uow: UnitOfWork) -> _Cancelled:
        ctx = _ctx(uow, who)
        done = rewards.cancel(ctx, redemption_id)
        found = done.redemption
        reward = uow.rewards.by_id(found.reward_id) if found.reward_id else None
        return _Cancelled(_render_redemption(ctx, found, reward), done.replayed)

    return respond(request, who, action, lambda r: r.body, status=200, body={})


@dataclass(frozen=True, slots=True)
class _Cancelled:
    body: dict[str, Any]
    replayed: bool  # cancelled before: the same answer, nothing written or recorded


def _render_voucher(ctx: Context, found: Redemption) -> dict[str, Any]:
    reward = ctx.uow.rewards.by_id(found.reward_id) if found.reward_id else None
    assert found.voucher_code is not None
    return {
        "code": display_voucher(found.voucher_code),
        "status": found.status,
        "reward": {
            "code": reward.code,
            "name": reward.name,
            "kind": reward.kind,
            "value": reward.value,
        }
        if reward
        else None,
        "member_id": found.member_id,
        "expires_at": rfc3339_or_none(found.voucher_expires_at),
        "used_at": rfc3339_or_none(found.used_at),
    }


@router.get("/vouchers/{code}", response_model=VoucherOut)
def get_voucher(
    code: str, request: Request, who: ProgramCaller = Depends(in_program("members.read"))
) -> Response:
    throttle(who, request, "vouchers")

    def read(uow: UnitOfWork) -> dict[str, Any]:
        ctx = _ctx(uow, who)
        return _render_voucher(ctx, rewards.voucher(ctx, code))

    return JsonResponse(run_read(who.uow, read))


@router.post("/vouchers/{code}/use", response_model=VoucherOut)
def use_voucher(
    code: str,
    body: VoucherUseIn,
    request: Request,
    who: ProgramCaller = Depends(in_program("redemptions.write")),
) -> Response:
    """Mark a voucher used (once; a second use is 409 ``voucher_already_used``)."""
    throttle(who, request, "vouchers")

    def action(uow: UnitOfWork) -> dict[str, Any]:
        ctx = _ctx(uow, who)
        return _render_voucher(ctx, rewards.use(ctx, code, body.purchase_external_id))

    return respond(request, who, action, lambda r: r, status=200, body=body.model_dump(mode="json"))
