"""Privacy use cases (SPEC §8): export everything held about a member, erase a member.

**Export** reads, in one transaction, every row Patron keeps about the member: profile and
consent history, identifiers, the ledger (entries with postings and explanations, lots,
balances), purchases with their refunds, activity events, redemptions and vouchers, referrals on
both sides (the other member by id only), the tier and its history, and the audit trail of the
member's profile. Nothing is read through another member, so nothing of anyone else can leak in.

**Erase** is one transaction: claim the member row (status ``erased``; a second erasure finds
it claimed and changes nothing), close every balance with one ``erase`` entry per wallet
(``services.ledger.close``), void the vouchers still to be used (``rewards.void_vouchers``: the
points stay spent, the stock returns), blank the profile and identifiers, delete the consent
records and the remembered idempotent responses that carried the profile, redact the copies
kept in stored documents (``domain.privacy.redact``), and leave a tombstone of keyed digests so
an import cannot bring the person back. The audit record and the ``member.erased`` fact name the
member by id only. The books stay whole: entries, postings, lots, purchases and referrals keep
their rows and amounts, and ``patron audit`` stays clean.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from patron.domain import identifiers, privacy
from patron.domain.errors import PersonErased
from patron.domain.ledger import Entry
from patron.domain.members import Member
from patron.domain.money import from_minor
from patron.domain.programs import Program
from patron.domain.timestamps import rfc3339
from patron.services import audit, outbox, rewards
from patron.services.ledger import Context, close
from patron.services.members import NewMember, get_member
from patron.services.ports import UnitOfWork
from patron.services.programs import load_config
from patron.services.referrals import email_identity

FORMAT = "patron.member-export/1"


@dataclass(frozen=True, slots=True)
class Erasure:
    member: Member
    erased_at: datetime
    entries: tuple[Entry, ...]
    already: bool  # erased before: nothing changed


# --- export ------------------------------------------------------------------------------------

Rows = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class _Units:
    """Stored amounts as the API shows them: points as integers, money as decimal strings."""

    kinds: dict[str, str]
    exponent: int

    def of(self, wallet: str, value: int) -> int | str:
        return from_minor(value, self.exponent) if self.kinds.get(wallet) == "money" else value

    def money(self, value: int) -> str:
        return from_minor(value, self.exponent)


def export(uow: UnitOfWork, program: Program, member_id: str, now: datetime) -> dict[str, Any]:
    """Everything held about the member but the Member shape itself, as JSON-able data.

    Raises: MemberNotFound.
    """
    member = get_member(uow, program, member_id)
    rows = uow.privacy.member_records(program.id, member.id)
    kinds = {code: str(w.kind) for code, w in load_config(uow, program).wallets.items()}
    units = _Units(kinds, program.currency_exponent)
    tombstone = uow.privacy.tombstone(member.id)
    document: dict[str, Any] = _plain(
        {
            "format": FORMAT,
            "exported_at": now,
            "program": {"id": program.id, "slug": program.slug, "name": program.name},
            "identifiers": {
                "member_id": member.id,
                "external_id": member.external_id,
                "email": member.email,
                "phone": member.phone,
                "card_numbers": [member.card_number],
                "referral_code": member.referral_code,
            },
            "consents": _each(rows["consents"], "channel", "granted", "recorded_at", "source"),
            "ledger": _ledger(rows, units),
            "purchases": _purchases(rows, units),
            "events": _each(
                rows["events"], "id", "external_id", "type", "occurred_at", "recorded_at", "result"
            ),
            "redemptions": _redemptions(rows, units),
            "referrals": {
                # the referee's qualifying purchase is theirs: only its outcome is the referrer's
                "made": _each(
                    rows["referrals_made"],
                    *("id", "referee_id", "status", "reason", "created_at", "completed_at"),
                ),
                "received": _each(
                    rows["referrals_received"],
                    *("id", "referrer_id", "status", "reason", "purchase"),
                    *("created_at", "completed_at"),
                ),
            },
            "tier": {
                "held": _each(rows["tier"], "code", "since", "until", "cause", "best_ever"),
                "history": _each(
                    rows["tier_history"],
                    *("at", "from_code", "to_code", "cause", "reference", "reason", "actor"),
                ),
                "grants": _each(
                    rows["tier_grants"],
                    *("code", "until", "paid", "reason", "actor", "created_at"),
                ),
            },
            "audit": [
                {**_pick(a, "at", "action", "before", "after"), "actor": _actor(a)}
                for a in rows["audit"]
            ],
            "erasure": {"erased_at": tombstone.erased_at} if tombstone else None,
        }
    )
    return document


def _ledger(rows: Rows, units: _Units) -> dict[str, Any]:
    postings: dict[str, list[dict[str, Any]]] = {}
    for p in rows["postings"]:
        postings.setdefault(p["entry_id"], []).append(
            {
                "source": p["source"],
                "destination": p["destination"],
                "amount": units.of(p["wallet"], p["amount"]),
            }
        )
    entry_fields = ("id", "type", "wallet", "status", "occurred_at", "recorded_at", "reference")
    return {
        "balances": [
            {
                "wallet": b["wallet"],
                "available": units.of(b["wallet"], b["available"]),
                "pending": units.of(b["wallet"], b["pending"]),
                "lifetime_earned": units.of(b["wallet"], b["lifetime_earned"]),
                "last_activity_at": b["last_activity_at"],
            }
            for b in rows["balances"]
        ],
        "entries": [
            {
                **_pick(e, *entry_fields, "reverses", "reason", "actor", "config_version"),
                "amount": units.of(e["wallet"], e["amount"]),
                "explanation": list(e["explanation"] or []),
                "postings": postings.get(e["id"], []),
            }
            for e in rows["entries"]
        ],
        "lots": [
            {
                **_pick(lot, "id", "wallet", "entry_id", "earned_at", "available_at"),
                **_pick(lot, "expires_at", "pending"),
                "amount": units.of(lot["wallet"], lot["amount"]),
                "remaining": units.of(lot["wallet"], lot["remaining"]),
            }
            for lot in rows["lots"]
        ],
    }


def _purchases(rows: Rows, units: _Units) -> list[dict[str, Any]]:
    refunds: dict[str, list[dict[str, Any]]] = {}
    for r in rows["refunds"]:
        refunds.setdefault(r["purchase_id"], []).append(
            _pick(r, "id", "external_id", "occurred_at", "recorded_at", "document", "result")
        )
    return [
        {
            **_pick(p, "id", "external_id", "occurred_at", "recorded_at", "channel", "store_id"),
            **_pick(p, "document", "result"),
            "amount": units.money(p["amount"]),
            "refunded": units.money(p["refunded"]),
            "eligible_amount": units.money(p["eligible_amount"]),
            "eligible_left": units.money(p["eligible_left"]),
            "refunds": refunds.get(p["id"], []),
        }
        for p in rows["purchases"]
    ]


def _redemptions(rows: Rows, units: _Units) -> list[dict[str, Any]]:
    return [
        {
            **_pick(r, "id", "status", "wallet", "entry_id", "created_at", "used_at"),
            **_pick(r, "used_reference", "cancelled_at"),
            "reward": r["reward_code"],
            "amount": units.of(r["wallet"], r["amount"]),
            "voucher": (
                {"code": r["voucher_code"], "expires_at": r["voucher_expires_at"]}
                if r["voucher_code"]
                else None
            ),
        }
        for r in rows["redemptions"]
    ]


def _actor(record: dict[str, Any]) -> str:
    return f"{record['actor_kind']}:{record['actor_id']}"


def _each(rows: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    return [_pick(row, *names) for row in rows]


def _pick(row: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: row[name] for name in names}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


# --- erasure -----------------------------------------------------------------------------------


def erase(ctx: Context, member_id: str) -> Erasure:
    """Remove the member's personal data everywhere and close its balances; idempotent.

    Raises: MemberNotFound.
    """
    uow, program = ctx.uow, ctx.program
    member = get_member(uow, program, member_id)
    now = ctx.clock.now()
    if not uow.privacy.claim_erasure(program.id, member.id, now):
        tombstone = uow.privacy.tombstone(member.id)
        erased_at = tombstone.erased_at if tombstone else member.updated_at
        return Erasure(get_member(uow, program, member.id), erased_at, (), already=True)
    posted = close(ctx, member.id, entry_type="erase", reason="member erased")
    voided = rewards.void_vouchers(ctx, member.id, reason="member erased")
    secret = uow.privacy.secret(program.id, now, create=True)
    assert secret is not None
    uow.privacy.add_tombstone(program.id, member.id, now, ctx.actor.label, _digests(secret, member))
    _forget(uow, program, member, now)
    closed = {e.wallet: e.amount for e in posted.entries}
    audit.record(
        uow,
        program_id=program.id,
        actor=ctx.actor,
        action="member.erased",
        target=("member", member.id),
        at=now,
        before={"status": member.status},
        after={"status": "erased", "closed": closed, "vouchers_voided": len(voided)},
    )
    outbox.record(
        uow,
        program.id,
        now,
        "member.erased",
        member.id,
        {"member_id": member.id, "erased_at": rfc3339(now), "closed": closed},
    )
    return Erasure(get_member(uow, program, member.id), now, posted.entries, already=False)


def _forget(uow: UnitOfWork, program: Program, member: Member, now: datetime) -> None:
    """Remove the member's personal data from its row and from every stored copy."""
    values = privacy.PersonalValues.of(member)
    uow.members.update(_blank(member, now))
    uow.privacy.forget_consents(member.id)
    uow.messages.forget(member.id, now)
    uow.passes.forget(program.id, member.id)  # device identifiers and push tokens
    uow.portal.end_member(program.id, member.id, now)
    if member.email_key is not None:  # a sign-in link asked for and not yet sent: never sent
        uow.portal.forget_requests(program.id, member.email_key)
    uow.privacy.forget_responses(program.id, [member.id, *values.needles])
    for document in uow.privacy.documents(program.id, member.id, values.needles):
        redacted = (
            privacy.redact_profile(document.value, values)
            if document.profile and isinstance(document.value, dict)
            else privacy.redact(document.value, values)
        )
        if redacted != document.value:
            uow.privacy.rewrite(document, redacted)


def _blank(member: Member, now: datetime) -> Member:
    """The member row without personal data. Card number and referral code must stay unique
    and present, so they become values derived from the id that no lookup can match (a card
    number is 16 digits, a referral code upper case)."""
    hex_id = member.id.replace("-", "").lower()
    return replace(
        member,
        external_id=None,
        email=None,
        email_key=None,
        phone=None,
        first_name=None,
        last_name=None,
        birth_date=None,
        attributes={},
        consents={},
        card_number=hex_id,
        referral_code="x" + hex_id[-15:],
        status="erased",
        updated_at=now,
    )


def _digests(secret: str, member: Member) -> dict[str, str]:
    return privacy.digests(
        secret,
        [
            ("email", email_identity(member.email_key)),
            ("phone", member.phone),
            ("external_id", member.external_id),
        ],
    )


def refuse_erased(uow: UnitOfWork, program: Program, cmd: NewMember) -> None:
    """Refuse to re-create, by import, a person whose data was erased from the program.

    Raises: PersonErased (naming which identifiers matched, never the erased member).
    """
    secret = uow.privacy.secret(program.id, program.created_at, create=False)
    if secret is None:  # nobody was ever erased here
        return
    key = identifiers.email_key(cmd.email) if cmd.email else None
    phone = identifiers.phone_key(cmd.phone, region=program.country) if cmd.phone else None
    external_id = cmd.external_id.strip() if cmd.external_id else None
    found = uow.privacy.find_tombstone(
        program.id,
        privacy.digests(
            secret,
            [("email", email_identity(key)), ("phone", phone), ("external_id", external_id)],
        ),
    )
    if found is not None:
        raise PersonErased(
            f"a member with this {' and '.join(found.matched)} was erased on "
            f"{found.erased_at.date().isoformat()} at their request; an import may not re-create "
            "them (they can enrol again themselves)",
            matched=list(found.matched),
        )
