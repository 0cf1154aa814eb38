"""Response models of the routes that render their answers by hand.

These routes build their JSON with small render functions (money as decimal strings in the
program's currency, points as integers) and return it as a ready response; the models here are
what the OpenAPI document declares for them (``response_model=``), so a client knows every
field. ``tests/api/test_schemathesis.py`` checks each answer against its model.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from patron.api.ledger_schemas import EntryOut
from patron.api.rendering import Timestamp
from patron.api.schemas import MemberPage, Page

Amount = int | str
"""Points are integers; money is a decimal string in the program's currency."""


class ExpiringOut(BaseModel):
    amount: Amount
    expires_at: Timestamp


class WalletOut(BaseModel):
    available: Amount
    pending: Amount
    lifetime_earned: Amount
    expiring: list[ExpiringOut]


class AwardOut(BaseModel):
    rule_id: str
    wallet: str
    amount: Amount
    status: str
    available_at: Timestamp | None
    explanation: dict[str, Any]


class SkippedOut(BaseModel):
    rule_id: str
    reason: str


class PurchaseResult(BaseModel):
    id: str
    external_id: str
    member_id: str | None
    eligible_amount: str
    config_version: int
    awards: list[AwardOut]
    earned: dict[str, Amount]
    skipped: list[SkippedOut]
    balances: dict[str, WalletOut] | None
    tier: dict[str, Any] | None


class RefundResult(BaseModel):
    external_id: str
    purchase: str
    refunded_amount: str
    clawed_back: dict[str, Amount]
    balances: dict[str, WalletOut] | None = None


class PurchaseDetail(PurchaseResult):
    refunds: list[RefundResult]


class EventResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    external_id: str
    member_id: str
    type: str
    awards: list[AwardOut]
    skipped: list[SkippedOut]
    balances: dict[str, WalletOut]


class GrantOut(BaseModel):
    id: str
    external_id: str
    wallet: str
    amount: Amount
    status: str
    members: int
    granted: int
    finished_at: Timestamp | None


class CampaignOut(BaseModel):
    code: str
    name: str
    start: Timestamp
    end: Timestamp
    audience: dict[str, Any]
    rules: list[dict[str, Any]]
    budget: int | None
    status: str
    results: dict[str, Any]


class CostOut(BaseModel):
    wallet: str
    amount: Amount


class RewardOut(BaseModel):
    code: str
    name: str
    description: str | None
    cost: CostOut
    kind: str
    value: str | None
    stock: int | None
    per_member_limit: int | None
    tiers: list[str] | None
    available_from: Timestamp | None
    available_until: Timestamp | None
    voucher_valid_days: int | None
    active: bool
    eligible: bool | None = Field(None, description="with `?member=`: may the member redeem it")
    reason: str | None = Field(None, description="with `?member=`: why not")


class RewardPage(Page):
    items: list[RewardOut]


class VoucherRef(BaseModel):
    code: str
    expires_at: Timestamp | None


class TransferOut(BaseModel):
    entry: EntryOut
    """The sender's entry (the receiver has its own, with the same time and reason)."""
    balances: dict[str, WalletOut]
    """The sender's balances after the transfer."""


class RedemptionOut(BaseModel):
    id: str
    reward: str | None
    """None for a direct spend of a wallet."""
    cost: CostOut
    voucher: VoucherRef | None
    status: str
    balances: dict[str, WalletOut]


class VoucherReward(BaseModel):
    code: str
    name: str
    kind: str
    value: str | None


class VoucherOut(BaseModel):
    code: str
    status: str
    reward: VoucherReward
    member_id: str
    expires_at: Timestamp | None
    used_at: Timestamp | None


class ReferralOut(BaseModel):
    id: str
    referee_id: str
    status: str
    reason: str | None
    purchase: str | None
    created_at: Timestamp
    completed_at: Timestamp | None


class ReferralPage(Page):
    items: list[ReferralOut]


class SegmentOut(BaseModel):
    code: str
    name: str
    filter: dict[str, Any]


SegmentMembers = MemberPage


class TierProgressOut(BaseModel):
    current: dict[str, Any] | None
    next: dict[str, Any] | None
    metric: str | None
    progress: Amount | None
    remaining: Amount | None
    period_end: Timestamp | None
    to_keep_current: Amount | None
    history: list[dict[str, Any]]


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    status: str
    description: str | None
    created_at: Timestamp
    previous_secret_valid_until: Timestamp | None


class WebhookWithSecret(WebhookOut):
    secret: str = Field(description="shown when the endpoint is made and when it is rotated")


class WebhookPage(Page):
    items: list[WebhookOut]


class AttemptOut(BaseModel):
    attempt: int
    at: Timestamp
    response_code: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event_type: str
    status: str
    attempts: int
    response_code: int | None
    error: str | None
    created_at: Timestamp
    last_attempt_at: Timestamp | None
    next_attempt_at: Timestamp | None
    delivered_at: Timestamp | None
    log: list[AttemptOut]


class DeliveryPage(Page):
    items: list[DeliveryOut]


class AnalyticsSummary(BaseModel):
    """Definitions in docs/analytics.md."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    start: Timestamp = Field(alias="from")
    end: Timestamp = Field(alias="to")
    currency: str
    members: dict[str, Any]
    wallets: dict[str, dict[str, Any]]
    points: dict[str, Any] | None
    liability: str
    sales: dict[str, Any]
    behaviour: dict[str, Any]
    expiry_forecast: dict[str, dict[str, ExpiringValue]] = Field(
        description="per wallet with an expiry policy: what expires in the next 30, 60 and 90 "
        "days from `to` (keys `next_30_days`, `next_60_days`, `next_90_days`; cumulative)"
    )
    tier_migration: TierMigration
    top_rules: list[TopRule] = Field(description="the ten rules that issued the most points")
    top_rewards: list[TopReward] = Field(description="the ten most redeemed rewards")
    average_order_value: OrderValuesOut


class ExpiringValue(BaseModel):
    amount: Amount = Field(description="units expiring (points, or money of a money wallet)")
    value: str = Field(description="what they cost the program, in its currency")


class TierChangeOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_code: str | None = Field(alias="from", description="null: the member's first tier")
    to: str
    direction: str = Field(description="up, down, same, entry (first tier) or unknown")
    changes: int


class TierMigration(BaseModel):
    up: int
    down: int
    changes: list[TierChangeOut]


class TopRule(BaseModel):
    rule_id: str
    name: str | None
    issued: int = Field(description="points the rule awarded in the window")
    awards: int


class TopReward(BaseModel):
    code: str | None
    name: str | None
    wallet: str
    redemptions: int
    spent: Amount


class OrderValueGroup(BaseModel):
    sales: str
    orders: int
    average_order_value: str | None


class OrderValuesOut(BaseModel):
    redeemers: OrderValueGroup
    non_redeemers: OrderValueGroup
    non_members: OrderValueGroup


class SeriesBucket(BaseModel):
    start: Timestamp
    end: Timestamp
    points_issued: int
    points_redeemed: int
    points_expired: int
    points_owed: int = Field(description="points available + pending at the bucket's end")
    members_new: int
    members_active: int
    liability: str = Field(description="what every wallet owes at the bucket's end, in money")


class AnalyticsSeries(BaseModel):
    """Definitions in docs/analytics.md, "Series"."""

    model_config = ConfigDict(populate_by_name=True)

    start: Timestamp = Field(alias="from")
    end: Timestamp = Field(alias="to")
    bucket: str
    timezone: str
    currency: str
    buckets: list[SeriesBucket]
