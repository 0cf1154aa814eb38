"""Message templates of a program and the values they are rendered with (SPEC §11).

A program's template for an (event, channel) pair is the one it saved, or else Patron's default
in the program's ``locale``. Saving checks the template in the sandbox
(``patron.domain.messages.template_errors``) and refuses it with the place of each error.

``values`` gathers what a template of an event may show about a member: the documented
variables only, as strings formatted for the program's locale. It reads in batches (one
balance read for a whole planning batch), so turning a thousand facts into messages costs a
handful of queries, not thousands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal

from patron.domain import messages as rules
from patron.domain.audit import Actor
from patron.domain.config import ProgramConfig
from patron.domain.errors import FieldError, NotFound, ValidationFailed
from patron.domain.members import Member
from patron.domain.message_defaults import default_template
from patron.domain.programs import Program
from patron.services import audit
from patron.services.balances import wallet_views
from patron.services.ports import StoredTemplate, UnitOfWork


class TemplateNotFound(NotFound):
    code = "template_not_found"
    title = "No such message template"


@dataclass(frozen=True, slots=True)
class Template:
    event: str
    channel: str
    subject: str | None
    body: str
    category: str
    active: bool
    custom: bool
    """Saved by the program (``False``: Patron's default in the program's locale)."""
    updated_at: datetime | None = None
    updated_by: str | None = None


def check_pair(event: str, channel: str) -> None:
    """Raises: TemplateNotFound for an event or channel Patron has no templates for."""
    if event not in rules.EVENTS or channel not in rules.CHANNELS:
        known = ", ".join(rules.EVENTS)
        raise TemplateNotFound(
            f"no message template {event}/{channel}: events are {known}; channels email, sms",
            event=event,
            channel=channel,
        )


def effective(
    uow: UnitOfWork, program: Program, config: ProgramConfig, event: str, channel: str
) -> Template:
    check_pair(event, channel)
    return _effective(
        uow.messages.template(program.id, event, channel), config.locale, event, channel
    )


def all_templates(uow: UnitOfWork, program: Program, config: ProgramConfig) -> list[Template]:
    """Every (event, channel) pair, in the catalogue's order."""
    saved = {(s.event, s.channel): s for s in uow.messages.templates(program.id)}
    return [
        _effective(saved.get((event, channel)), config.locale, event, channel)
        for event in rules.EVENTS
        for channel in rules.CHANNELS
    ]


def _effective(
    saved: StoredTemplate | None, locale: str | None, event: str, channel: str
) -> Template:
    if saved is not None:
        return Template(
            event,
            channel,
            saved.subject,
            saved.body,
            saved.category,
            saved.active,
            True,
            saved.updated_at,
            saved.updated_by,
        )
    subject, body = default_template(locale, event, channel)
    return Template(event, channel, subject, body, rules.EVENTS[event].category, True, False)


def draft_errors(event: str, channel: str, subject: str | None, body: str) -> list[FieldError]:
    """Every problem of a template's text, with its place."""
    errors: list[FieldError] = []
    if channel == "email":
        if not subject or not subject.strip():
            errors.append(FieldError("subject", "an email needs a subject", "missing"))
        elif len(subject) > rules.SUBJECT_MAX or "\n" in subject or "\r" in subject:
            errors.append(
                FieldError("subject", f"one line of at most {rules.SUBJECT_MAX} characters")
            )
        else:
            errors += rules.template_errors(event, "subject", subject)
    elif subject:
        errors.append(FieldError("subject", "an SMS has no subject", "extra_forbidden"))
    limit = rules.SMS_MAX if channel == "sms" else rules.BODY_MAX
    if not body.strip():
        errors.append(FieldError("body", "the body is empty", "missing"))
    elif len(body) > limit:
        errors.append(FieldError("body", f"at most {limit} characters", "too_long"))
    else:
        errors += rules.template_errors(event, "body", body)
    return errors


def save(
    uow: UnitOfWork,
    program: Program,
    actor: Actor,
    now: datetime,
    event: str,
    channel: str,
    *,
    subject: str | None,
    body: str,
    category: str,
    active: bool,
) -> Template:
    """Raises: TemplateNotFound, ValidationFailed (each error with its line)."""
    check_pair(event, channel)
    errors = draft_errors(event, channel, subject, body)
    if category not in rules.CATEGORIES:
        errors.append(FieldError("category", "transactional or marketing", "enum"))
    if errors:
        raise ValidationFailed(errors)
    before = uow.messages.template(program.id, event, channel)
    stored = StoredTemplate(
        program.id,
        event,
        channel,
        subject.strip() if subject else None,
        body,
        category,
        active,
        now,
        actor.label,
    )
    uow.messages.put_template(stored)
    audit.record(
        uow,
        program_id=program.id,
        actor=actor,
        action="message_template.saved",
        target=("message_template", f"{event}/{channel}"),
        at=now,
        before=_audited(before) if before else None,
        after=_audited(stored),
    )
    return _effective(stored, None, event, channel)


def _audited(template: StoredTemplate) -> dict[str, Any]:
    return {
        "subject": template.subject,
        "body": template.body,
        "category": template.category,
        "active": template.active,
    }


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Links:
    base_url: str
    unsubscribe_key: str | None

    def portal(self, program: Program) -> str:
        return f"{self.base_url}/portal/{program.slug}/"

    def unsubscribe(self, program: Program, member_id: str, channel: str) -> str:
        if self.unsubscribe_key is None:
            return f"{self.base_url}/unsubscribe/preview"
        token = rules.unsubscribe_token(self.unsubscribe_key, program.id, member_id, channel)
        return f"{self.base_url}/unsubscribe/{token}"


def points_text(amount: int, locale: str | None) -> str:
    return str(format_decimal(amount, locale=locale or "en"))


def date_text(day: date, locale: str | None) -> str:
    return str(format_date(day, format="medium", locale=locale or "en"))


def balances(
    uow: UnitOfWork,
    program: Program,
    config: ProgramConfig,
    member_ids: Sequence[str],
    now: datetime,
) -> dict[str, int]:
    """Each member's available points in the program's points wallet."""
    if not member_ids:
        return {}
    code = "points" if "points" in config.wallets else next(iter(config.wallets))
    views = wallet_views(uow, program, list(member_ids), now=now)
    return {member_id: wallets[code].available for member_id, wallets in views.items()}


def member_values(
    program: Program,
    config: ProgramConfig,
    member: Member,
    channel: str,
    balance: int,
    links: Links,
) -> dict[str, str]:
    """The common variables (``patron.domain.messages.COMMON``) for one member."""
    tier = ""
    if config.tiers is not None and member.tier_code:
        level = config.tiers.level(member.tier_code)
        tier = level.name if level else member.tier_code
    return {
        "first_name": member.first_name or "",
        "program_name": program.name,
        "balance": points_text(balance, config.locale),
        "tier": tier,
        "portal_link": links.portal(program),
        "unsubscribe_link": links.unsubscribe(program, member.id, channel),
    }


def event_values(
    uow: UnitOfWork,
    program: Program,
    config: ProgramConfig,
    event: str,
    payload: Mapping[str, Any],
    member: Member,
) -> dict[str, str]:
    """The event's own variables, from the fact's payload and what it points at."""
    locale = config.locale
    if event == "member.enrolled":
        return {"card_number": member.card_number, "referral_code": member.referral_code}
    if event == "points.earned":
        return {
            "points": points_text(int(payload.get("amount") or 0), locale),
            "wallet": str(payload.get("wallet") or ""),
        }
    if event == "points.expiring":
        day = date.fromisoformat(str(payload["expires_on"]))
        return {
            "points": points_text(int(payload.get("amount") or 0), locale),
            "expiry_date": date_text(day, locale),
        }
    if event == "tier.changed":
        previous = payload.get("from")
        name = ""
        if previous and config.tiers is not None:
            level = config.tiers.level(str(previous))
            name = level.name if level else str(previous)
        return {"previous_tier": name}
    if event == "reward.redeemed":
        reward = uow.rewards.get(program.id, str(payload.get("reward")))
        redemption = uow.rewards.redemption(program.id, str(payload.get("redemption_id")))
        expiry = redemption.voucher_expires_at if redemption else None
        zone = ZoneInfo(program.timezone)
        return {
            "reward": reward.name if reward else str(payload.get("reward")),
            "voucher_code": (redemption.voucher_code or "") if redemption else "",
            "voucher_expiry": date_text(expiry.astimezone(zone).date(), locale) if expiry else "",
        }
    if event == "referral.completed":
        friend = uow.members.get(program.id, str(payload.get("referee_id")))
        return {"friend_first_name": (friend.first_name or "") if friend else ""}
    if event == "portal.sign_in":
        return {
            "sign_in_link": str(payload.get("link") or ""),
            "valid_minutes": str(payload.get("valid_minutes") or 15),
        }
    return {}
