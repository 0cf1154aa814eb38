"""The messaging settings (PATRON_SMTP_URL, PATRON_MAIL_FROM, PATRON_SMS_*, PATRON_DKIM_*) and
the transports the composition root builds from them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from patron.adapters.messaging import JsonSmsProvider, SmtpTransport, TwilioSmsProvider
from patron.bootstrap import build, email_transport, sms_transport
from patron.config import Settings
from patron.services.ports.transports import OutgoingEmail
from tests.adapters.smtp_support import smtp_server


def test_nothing_configured_means_no_transports() -> None:
    settings = Settings()
    assert settings.smtp_url is None
    assert settings.sms_url is None
    assert settings.messages_interval_seconds == 5
    assert email_transport(settings) is None
    assert sms_transport(settings) is None


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("smtp_url", "http://mail.example.com", "smtp://, smtp\\+starttls:// or smtps://"),
        ("smtp_url", "smtp://mail.example.com?verify=nope", "unknown SMTP URL option"),
        ("mail_from", "Patron", "not an email address"),
        ("mail_from", "Patron <loyalty at example.com>", "not an email address"),
        ("sms_url", "sms.example.com/send", "PATRON_SMS_URL must be an http"),
        ("messages_interval_seconds", 0, "greater than 0"),
    ],
)
def test_bad_settings_say_what_is_wrong(field: str, value: object, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        Settings(**{field: value})


def test_twilio_credentials_from_settings_or_from_the_url() -> None:
    with pytest.raises(ValidationError, match="PATRON_TWILIO_ACCOUNT_SID"):
        Settings(sms_url="https://api.twilio.com/x", sms_provider="twilio", sms_from="+1500")
    url = "https://AC42:s%40cret@api.twilio.com/2010-04-01/Accounts/AC42/Messages.json"
    settings = Settings(sms_url=url, sms_provider="twilio", sms_from="+15005550006")
    assert settings.twilio_credentials() == ("AC42", "s@cret")
    assert settings.sms_endpoint() == (
        "https://api.twilio.com/2010-04-01/Accounts/AC42/Messages.json"
    )
    transport = sms_transport(settings)
    assert isinstance(transport, TwilioSmsProvider)
    assert transport.url == settings.sms_endpoint()
    transport.close()
    explicit = Settings(
        sms_url="https://api.twilio.com/2010-04-01/Accounts/AC7/Messages.json",
        sms_provider="twilio",
        sms_from="+15005550006",
        twilio_account_sid="AC7",
        twilio_auth_token="tok",
    )
    assert explicit.twilio_credentials() == ("AC7", "tok")


def test_json_provider_from_settings() -> None:
    settings = Settings(sms_url="https://sms.example.com/send", sms_token="t", sms_from="Patron")
    transport = sms_transport(settings)
    assert isinstance(transport, JsonSmsProvider)
    assert (transport.token, transport.sender) == ("t", "Patron")
    transport.close()


def test_dkim_domain_defaults_to_the_senders(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    settings = Settings(
        smtp_url="smtp+starttls://u:p@mail.example.com",
        mail_from="Shop <news@shop.example>",
        dkim_key=str(path),
    )
    transport = email_transport(settings)
    assert isinstance(transport, SmtpTransport)
    assert transport.dkim is not None
    assert (transport.dkim.selector, transport.dkim.domain) == ("patron", "shop.example")
    other = email_transport(settings.model_copy(update={"dkim_domain": "example.net"}))
    assert isinstance(other, SmtpTransport)
    assert other.dkim is not None
    assert other.dkim.domain == "example.net"


def test_the_container_holds_the_transports_and_closes_them(
    sqlite_template: Path, tmp_path: Path
) -> None:
    database = tmp_path / "patron.db"
    shutil.copy(sqlite_template, database)
    with smtp_server() as server:
        container = build(
            Settings(
                database_url=f"sqlite:///{database}",
                auto_upgrade=False,
                smtp_url=f"smtp://127.0.0.1:{server.port}",
                sms_url="http://127.0.0.1:9/sms",
            )
        )
        assert isinstance(container.mailer, SmtpTransport)
        assert isinstance(container.sms, JsonSmsProvider)
        email = OutgoingEmail(message_id="m1", to="a@example.org", subject="s", text="t")
        assert container.mailer.send([email])[0].status == "sent"
        container.close()
        assert container.mailer._connection is None  # QUIT sent
    assert len(server.recorder.received) == 1
