"""A member's messages as the console shows them: each status with its reason in plain words
("Skipped: no consent", "Held: quiet hours until 09:00", "Failed: rejected (550 …)"), the
address masked for staff without ``members.personal`` (viewers), and the text itself only for
staff who may read personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from patron.console.deps import Page
from patron.domain import messages as rules
from patron.domain.staff import mask_email, mask_phone
from patron.services.ports import Message

CHANNELS = {"email": "Email", "sms": "SMS"}
SKIPPED = {
    "no_consent": "no consent",
    "member_erased": "member erased",
    "member_frozen": "member frozen",
    "member_closed": "member closed",
    "frequency_cap": "frequency cap reached",
    "no_content": "nothing to send",
}
FAILED = {"rejected": "rejected", "gave_up": "gave up", "template_error": "template error"}
TONE = {"sent": "ok", "queued": "warn", "skipped": "muted", "failed": "bad"}


def _clock(at: datetime | None, now: datetime, tz: str) -> str:
    """``09:00`` today, ``4 Mar, 09:00`` another day, in the program's time zone."""
    if at is None:
        return "—"
    zone = ZoneInfo(tz)
    local, today = at.astimezone(zone), now.astimezone(zone).date()
    return f"{local:%H:%M}" if local.date() == today else f"{local.day} {local:%b, %H:%M}"


def _detail(text: str | None) -> str:
    if not text:
        return ""
    short = text if len(text) <= 80 else text[:79] + "…"
    return f" ({short})"


def status_text(m: Message, now: datetime, tz: str) -> str:
    """What happened to the message, in words."""
    reason = m.reason or ""
    if m.status == "sent":
        return "Sent"
    if m.status == "queued":
        if reason == "quiet_hours":
            return f"Held: quiet hours until {_clock(m.next_attempt_at, now, tz)}"
        if reason == "retrying":
            return f"Retrying: next try at {_clock(m.next_attempt_at, now, tz)}{_detail(m.detail)}"
        return "Queued"
    if m.status == "skipped":
        if reason == "no_contact":
            words = "no email address" if m.channel == "email" else "no phone number"
        elif reason == "no_transport":
            words = f"no {'email' if m.channel == 'email' else 'SMS'} transport configured"
        else:
            words = SKIPPED.get(reason, reason.replace("_", " "))
        return f"Skipped: {words}"
    if m.status == "failed":
        words = FAILED.get(reason, reason.replace("_", " ") or "failed")
        return f"Failed: {words}{_detail(m.detail)}"
    return m.status.capitalize()


def rows(at: Page, found: list[Message], now: datetime) -> list[dict[str, Any]]:
    """The messages as table rows for this staff user."""
    personal = at.may("members.personal")
    tz = at.program.timezone
    shown = []
    for m in found:
        to = m.to_address
        if not personal:
            to = mask_email(to) if m.channel == "email" else mask_phone(to)
        kind = rules.EVENTS.get(m.event)
        state, _, why = status_text(m, now, tz).partition(": ")
        shown.append(
            {
                "id": m.id,
                "event": kind.title if kind else m.event,
                "code": m.event,
                "channel": CHANNELS.get(m.channel, m.channel),
                "category": m.category,
                "state": state,
                "why": why,
                "tone": TONE.get(m.status, "muted"),
                "to": to,
                "subject": m.subject,
                "body": m.body if personal else None,
                "when": m.sent_at or m.created_at,
                "resend_of": m.resend_of,
                "resendable": m.body is not None,
            }
        )
    return shown
