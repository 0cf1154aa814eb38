"""Settings of a Patron process, read from ``PATRON_*`` environment variables.

Only the composition root (``patron.bootstrap``) and the entrypoints (API, CLI) read settings;
everything below receives plain values.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    def wants_auto_upgrade(self) -> bool:
        if self.auto_upgrade is not None:
            return self.auto_upgrade
        return self.database_url.startswith("sqlite")
