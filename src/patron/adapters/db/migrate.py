"""Running Alembic migrations from inside Patron (``patron db upgrade``, embedded start, tests),
and telling whether a database's schema is the one this Patron needs.

The migration scripts ship inside the package (``patron/adapters/db/migrations``), so an
installed Patron can upgrade its database without a source checkout.

:func:`schema_state` is what the health check, the CLI and the job loop ask before they touch the
tables: a database that was never migrated, or is behind the latest migration, or is at a
revision this Patron does not know (migrated by a newer one), is not ready, and
:attr:`SchemaState.message` says so in one line with what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from sqlalchemy.engine import Engine

from patron.adapters.db.engine import sqlalchemy_url
from patron.domain.fingerprints import DEVELOPMENT_SECRET

MIGRATIONS = Path(__file__).with_name("migrations")
UPGRADE_HINT = "run `patron db upgrade`"


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


@cache
def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


@dataclass(frozen=True, slots=True)
class SchemaState:
    current: str | None
    """The database's revision; ``None`` when it was never migrated."""
    head: str
    """The latest revision this Patron ships."""
    missing: tuple[str, ...]
    """Revisions still to apply, oldest first (empty when current is head or unknown)."""

    @property
    def ready(self) -> bool:
        return self.current == self.head

    @property
    def known(self) -> bool:
        return self.current is None or self.current == self.head or bool(self.missing)

    @property
    def message(self) -> str:
        if self.ready:
            return f"the database schema is at revision {self.head}"
        if self.current is None:
            return f"the database has no Patron schema yet: {UPGRADE_HINT}"
        if not self.known:
            return (
                f"the database schema is at revision {self.current}, which this Patron does not "
                f"know (it needs {self.head}; was the database migrated by a newer Patron?)"
            )
        return (
            f"the database schema is at revision {self.current}, Patron needs {self.head} "
            f"({len(self.missing)} migration(s) missing): {UPGRADE_HINT}"
        )


def schema_state(engine: Engine) -> SchemaState:
    """The schema's state. Raises SQLAlchemy's errors when the database cannot be reached."""
    scripts = _scripts()
    head = scripts.get_current_head()
    assert head is not None
    current = current_revision(engine)
    if current == head:
        return SchemaState(current, head, ())
    try:
        steps = scripts.iterate_revisions(head, current or "base")
        missing = tuple(reversed([step.revision for step in steps]))
    except (RevisionError, CommandError):  # a revision of another (newer) Patron
        missing = ()
    return SchemaState(current, head, missing)
