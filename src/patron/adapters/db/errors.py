"""Translation of database errors into domain errors and retry signals.

Nothing from the driver leaks past the unit of work: unique violations become the domain's
conflicts (by constraint), deadlocks, serialization failures, lock time-outs and lost
connections become ``RetryableError`` (the transaction runner re-runs the use case).
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from patron.domain.errors import (
    Conflict,
    DuplicateSlug,
    IdentifierTaken,
    PatronError,
    RewardCodeTaken,
)
from patron.services.ports import RetryableError

# SQLSTATE classes/codes that mean "the transaction did not happen, run it again".
_RETRYABLE_SQLSTATES = ("40001", "40P01", "55P03", "57P01", "57P02", "57P03")
_MEMBER_IDENTIFIERS = ("external_id", "email_key", "phone", "card_number", "referral_code")


def translate(error: sa_exc.DBAPIError) -> Exception:
    """The domain error (or RetryableError) that ``error`` stands for; ``error`` if none."""
    orig = error.orig
    sqlstate = getattr(orig, "sqlstate", None) or ""
    message = str(orig)
    if sqlstate in _RETRYABLE_SQLSTATES or sqlstate.startswith("08"):
        return RetryableError(message)
    if error.connection_invalidated:
        return RetryableError(message)
    if isinstance(error, sa_exc.OperationalError) and "database is locked" in message:
        return RetryableError(message)
    if isinstance(error, sa_exc.IntegrityError):
        return _integrity(message, _constraint_name(orig))
    return error


_BUSINESS_KEYS = (
    "uq_purchases_program_id_external_id",
    "purchases.program_id, purchases.external_id",
    "uq_ledger_entries_program_id_key",
    "ledger_entries.program_id, ledger_entries.key",
    "uq_activity_events_program_id_external_id",
    "activity_events.program_id, activity_events.external_id",
    "uq_refunds_program_id_external_id",
    "refunds.program_id, refunds.external_id",
    "uq_grants_program_id_external_id",
    "grants.program_id, grants.external_id",
)


def _constraint_name(orig: object) -> str:
    diag = getattr(orig, "diag", None)
    return (getattr(diag, "constraint_name", None) or "") if diag else ""


def _integrity(message: str, constraint: str) -> PatronError | Exception:
    text = constraint or message
    if any(key in text for key in _BUSINESS_KEYS):
        # Two requests with one business key raced past the check; run the loser again and it
        # finds the winner's row and replays (or reports a conflict) like any later resend.
        return RetryableError(message)
    if "segments" in text and "code" in text:
        return Conflict("a segment with this code already exists in this program")
    if "rewards" in text and "code" in text:
        return RewardCodeTaken("a reward with this code already exists in this program")
    if "programs" in text and "slug" in text:
        return DuplicateSlug("a program with this slug already exists")
    if "members" in text:
        taken = [name for name in _MEMBER_IDENTIFIERS if name in text]
        if taken:
            fields = ["email" if n == "email_key" else n for n in taken]
            return IdentifierTaken(
                f"already used by another member: {', '.join(fields)}", fields=fields
            )
    if "UNIQUE" in message or "unique" in message or "duplicate key" in message:
        return Conflict("the object already exists")
    # A check or foreign-key refusal: the database defending an invariant the code missed.
    return Conflict(f"refused by a storage invariant ({constraint or 'integrity'})")
