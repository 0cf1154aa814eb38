"""Wallet passes: the stored settings of a program's Apple and Google passes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


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
