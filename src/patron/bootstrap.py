"""The composition root: from settings to a ready ``Container`` of engine, units of work, clock,
webhook sender, the API's rate limiter and the message transports (email, SMS; None when not
configured).

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
from patron.adapters.messaging import (
    DkimSigner,
    JsonSmsProvider,
    SmtpTransport,
    TwilioSmsProvider,
    parse_sender,
)
from patron.adapters.ratelimit import Bucket, RateLimiter, parse_limits
from patron.adapters.wallet_clients import HttpApnsPusher, HttpGoogleWalletClient
from patron.adapters.webhooks import HttpWebhookSender
from patron.config import Settings
from patron.domain.fingerprints import Fingerprints
from patron.services.messages import Outlets
from patron.services.ports import Clock, EmailTransport, SmsTransport, WebhookSender
from patron.services.ports.wallet import GoogleWalletClient, PassPusher
from patron.services.wallet_passes import WalletKeys
from patron.services.wallet_updates import WalletOutlets


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
    pusher: PassPusher | None = None
    google_wallet: GoogleWalletClient | None = None
    _wallet_keys: tuple[str, WalletKeys] | None = field(default=None, init=False, repr=False)

    def outlets(self) -> Outlets:
        """Where messages go: the configured transports and the base of links."""
        return Outlets(self.mailer, self.sms, self.settings.base_url())

    def wallet_keys(self) -> WalletKeys:
        """The sealing key of wallet secrets and the passes' token key, kept while the
        installation secret stays the same: they hold the wallet secrets already opened, whose
        opening costs more than a pass (``wallet_settings.OpenedSecrets``)."""
        secret = self.settings.fingerprint_key()
        if self._wallet_keys is None or self._wallet_keys[0] != secret:
            self._wallet_keys = (secret, WalletKeys.from_secret(secret))
        return self._wallet_keys[1]

    def wallet(self) -> WalletOutlets:
        """What the wallet job tells of changed passes (None: not configured)."""
        return WalletOutlets(self.wallet_keys(), self.pusher, self.google_wallet)

    def close(self) -> None:
        self.engine.dispose()
        close = getattr(self.webhooks, "close", None)
        if close is not None:
            close()
        for transport in (self.mailer, self.sms, self.pusher, self.google_wallet):
            if transport is not None:
                transport.close()


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
        mailer=email_transport(settings),
        sms=sms_transport(settings),
        pusher=HttpApnsPusher(settings.apns_url) if settings.apns_url else None,
        google_wallet=(
            HttpGoogleWalletClient(settings.google_wallet_url, token_url=settings.google_token_url)
            if settings.google_wallet_url
            else None
        ),
    )


def email_transport(settings: Settings) -> EmailTransport | None:
    """The SMTP transport of ``PATRON_SMTP_URL`` (DKIM-signing with ``PATRON_DKIM_KEY`` when
    set), or None when no SMTP server is configured. It connects on its first send."""
    if settings.smtp_url is None:
        return None
    signer = None
    if settings.dkim_key is not None:
        domain = settings.dkim_domain or parse_sender(settings.mail_from)[1].rpartition("@")[2]
        signer = DkimSigner(
            settings.dkim_key.get_secret_value(), selector=settings.dkim_selector, domain=domain
        )
    return SmtpTransport(settings.smtp_url, settings.mail_from, dkim=signer)


def sms_transport(settings: Settings) -> SmsTransport | None:
    """The SMS provider of ``PATRON_SMS_URL`` and ``PATRON_SMS_PROVIDER``, or None."""
    url = settings.sms_endpoint()
    if url is None:
        return None
    if settings.sms_provider == "twilio":
        sid, token = settings.twilio_credentials()
        # The settings checked all three; the provider refuses empty ones too.
        return TwilioSmsProvider(url, sid or "", token or "", settings.sms_from or "")
    token_secret = settings.sms_token
    return JsonSmsProvider(
        url,
        token=token_secret.get_secret_value() if token_secret is not None else None,
        sender=settings.sms_from,
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
            # Portal sign-in links asked for by email: "key" is the email here.
            "portal_sign_in": Bucket(
                per_key=parse_limits(settings.rate_limit_portal_sign_in_per_email),
                per_address=parse_limits(settings.rate_limit_portal_sign_in_per_address),
            ),
        },
        storage_uri=settings.rate_limit_storage,
        strategy=settings.rate_limit_strategy,
        enabled=settings.rate_limits_enabled,
    )
