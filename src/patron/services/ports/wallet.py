"""Wallet passes: the stored settings of a program's Apple and Google passes, the devices that
registered a pass, and the clients that tell Apple and Google a pass changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from patron.services.ports.webhooks import OutboxEvent


@dataclass(frozen=True, slots=True)
class StoredWallet:
    """A program's wallet settings; ``*_sealed`` hold the secrets, sealed (never shown)."""

    program_id: str
    apple_pass_type_id: str | None
    apple_team_id: str | None
    apple_subject: str | None
    apple_expires_at: datetime | None
    apple_sealed: str | None
    google_issuer_id: str | None
    google_class_suffix: str | None
    google_client_email: str | None
    google_sealed: str | None
    updated_at: datetime
    updated_by: str


class WalletRepository(Protocol):
    def get(self, program_id: str) -> StoredWallet | None: ...
    def put(self, wallet: StoredWallet) -> None:
        """Insert or replace the program's settings."""
        ...


@dataclass(frozen=True, slots=True)
class PassDevice:
    """A device registered for a pass's updates (Apple's PassKit web service)."""

    program_id: str
    device_id: str
    pass_type_id: str
    member_id: str
    push_token: str
    created_at: datetime


class WalletPassRepository(Protocol):
    """When each member's pass last changed, and the devices that want to hear of it."""

    def register(self, device: PassDevice) -> bool:
        """Insert (True) or refresh the push token of (False) a registration; the member's pass
        gets a change time if it had none."""
        ...

    def unregister(
        self, program_id: str, device_id: str, pass_type_id: str, member_id: str
    ) -> bool: ...
    def serials(
        self, program_id: str, device_id: str, pass_type_id: str, since: datetime | None
    ) -> list[tuple[str, datetime]]:
        """(member id, change time) of the device's passes changed after ``since``."""
        ...

    def updated_at(self, program_id: str, member_id: str) -> datetime | None: ...
    def touch(self, program_id: str, member_ids: Sequence[str], now: datetime) -> list[str]:
        """Mark these members' passes changed at ``now``; returns the members that have one."""
        ...

    def push_tokens(self, program_id: str, member_ids: Sequence[str]) -> list[str]:
        """The distinct push tokens of the devices holding these members' passes."""
        ...

    def forget_tokens(self, program_id: str, push_tokens: Sequence[str]) -> int:
        """Remove the registrations of push tokens APNs says are gone."""
        ...

    def forget(self, program_id: str, member_id: str) -> int:
        """Remove the devices (identifiers, push tokens) registered for the member's pass."""
        ...

    def unhandled(self, program_id: str, limit: int) -> list[OutboxEvent]:
        """Facts the wallet job has not handled yet, oldest first (locked, skipping locked)."""
        ...

    def mark_handled(self, event_ids: Sequence[str], now: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class PushOutcome:
    accepted: int
    gone: tuple[str, ...] = ()
    """Tokens APNs answered 410 for (the pass was removed from the device): forget them."""


class PassPusher(Protocol):
    """Apple Push Notification service for Wallet passes: an empty push to a device token tells
    the device to ask the web service which of its passes changed. Pass pushes authenticate
    with the pass type's own certificate (topic = the pass type identifier)."""

    def push(
        self, tokens: Sequence[str], *, topic: str, cert_pem: str, key_pem: str
    ) -> PushOutcome:
        """Push to each token: how many APNs accepted, and the tokens it says are gone."""
        ...

    def close(self) -> None: ...


class GoogleWalletClient(Protocol):
    """The Google Wallet REST API: patch a loyalty object with the member's current values."""

    def patch_object(
        self, object_id: str, body: dict[str, Any], *, client_email: str, key_pem: str
    ) -> bool:
        """True when Google holds the object and took the change (False: never saved)."""
        ...

    def close(self) -> None: ...
