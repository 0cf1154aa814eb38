"""Ports of the message transports: email over SMTP and SMS through an HTTP provider.

A transport sends a batch and answers one ``Delivery`` per message, in order, never raising for
a single message's failure: ``sent`` (accepted by the server or provider), ``retry`` (a
transient failure: connection lost, timeout, SMTP 4xx, HTTP 429 or 5xx) or ``failed`` (a
permanent one: SMTP 5xx, HTTP 4xx, an address the server refuses). The messages service decides
what to do with each answer; a transport keeps no state about messages beyond its connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    message_id: str
    """Patron's message id; the transport derives the ``Message-ID`` header from it."""
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    """Extra headers, e.g. ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` (DKIM-signed
    when a key is configured)."""
    sender_name: str | None = None
    """Display name in ``From`` (the program's name); the address is the configured sender."""


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    message_id: str
    to: str
    """E.164 phone number."""
    text: str


@dataclass(frozen=True, slots=True)
class Delivery:
    status: Literal["sent", "retry", "failed"]
    detail: str | None = None
    """The server's or provider's words: an error, or the provider's message id when sent."""


class EmailTransport(Protocol):
    def send(self, emails: Sequence[OutgoingEmail]) -> list[Delivery]: ...
    def close(self) -> None: ...


class TransportUnavailable(Exception):
    """The transport cannot reach its server now (connect, TLS or login failed): the rest of
    the batch is not tried; each of its messages is answered ``retry``."""


class PendingEmail(Protocol):
    """An email handed to the server up to its last step: the server holds the whole message
    and has not accepted it yet. Exactly one of ``finish`` and ``abandon`` is called."""

    def finish(self) -> Delivery:
        """The last step: the server accepts (``sent``) or refuses the message."""
        ...

    def abandon(self) -> None:
        """Give the message up: the server never accepts it."""
        ...


@runtime_checkable
class PipelinedEmailTransport(EmailTransport, Protocol):
    """An email transport that sends in two steps, so that the worker can hand the next message
    to the server while the previous result is being recorded, and let the server accept it only
    once that record has committed (``patron.services.messages``)."""

    def prepare(self, email: OutgoingEmail) -> Delivery | PendingEmail:
        """Everything up to the server's acceptance; a ``Delivery`` when it is already decided
        (a refused sender or recipient, a message that cannot be built).

        Raises: TransportUnavailable. A transport holds its connection for the pending email
        until ``finish`` or ``abandon``: one pending email at a time."""
        ...


class SmsTransport(Protocol):
    def send(self, messages: Sequence[OutgoingSms]) -> list[Delivery]: ...
    def close(self) -> None: ...
