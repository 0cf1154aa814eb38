"""The ledger's rows and domain values, each way: entries and lots as the tables hold them.

Shared by the repository's writes (``ledger.py``) and reads (``ledger_reads.py``); balance rows
are read by ``ledger_lapse.balance_of``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Row

from patron.domain.ledger import Entry, Lot


def entry_row(e: Entry) -> dict[str, Any]:
    return {
        "id": e.id,
        "program_id": e.program_id,
        "member_id": e.member_id,
        "wallet": e.wallet,
        "type": e.type,
        "amount": e.amount,
        "status": e.status,
        "occurred_at": e.occurred_at,
        "recorded_at": e.recorded_at,
        "reference": e.reference,
        "key": e.key,
        "reverses": e.reverses,
        "reason": e.reason,
        "actor": e.actor,
        "config_version": e.config_version,
        "explanation": list(e.explanation) if e.explanation else None,
    }


def entry_of(row: Row[Any]) -> Entry:
    return Entry(
        id=row.id,
        program_id=row.program_id,
        member_id=row.member_id,
        wallet=row.wallet,
        type=row.type,
        amount=row.amount,
        status=row.status,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        postings=(),
        reference=row.reference,
        key=row.key,
        reverses=row.reverses,
        reason=row.reason,
        actor=row.actor,
        config_version=row.config_version,
        explanation=tuple(row.explanation or ()),
    )


def lot_row(program_id: str, lot: Lot) -> dict[str, Any]:
    return {
        "id": lot.id,
        "program_id": program_id,
        "member_id": lot.member_id,
        "wallet": lot.wallet,
        "entry_id": lot.entry_id,
        "amount": lot.amount,
        "remaining": lot.remaining,
        "earned_at": lot.earned_at,
        "available_at": lot.available_at,
        "expires_at": lot.expires_at,
        "pending": lot.pending,
    }


def lot_of(row: Row[Any]) -> Lot:
    return Lot(
        id=row.id,
        member_id=row.member_id,
        wallet=row.wallet,
        entry_id=row.entry_id,
        amount=row.amount,
        remaining=row.remaining,
        earned_at=row.earned_at,
        available_at=row.available_at,
        expires_at=row.expires_at,
        pending=row.pending,
    )
