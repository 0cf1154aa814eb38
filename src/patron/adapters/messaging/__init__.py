"""The real message transports behind ``patron.services.ports.transports``.

``smtp``: ``SmtpTransport``, email over SMTP (plain, STARTTLS or implicit TLS) on one reused
connection, DKIM-signed by ``dkim.DkimSigner`` when a key is configured. ``sms``:
``JsonSmsProvider`` and ``TwilioSmsProvider``, SMS through an HTTP provider.

Adapters do not read settings (an import-linter contract): ``patron.bootstrap.email_transport``
and ``patron.bootstrap.sms_transport`` build these from ``PATRON_*`` settings, and answer None
when nothing is configured (the messages service then records ``skipped: no_transport``).
"""

from __future__ import annotations

from patron.adapters.messaging.dkim import DkimSigner
from patron.adapters.messaging.sms import JsonSmsProvider, TwilioSmsProvider
from patron.adapters.messaging.smtp import SmtpTransport, parse_sender, parse_smtp_url

__all__ = [
    "DkimSigner",
    "JsonSmsProvider",
    "SmtpTransport",
    "TwilioSmsProvider",
    "parse_sender",
    "parse_smtp_url",
]
