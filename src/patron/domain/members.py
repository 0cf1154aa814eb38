"""Members: profile, identifiers, consent and status, and the rules for changing them.

Identifiers are unique per program (see ``patron.domain.identifiers`` for their canonical
forms). Consent is kept per channel as a history of grants and withdrawals, each with its time and
source; a member's current consent on a channel is the latest record.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from patron.domain.errors import BusinessRuleViolation, FieldError, ValidationFailed

MemberStatus = Literal["active", "frozen", "closed", "erased"]
SETTABLE_STATUSES: tuple[str, ...] = ("active", "frozen", "closed")
IDENTIFIER_FIELDS: tuple[str, ...] = ("external_id", "email", "phone", "card_number")


@dataclass(frozen=True, slots=True)
class Consent:
    channel: str
    granted: bool
    recorded_at: datetime
    source: str


@dataclass(slots=True)
class Member:
    id: str
    program_id: str
    external_id: str | None
    email: str | None
    email_key: str | None
    phone: str | None
    card_number: str
    referral_code: str
    first_name: str | None
    last_name: str | None
    birth_date: date | None
    status: MemberStatus
    enrolled_at: datetime
    created_at: datetime
    updated_at: datetime
    attributes: dict[str, Any] = field(default_factory=dict)
    consents: dict[str, Consent] = field(default_factory=dict)
    referred_by: str | None = None
    tier_code: str | None = None


NAME_KEY_LENGTH = 200
"""Longest name key kept (the column's width); a longer name is searched by its first 200."""


def name_key(text: str | None) -> str | None:
    """The search key of a name: case-folded, accents stripped, whitespace collapsed; None for
    no name. ``"  Grâce\tHOPPER "`` and ``"grace hopper"`` have one key.

    Compatibility decomposition (NFKD) splits accented letters into a base letter and combining
    marks, which are dropped; it is done again after case folding because folding can bring
    marks back (``"İ"`` folds to ``"i"`` with a combining dot). Letters that do not decompose
    (``"ø"``, ``"ł"``) stay as they are.
    """
    if text is None:
        return None
    key = " ".join(_bare(_bare(text).casefold()).split())[:NAME_KEY_LENGTH].rstrip()
    return key or None


def full_name_key(first_name: str | None, last_name: str | None) -> str | None:
    """The key members are sorted by: ``"first last"``, each part as ``name_key`` makes it."""
    parts = [k for k in (name_key(first_name), name_key(last_name)) if k]
    return " ".join(parts) or None


def _bare(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def check_birth_date(value: date | None, *, today: date) -> None:
    if value is not None and (value > today or value.year < 1900):
        raise ValidationFailed(
            [FieldError("birth_date", "must be a past date after 1900", "birth_date")]
        )


def ensure_changeable(member: Member) -> None:
    """Raise if ``member`` may no longer be changed (erasure is final)."""
    if member.status == "erased":
        raise BusinessRuleViolation("an erased member cannot be changed")


def check_status(new_status: str) -> None:
    """Raise unless ``new_status`` can be set through a profile update."""
    if new_status not in SETTABLE_STATUSES:
        raise ValidationFailed(
            [FieldError("status", f"must be one of {', '.join(SETTABLE_STATUSES)}", "enum")]
        )


MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_DEPTH = 5


def attributes_problem(value: Any) -> str | None:
    """Why custom attributes are too big, or None: every object or list inside holds at most
    ``MAX_ATTRIBUTES`` entries and nests at most ``MAX_ATTRIBUTE_DEPTH`` levels deep."""

    def walk(node: Any, depth: int) -> str | None:
        if not isinstance(node, dict | list):
            return None
        if depth > MAX_ATTRIBUTE_DEPTH:
            return f"nested deeper than {MAX_ATTRIBUTE_DEPTH} levels"
        if len(node) > MAX_ATTRIBUTES:
            return f"an object or list holds at most {MAX_ATTRIBUTES} entries"
        for child in node.values() if isinstance(node, dict) else node:
            found = walk(child, depth + 1)
            if found:
                return found
        return None

    return walk(value, 1)


def check_attributes(value: dict[str, Any]) -> None:
    """Raises: ValidationFailed on ``attributes`` when they are too big."""
    problem = attributes_problem(value)
    if problem:
        raise ValidationFailed([FieldError("attributes", problem, "too_long")])


def merge_attributes(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """JSON merge patch (RFC 7396) of custom attributes: a null value removes the key."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_attributes(merged[key], value)
        else:
            merged[key] = value
    return merged
