"""The ports the use cases need: a unit of work with its repositories, and a clock.

Adapters implement them (``patron.adapters.db``); services depend only on these Protocols, so a
use case reads as business steps and its storage can be swapped or instrumented.

The ports are grouped by area in this package's modules; every one is re-exported here, so
``from patron.services.ports import X`` names any of them.
"""

from __future__ import annotations

from patron.services.ports.analytics import (
    AnalyticsRepository,
    Bucket,
    BucketFigures,
    BuyerFigures,
    DayFigures,
    InsightRepository,
    LedgerFlows,
    MemberCounts,
    MemberPurchases,
    Movements,
    RewardRedemptions,
    RuleAwards,
    SalesFigures,
)
from patron.services.ports.audit import AuditFilter, AuditRepository
from patron.services.ports.common import Clock, IdempotencyRepository, RetryableError, StoredOutcome
from patron.services.ports.ledger import BalanceKey, ExpiryTotal, LedgerRepository, Violation
from patron.services.ports.marketing import (
    BulkGrant,
    Campaign,
    CampaignRepository,
    GrantRepository,
    Referral,
    ReferralRepository,
    Segment,
    SegmentRepository,
)
from patron.services.ports.member_reads import ConsentRecord, MemberReads, NameQuery
from patron.services.ports.members import MemberFilter, MemberRepository
from patron.services.ports.messages import (
    Message,
    MessageRecorder,
    MessageRepository,
    MessageUpdate,
    StoredTemplate,
)
from patron.services.ports.portal import PortalRepository
from patron.services.ports.privacy import PrivacyRepository, StoredDocument, Tombstone
from patron.services.ports.programs import ApiKeyRepository, ProgramRepository
from patron.services.ports.purchases import (
    PurchaseRepository,
    PurchaseTotals,
    StoredAward,
    StoredEvent,
    StoredEventAward,
    StoredPurchase,
    StoredRefund,
)
from patron.services.ports.rewards import Redemption, RewardRepository
from patron.services.ports.staff import StaffCredentials, StaffRepository
from patron.services.ports.tiers import HeldTier, TierChange, TierRepository
from patron.services.ports.transports import (
    Delivery,
    EmailTransport,
    OutgoingEmail,
    OutgoingSms,
    PendingEmail,
    PipelinedEmailTransport,
    SmsTransport,
    TransportUnavailable,
)
from patron.services.ports.uow import BatchReads, UnitOfWork, UnitOfWorkFactory
from patron.services.ports.webhooks import (
    ClaimedDelivery,
    OutboxEvent,
    OutboxRepository,
    SendResult,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookRepository,
    WebhookSender,
)

__all__ = [
    "AnalyticsRepository",
    "ApiKeyRepository",
    "AuditFilter",
    "AuditRepository",
    "BalanceKey",
    "BatchReads",
    "Bucket",
    "BucketFigures",
    "BulkGrant",
    "BuyerFigures",
    "Campaign",
    "CampaignRepository",
    "ClaimedDelivery",
    "Clock",
    "ConsentRecord",
    "DayFigures",
    "Delivery",
    "EmailTransport",
    "ExpiryTotal",
    "GrantRepository",
    "HeldTier",
    "IdempotencyRepository",
    "InsightRepository",
    "LedgerFlows",
    "LedgerRepository",
    "MemberCounts",
    "MemberFilter",
    "MemberPurchases",
    "MemberReads",
    "MemberRepository",
    "Message",
    "MessageRecorder",
    "MessageRepository",
    "MessageUpdate",
    "Movements",
    "NameQuery",
    "OutboxEvent",
    "OutboxRepository",
    "OutgoingEmail",
    "OutgoingSms",
    "PendingEmail",
    "PipelinedEmailTransport",
    "PortalRepository",
    "PrivacyRepository",
    "ProgramRepository",
    "PurchaseRepository",
    "PurchaseTotals",
    "Redemption",
    "Referral",
    "ReferralRepository",
    "RetryableError",
    "RewardRedemptions",
    "RewardRepository",
    "RuleAwards",
    "SalesFigures",
    "Segment",
    "SegmentRepository",
    "SendResult",
    "SmsTransport",
    "StaffCredentials",
    "StaffRepository",
    "StoredAward",
    "StoredDocument",
    "StoredEvent",
    "StoredEventAward",
    "StoredOutcome",
    "StoredPurchase",
    "StoredRefund",
    "StoredTemplate",
    "TierChange",
    "TierRepository",
    "Tombstone",
    "TransportUnavailable",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "Violation",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookRepository",
    "WebhookSender",
]
