"""Privacy: what counts as a member's personal data, how copies of it are redacted, and the
tombstone an erasure leaves behind.

Personal data is the profile (names, email, phone, birth date, attributes), the identifiers
(external id, card number, referral code) and the consent records. Copies of some of it live
in stored documents: the purchase request that named the member by email, the audit trail's
before/after snapshots, the payloads of outbox facts. :func:`redact` removes those copies from
any JSON document by value, so it needs no knowledge of each document's shape:

- a string equal to one of the values (emails and identifiers compared case-insensitively)
  becomes ``null``;
- a longer string that contains one (a free-text reason naming the member) gets each occurrence
  replaced by ``[erased]``; names only as whole words, so "Ada" does not maim "Adam";
- a member profile snapshot (the audit trail's) keeps its keys but not their values
  (:func:`redact_profile`), so attributes and consents leave with the rest.

The tombstone is a set of keyed digests (HMAC-SHA256 with a per-program secret) of the
normalised email, phone and external id: enough to recognise the same person in a later import,
not enough to read them back, and different in every program.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from patron.domain.members import Member

ERASED_TEXT = "[erased]"
PROFILE_FIELDS = frozenset(
    {
        "external_id",
        "email",
        "phone",
        "first_name",
        "last_name",
        "birth_date",
        "attributes",
        "consents",
        "card_number",
        "referral_code",
    }
)
"""Keys of a member snapshot that hold personal data (``status`` is the only one kept)."""

DigestKind = Literal["email", "phone", "external_id"]


@dataclass(frozen=True, slots=True)
class PersonalValues:
    """The values of one member that must not survive its erasure."""

    identifiers: tuple[str, ...]  # emails, phone, external id, card, referral code
    names: tuple[str, ...]  # first and last name, matched as whole words
    dates: tuple[str, ...]  # the birth date, ISO

    @classmethod
    def of(cls, member: Member) -> PersonalValues:
        identifiers = [
            v
            for v in (
                member.email,
                member.email_key,
                member.phone,
                member.external_id,
                member.card_number,
                member.referral_code,
            )
            if v
        ]
        names = [n for n in (member.first_name, member.last_name) if n]
        if member.first_name and member.last_name:
            names.insert(0, f"{member.first_name} {member.last_name}")
        dates = (member.birth_date.isoformat(),) if member.birth_date else ()
        return cls(tuple(dict.fromkeys(identifiers)), tuple(dict.fromkeys(names)), dates)

    @property
    def needles(self) -> tuple[str, ...]:
        """Values distinctive enough to search stored documents for (not names or dates)."""
        return tuple(v for v in self.identifiers if len(v) >= 4)


def redact(doc: Any, values: PersonalValues) -> Any:
    """``doc`` without any copy of ``values`` (see the module docstring)."""
    if isinstance(doc, dict):
        return {key: redact(value, values) for key, value in doc.items()}
    if isinstance(doc, list):
        return [redact(item, values) for item in doc]
    if isinstance(doc, str):
        return _redact_text(doc, values)
    return doc


def redact_profile(snapshot: dict[str, Any] | None, values: PersonalValues) -> Any:
    """A member snapshot with every personal field emptied, the rest redacted by value."""
    if snapshot is None:
        return None
    return {
        key: None if key in PROFILE_FIELDS else redact(value, values)
        for key, value in snapshot.items()
    }


def _redact_text(text: str, values: PersonalValues) -> str | None:
    folded = text.casefold()
    whole = {v.casefold() for v in (*values.identifiers, *values.dates)}
    if folded in whole or text in values.names:
        return None
    for value in sorted(values.identifiers + values.dates, key=len, reverse=True):
        if len(value) >= 4:
            text = re.sub(re.escape(value), ERASED_TEXT, text, flags=re.IGNORECASE)
    for name in sorted(values.names, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", ERASED_TEXT, text)
    return text


def digest(secret: str, kind: DigestKind, value: str) -> str:
    """The keyed digest of one normalised identifier."""
    return hmac.new(secret.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def digests(secret: str, pairs: Iterable[tuple[DigestKind, str | None]]) -> dict[str, str]:
    return {kind: digest(secret, kind, value) for kind, value in pairs if value}
