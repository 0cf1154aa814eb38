"""Running Alembic migrations from inside Patron (``patron db upgrade``, embedded start, tests).

The migration scripts ship inside the package (``patron/adapters/db/migrations``), so an
installed Patron can upgrade its database without a source checkout.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from patron.adapters.db.engine import sqlalchemy_url
from patron.domain.fingerprints import DEVELOPMENT_SECRET

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head", *, fingerprint_secret: str | None = None) -> None:
    """Upgrade to ``revision``. ``fingerprint_secret`` is the server's ``PATRON_FINGERPRINT_SECRET``
    (the development one when not given): migration 0020 keys the stored fingerprints with it."""
    config = alembic_config(url)
    config.attributes["fingerprint_secret"] = fingerprint_secret or DEVELOPMENT_SECRET
    command.upgrade(config, revision)


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
