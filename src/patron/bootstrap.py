"""The composition root: from settings to a ready ``Container`` of engine, units of work, clock,
webhook sender and the API's rate limiter.

Entrypoints (the API app, the CLI) build one container at start and hand it down; nothing below
reads settings or creates engines itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from patron.adapters.clock import SystemClock
from patron.adapters.db import migrate
from patron.adapters.db.engine import make_engine
from patron.adapters.db.uow import SqlUnitOfWorkFactory
from patron.adapters.ratelimit import Bucket, RateLimiter, parse_limits
from patron.adapters.webhooks import HttpWebhookSender
from patron.config import Settings
from patron.domain.fingerprints import Fingerprints
from patron.services.messages import Outlets
from patron.services.ports import Clock, EmailTransport, SmsTransport, WebhookSender


@dataclass
class Container:
    settings: Settings
    engine: Engine
    uow: SqlUnitOfWorkFactory
    webhooks: WebhookSender
    limiter: RateLimiter
    clock: Clock = field(default_factory=SystemClock)
    mailer: EmailTransport | None = None
    sms: SmsTransport | None = None

    def outlets(self) -> Outlets:
        """Where messages go: the configured transports and the base of links."""
        return Outlets(self.mailer, self.sms, self.settings.base_url())

    def close(self) -> None:
        self.engine.dispose()
        close = getattr(self.webhooks, "close", None)
        if close is not None:
            close()


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> Container:
    """Build the container; upgrades the schema first when the settings ask for it."""
    settings = settings or Settings()
    if settings.wants_auto_upgrade():
        migrate.upgrade(settings.database_url, fingerprint_secret=settings.fingerprint_key())
    engine = make_engine(settings.database_url, pool_size=settings.pool_size)
    return Container(
        settings=settings,
        engine=engine,
        uow=SqlUnitOfWorkFactory(engine, fingerprint=Fingerprints(settings.fingerprint_key())),
        webhooks=HttpWebhookSender(allow_private=settings.webhooks_allow_private_targets),
        limiter=rate_limiter(settings),
        clock=clock or SystemClock(),
    )


def rate_limiter(settings: Settings) -> RateLimiter:
    """The limiter of the API's abuse limits, from the ``PATRON_RATE_LIMIT_*`` settings."""
    return RateLimiter(
        {
            "vouchers": Bucket(
                per_key=parse_limits(settings.rate_limit_vouchers_per_key),
                per_address=parse_limits(settings.rate_limit_vouchers_per_address),
            ),
            "member_lookups": Bucket(
                per_key=parse_limits(settings.rate_limit_member_lookups_per_key),
                per_address=parse_limits(settings.rate_limit_member_lookups_per_address),
            ),
            "auth_failures": Bucket(
                per_address=parse_limits(settings.rate_limit_auth_failures_per_address),
            ),
            # Console sign-in failures: "key" is the staff email here.
            "staff_sign_in": Bucket(
                per_key=parse_limits(settings.rate_limit_staff_sign_in_per_account),
                per_address=parse_limits(settings.rate_limit_staff_sign_in_per_address),
            ),
        },
        storage_uri=settings.rate_limit_storage,
        strategy=settings.rate_limit_strategy,
        enabled=settings.rate_limits_enabled,
    )
