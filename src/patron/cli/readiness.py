"""Is the database ready for a command: does it answer, and is its schema migrated to this
Patron's latest revision? (``patron.adapters.db.migrate.schema_state``.) The ``patron`` app asks
before every command but ``patron db ...`` and says what is wrong in one line."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from patron.adapters.db import migrate
from patron.adapters.db.engine import make_engine

EXIT_NOT_READY = 8
"""The exit code when the database does not answer or its schema is not migrated."""
NO_SCHEMA_NEEDED = frozenset({"db", "mailbox"})
"""Commands that work on a database without Patron's schema."""


def schema_problem(url: str) -> str | None:
    """What keeps the database at ``url`` from being used, in one line; None when it is ready."""
    engine = make_engine(url, pool_size=1)
    try:
        state = migrate.schema_state(engine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return f"cannot reach the database: {reason}"
    finally:
        engine.dispose()
    return None if state.ready else state.message
