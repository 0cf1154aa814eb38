"""Settings of a Patron process, read from ``PATRON_*`` environment variables.

Only the composition root (``patron.bootstrap``) and the entrypoints (API, CLI) read settings;
everything below receives plain values.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from limits import parse_many
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from patron.domain.fingerprints import DEVELOPMENT_SECRET


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PATRON_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///patron.db",
        description="sqlite:///path or postgresql://user@host:port/db",
    )
    environment: Literal["development", "production", "test"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    pool_size: int = Field(default=10, ge=1, le=200)
    auto_upgrade: bool | None = Field(
        default=None,
        description="Run migrations on start; defaults to on for SQLite, off for PostgreSQL.",
    )

    run_jobs: bool = Field(
        default=True,
        description="`patron serve` runs the scheduled jobs in-process; turn off when `patron "
        "worker` processes run them.",
    )
    jobs_interval_seconds: float = Field(default=60, gt=0, le=86_400)
    webhooks_interval_seconds: float = Field(
        default=2,
        gt=0,
        le=3_600,
        description="How often a job loop sends due webhooks between full job runs.",
    )
    webhooks_allow_private_targets: bool = Field(
        default=False,
        description="Allow webhook URLs on loopback and private networks (development only: "
        "in production this would let a webhook reach internal services).",
    )

    # Abuse limits (docs/api.md, "Limits"). Rate limits are in `limits` notation, several joined
    # by ";" ("60/minute;1000/hour"); "none" turns one off.
    rate_limits_enabled: bool = Field(
        default=True, description="Turn every rate limit off (load tests, trusted networks)."
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where the counters live, as a `limits` storage URI: memory:// (this "
        "process) or a shared store such as redis://127.0.0.1:6379 for several API processes.",
    )
    rate_limit_strategy: Literal["moving-window", "fixed-window"] = "moving-window"
    rate_limit_vouchers_per_key: str = Field(
        default="60/minute;1000/hour",
        description="Voucher lookups and uses (GET .../vouchers/{code}, POST .../use) per API key.",
    )
    rate_limit_vouchers_per_address: str = Field(
        default="120/minute;2000/hour", description="The same, per client address."
    )
    rate_limit_member_lookups_per_key: str = Field(
        default="120/minute;3000/hour",
        description="Member lookups by identifier (email, phone, external id, card number, "
        "referral code) per API key; writes that name a member by identifier count when the "
        "member is not found.",
    )
    rate_limit_member_lookups_per_address: str = Field(
        default="240/minute;6000/hour", description="The same, per client address."
    )
    rate_limit_auth_failures_per_address: str = Field(
        default="30/minute;300/hour",
        description="Requests with an unknown, revoked or malformed API key per client address; "
        "past it every request from that address is refused until the window has room.",
    )
    rate_limit_staff_sign_in_per_account: str = Field(
        default="5/minute;20/hour",
        description="Failed console sign-ins (wrong password or code) per staff email.",
    )
    rate_limit_staff_sign_in_per_address: str = Field(
        default="20/minute;100/hour",
        description="Failed console sign-ins per client address.",
    )
    rate_limit_portal_sign_in_per_email: str = Field(
        default="3/minute;10/hour",
        description="Portal sign-in links asked for by email, per email address.",
    )
    rate_limit_portal_sign_in_per_address: str = Field(
        default="10/minute;50/hour",
        description="Portal sign-in links asked for by email, per client address.",
    )

    # The console (docs/console.md).
    public_url: str = Field(
        default="",
        description="The base URL people reach Patron at (links printed by the CLI and sent "
        "in messages); default http://HOST:PORT.",
    )
    console_session_hours: float = Field(
        default=12, gt=0, le=24 * 30, description="A console session ends this long after sign-in."
    )
    console_idle_minutes: float = Field(
        default=120, gt=0, le=24 * 60, description="A console session unused this long ends."
    )
    secure_cookies: bool | None = Field(
        default=None,
        description="Mark console cookies Secure (HTTPS only); default: on when public_url is "
        "https or the environment is production.",
    )

    # Messages (docs/messages.md): email over SMTP, SMS through an HTTP provider.
    smtp_url: str | None = Field(
        default=None,
        description="Where email goes: smtp://[user:pass@]host[:port] (plain, port 25), "
        "smtp+starttls://... (STARTTLS required, port 587) or smtps://... (TLS, port 465); "
        "?verify=false skips the certificate check (development only). Unset: no email is sent.",
    )
    mail_from: str = Field(
        default="Patron <patron@localhost>",
        description="The sender of email, `Name <address>` or `address`; a message's program "
        "name replaces the display name.",
    )
    sms_url: str | None = Field(
        default=None,
        description="The SMS provider's endpoint (http:// or https://). Unset: no SMS is sent.",
    )
    apns_url: str | None = Field(
        default=None,
        description="Wallet passes (docs/wallet.md): Apple's push service for pass updates, "
        "https://api.push.apple.com (over HTTP/2). Unset: no pushes; devices still "
        "fetch changed passes when they refresh.",
    )
    google_wallet_url: str | None = Field(
        default=None,
        description="Wallet passes: the Google Wallet REST API whose loyalty objects are patched "
        "on a change, https://walletobjects.googleapis.com/walletobjects/v1. Unset: no patches.",
    )
    google_token_url: str = Field(
        default="https://oauth2.googleapis.com/token",
        description="Wallet passes: where a service account's signed JWT is traded for a token.",
    )
    sms_provider: Literal["json", "twilio"] = Field(
        default="json",
        description="json: POST {id, to, from, text} as JSON with a Bearer token; twilio: "
        "POST the form fields To, From, Body with basic authentication (Twilio's Messages.json).",
    )
    sms_token: SecretStr | None = Field(
        default=None, description="json provider: the Bearer token, if it wants one."
    )
    sms_from: str | None = Field(
        default=None,
        description="The SMS sender: a phone number in E.164 or an alphanumeric sender id "
        "(required by the twilio provider).",
    )
    twilio_account_sid: str | None = Field(
        default=None,
        description="twilio provider: the account SID (or give it as the user of PATRON_SMS_URL).",
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None,
        description="twilio provider: the auth token (or give it as the password of "
        "PATRON_SMS_URL).",
    )
    dkim_key: SecretStr | None = Field(
        default=None,
        description="DKIM private key (RSA or Ed25519), as PEM text or the path of a PEM file; "
        "email is signed when it is set.",
    )
    dkim_selector: str = Field(
        default="patron",
        description="The DKIM selector: the key is published at SELECTOR._domainkey.DOMAIN.",
    )
    dkim_domain: str | None = Field(
        default=None, description="The DKIM signing domain; default: PATRON_MAIL_FROM's domain."
    )
    messages_interval_seconds: float = Field(
        default=5,
        gt=0,
        le=3_600,
        description="How often a job loop sends due messages between full job runs.",
    )

    fingerprint_secret: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="The key of the stored request fingerprints (HMAC-SHA256; docs/security.md, "
        '"Request fingerprints"): at least 32 characters, e.g. `openssl rand -hex 32`, kept '
        "out of the database and never changed. Required when PATRON_ENVIRONMENT=production; "
        "elsewhere a public development value stands in.",
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1_024,
        le=1_073_741_824,
        description="Largest request body accepted (413 payload_too_large beyond).",
    )

    @field_validator(
        "rate_limit_vouchers_per_key",
        "rate_limit_vouchers_per_address",
        "rate_limit_member_lookups_per_key",
        "rate_limit_member_lookups_per_address",
        "rate_limit_auth_failures_per_address",
        "rate_limit_staff_sign_in_per_account",
        "rate_limit_staff_sign_in_per_address",
        "rate_limit_portal_sign_in_per_email",
        "rate_limit_portal_sign_in_per_address",
    )
    @classmethod
    def _limits_notation(cls, value: str) -> str:
        if value.strip().lower() not in ("", "none", "off"):
            parse_many(value)  # ValueError: "couldn't parse rate limit string ..."
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        from patron.adapters.messaging.smtp import parse_smtp_url

        parse_smtp_url(value)  # ValueError: what is wrong with it
        return value

    @field_validator("mail_from")
    @classmethod
    def _mail_from(cls, value: str) -> str:
        from patron.adapters.messaging.smtp import parse_sender

        parse_sender(value)
        return value

    @field_validator("sms_url")
    @classmethod
    def _sms_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        from patron.adapters.messaging.sms import check_http_url

        return check_http_url(value, "PATRON_SMS_URL")

    @model_validator(mode="after")
    def _sms_provider_complete(self) -> Settings:
        if self.sms_url is None or self.sms_provider != "twilio":
            return self
        sid, token = self.twilio_credentials()
        if not sid or not token or not self.sms_from:
            raise ValueError(
                "the twilio SMS provider needs PATRON_TWILIO_ACCOUNT_SID, "
                "PATRON_TWILIO_AUTH_TOKEN (or https://SID:TOKEN@... in PATRON_SMS_URL) and "
                "PATRON_SMS_FROM"
            )
        return self

    @model_validator(mode="after")
    def _production_has_its_secrets(self) -> Settings:
        if self.environment == "production" and self.fingerprint_secret is None:
            raise ValueError(
                "PATRON_FINGERPRINT_SECRET must be set in production "
                "(at least 32 characters, e.g. the output of `openssl rand -hex 32`)"
            )
        return self

    def fingerprint_key(self) -> str:
        """The secret of request fingerprints (the public development one when unset)."""
        if self.fingerprint_secret is None:
            return DEVELOPMENT_SECRET
        return self.fingerprint_secret.get_secret_value()

    def twilio_credentials(self) -> tuple[str | None, str | None]:
        """Account SID and auth token: the settings, else the user and password of the URL."""
        sid, token = self.twilio_account_sid, self.twilio_auth_token
        parts = urlsplit(self.sms_url or "")
        return (
            sid or (unquote(parts.username) if parts.username else None),
            token.get_secret_value()
            if token is not None
            else (unquote(parts.password) if parts.password else None),
        )

    def sms_endpoint(self) -> str | None:
        """PATRON_SMS_URL without its user and password (they go in a header)."""
        if self.sms_url is None:
            return None
        parts = urlsplit(self.sms_url)
        netloc = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=netloc))

    def base_url(self) -> str:
        """Where people reach this installation (no trailing slash)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def cookies_secure(self) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.base_url().startswith("https://") or self.environment == "production"

    def wants_auto_upgrade(self) -> bool:
        if self.auto_upgrade is not None:
            return self.auto_upgrade
        return self.database_url.startswith("sqlite")
