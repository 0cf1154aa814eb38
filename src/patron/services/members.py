"""Use cases of members: enrol, read, find, update.

Identifiers are normalised first (``patron.domain.identifiers``) and checked for uniqueness in
the same transaction as the write; the database's unique constraints are the backstop when two
enrolments race for the same identifier. Card numbers and referral codes are generated here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from patron.domain import identifiers
from patron.domain.audit import Actor
from patron.domain.dates import check_business_date
from patron.domain.errors import FieldError, IdentifierTaken, MemberNotFound, ValidationFailed
from patron.domain.ids import human_code, new_card_number, new_id
from patron.domain.members import (
    Consent,
    Member,
    check_attributes,
    check_birth_date,
    check_status,
    ensure_changeable,
    merge_attributes,
)
from patron.domain.programs import Program
from patron.services import audit, outbox
from patron.services.ports import Clock, MemberFilter, UnitOfWork
from patron.services.programs import load_config

REFERRAL_CODE_LENGTH = 8
_GENERATION_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class ConsentInput:
    granted: bool
    at: datetime | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class NewMember:
    external_id: str | None = None
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    consents: dict[str, ConsentInput] = field(default_factory=dict)
    referred_by: str | None = None
    enrolled_at: datetime | None = None


def enrol_member(
    uow: UnitOfWork, clock: Clock, actor: Actor, program: Program, cmd: NewMember
) -> Member:
    """Enrol a new member.

    Raises: ValidationFailed (bad email, phone, birth date, enrolment time or referral code),
    IdentifierTaken.
    """
    now = clock.now()
    email, email_key = _email(cmd.email)
    check_birth_date(cmd.birth_date, today=now.date())
    if cmd.enrolled_at is not None:
        check_business_date(cmd.enrolled_at, path="enrolled_at", now=now, ahead=timedelta(0))
    member = Member(
        id=new_id(),
        program_id=program.id,
        external_id=_clean(cmd.external_id),
        email=email,
        email_key=email_key,
        phone=_phone(cmd.phone, program),
        card_number=new_card_number(),
        referral_code=human_code(REFERRAL_CODE_LENGTH),
        first_name=_clean(cmd.first_name),
        last_name=_clean(cmd.last_name),
        birth_date=cmd.birth_date,
        status="active",
        enrolled_at=cmd.enrolled_at or now,
        created_at=now,
        updated_at=now,
        attributes=dict(cmd.attributes),
        referred_by=_referrer_id(uow, program, cmd.referred_by),
    )
    member = _with_free_generated_codes(uow, member)
    _refuse_taken(uow, member, exclude_id=None)
    consents = _consents(cmd.consents, now, default_source=actor.label)
    member.consents = {c.channel: c for c in consents}
    uow.members.add(member)
    uow.members.add_consents(member, consents)
    audit.record(
        uow,
        program_id=program.id,
        actor=actor,
        action="member.enrolled",
        target=("member", member.id),
        at=now,
        after=snapshot(member),
    )
    outbox.record(
        uow,
        program.id,
        now,
        "member.enrolled",
        member.id,
        {"member_id": member.id, "external_id": member.external_id},
    )
    return member


def get_member(uow: UnitOfWork, program: Program, member_id: str) -> Member:
    """Raises: MemberNotFound."""
    member = uow.members.get(program.id, member_id)
    if member is None:
        raise MemberNotFound(f"no member {member_id!r} in this program", member=member_id)
    return member


def find_members(
    uow: UnitOfWork, program: Program, where: MemberFilter, *, after: str | None, limit: int
) -> Sequence[Member]:
    return uow.members.find(program.id, where, after=after, limit=limit)


def lookup_filter(
    program: Program,
    *,
    email: str | None = None,
    phone: str | None = None,
    external_id: str | None = None,
    card_number: str | None = None,
    referral_code: str | None = None,
    tier: str | None = None,
    status: str | None = None,
) -> MemberFilter | None:
    """Turn raw lookup values into canonical ones; None when a value cannot match anybody."""
    where = MemberFilter(external_id=external_id, tier_code=tier, status=status)
    if email is not None:
        key = identifiers.email_key(email)
        if key is None:
            return None
        where = replace(where, email_key=key)
    if phone is not None:
        e164 = identifiers.phone_key(phone, region=program.country)
        if e164 is None:
            return None
        where = replace(where, phone=e164)
    if card_number is not None:
        digits = identifiers.normalize_card_number(card_number)
        if digits is None:
            return None
        where = replace(where, card_number=digits)
    if referral_code is not None:
        where = replace(where, referral_code=identifiers.normalize_referral_code(referral_code))
    return where


def update_member(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    program: Program,
    member_id: str,
    changes: Mapping[str, Any],
) -> Member:
    """Apply a partial update: only the keys present in ``changes`` are touched.

    Raises: MemberNotFound, ValidationFailed, IdentifierTaken, BusinessRuleViolation.
    """
    now = clock.now()
    current = get_member(uow, program, member_id)
    if "status" in changes and changes["status"] != current.status:
        lock_member_balances(uow, program, current.id)
        current = get_member(uow, program, member_id)  # as of the lock
    ensure_changeable(current)
    updated = replace(current, updated_at=now, consents=dict(current.consents))
    for name in ("first_name", "last_name", "external_id"):
        if name in changes:
            setattr(updated, name, _clean(changes[name]))
    if "email" in changes:
        updated.email, updated.email_key = _email(changes["email"])
    if "phone" in changes:
        updated.phone = _phone(changes["phone"], program)
    if "birth_date" in changes:
        check_birth_date(changes["birth_date"], today=now.date())
        updated.birth_date = changes["birth_date"]
    if "attributes" in changes:
        updated.attributes = merge_attributes(current.attributes, changes["attributes"] or {})
        check_attributes(updated.attributes)  # the merged whole stays within the caps too
    if "status" in changes:
        check_status(changes["status"])
        updated.status = changes["status"]
    new_consents = _consents(changes.get("consents") or {}, now, default_source=actor.label)
    updated.consents.update({c.channel: c for c in new_consents})
    _refuse_taken(uow, updated, exclude_id=current.id)
    before, after = snapshot(current), snapshot(updated)
    changed = {k for k in after if before.get(k) != after.get(k)}
    if not changed:
        return current
    uow.members.update(updated)
    uow.members.add_consents(updated, new_consents)
    if current.status == "active" and updated.status != "active":
        uow.portal.end_member(program.id, current.id, now)  # no portal for a frozen member
    audit.record(
        uow,
        program_id=program.id,
        actor=actor,
        action="member.updated",
        target=("member", current.id),
        at=now,
        before={k: before[k] for k in sorted(changed)},
        after={k: after[k] for k in sorted(changed)},
    )
    outbox.record(
        uow,
        program.id,
        now,
        "member.updated",
        current.id,
        {"member_id": current.id, "changed": sorted(changed)},
    )
    return updated


def lock_member_balances(uow: UnitOfWork, program: Program, member_id: str) -> None:
    """Take the locks every debit of the member takes, before its status changes.

    A debit locks the member's balance row first and reads the status after, so once a freeze
    holds these rows, a debit either committed before the freeze could lock them or waits for
    the freeze to commit and then sees ``frozen``: no debit commits after a freeze. The rows are
    every wallet of the configuration plus any the member still holds from an older one
    (missing rows are created, as a debit would); the order is the ledger's, so no deadlock.
    """
    wallets = set(load_config(uow, program).wallets)
    wallets |= {b.wallet for b in uow.ledger.balances(program.id, [member_id])}
    uow.ledger.lock_balances(program.id, [(member_id, wallet) for wallet in wallets])


def snapshot(member: Member) -> dict[str, Any]:
    """The member's profile as JSON-able data, for the audit trail."""
    return {
        "external_id": member.external_id,
        "email": member.email,
        "phone": member.phone,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "birth_date": member.birth_date.isoformat() if member.birth_date else None,
        "status": member.status,
        "attributes": member.attributes,
        "consents": {c.channel: c.granted for c in member.consents.values()},
    }


def identifiers_of(program: Program, cmd: NewMember) -> list[tuple[str, str]]:
    """The identifiers (column, normalised value) enrolling ``cmd`` checks for uniqueness, as
    ``enrol_member`` normalises them; one that does not normalise is left out (the enrolment
    refuses it). Card numbers and referral codes are generated, so not known beforehand."""
    found: list[tuple[str, str]] = []
    if (external_id := _clean(cmd.external_id)) is not None:
        found.append(("external_id", external_id))
    try:
        if (email_key := _email(cmd.email)[1]) is not None:
            found.append(("email_key", email_key))
        if (phone := _phone(cmd.phone, program)) is not None:
            found.append(("phone", phone))
    except ValidationFailed:
        pass
    return found


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


def _email(value: str | None) -> tuple[str | None, str | None]:
    if value is None or not value.strip():
        return None, None
    return identifiers.normalize_email(value)


def _phone(value: str | None, program: Program) -> str | None:
    if value is None or not value.strip():
        return None
    return identifiers.normalize_phone(value, region=program.country)


def _referrer_id(uow: UnitOfWork, program: Program, code: str | None) -> str | None:
    if code is None:
        return None
    where = MemberFilter(referral_code=identifiers.normalize_referral_code(code))
    found = uow.members.find(program.id, where, after=None, limit=1)
    if not found:
        raise ValidationFailed(
            [FieldError("referred_by", "no member has this referral code", "unknown_reference")]
        )
    return found[0].id


def _with_free_generated_codes(uow: UnitOfWork, member: Member) -> Member:
    for _ in range(_GENERATION_ATTEMPTS):
        taken = uow.members.taken_identifiers(member.program_id, member, exclude_id=None)
        if "card_number" not in taken and "referral_code" not in taken:
            return member
        member = replace(
            member, card_number=new_card_number(), referral_code=human_code(REFERRAL_CODE_LENGTH)
        )
    raise IdentifierTaken("could not generate a free card number; try again")  # pragma: no cover


def _refuse_taken(uow: UnitOfWork, member: Member, *, exclude_id: str | None) -> None:
    taken = uow.members.taken_identifiers(member.program_id, member, exclude_id=exclude_id)
    if taken:
        raise IdentifierTaken(f"already used by another member: {', '.join(taken)}", fields=taken)


def _consents(
    given: Mapping[str, ConsentInput], now: datetime, *, default_source: str
) -> list[Consent]:
    errors = [
        FieldError(f"consents.{channel}", "may not be in the future", "future")
        for channel, c in given.items()
        if c.at is not None and c.at > now
    ]
    if errors:
        raise ValidationFailed(errors)
    return [
        Consent(
            channel=channel,
            granted=c.granted,
            recorded_at=c.at or now,
            source=c.source or default_source,
        )
        for channel, c in given.items()
    ]
