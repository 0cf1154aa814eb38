"""The audit log screen: who did what in the program, newest first (SPEC §9, docs/console.md).

Filters are a GET form, so a filtered view is a link one can keep: the actor (its kind, and its
id or name — a staff user's email, an API key's name), the action (a prefix: ``member.`` finds
every member action), the target (type and id) and a period of whole days in the program's time
zone. Paging is by keyset (``before`` = the id of the last row shown), so a page stays cheap however
long the log grows. Each record shows its before and after as a table of the fields that differ;
a role without ``members.personal`` sees the values of ``email`` and ``phone`` fields masked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from starlette.responses import Response

from patron.console.deps import Page, in_program, page
from patron.console.labels import actor_label
from patron.console.routing import router as make_router
from patron.domain.audit import AuditRecord
from patron.domain.staff import mask_email, mask_phone
from patron.services import audit
from patron.services.ports import AuditFilter
from patron.services.transactions import run_read

router = make_router("/console/programs/{program}/audit")

PAGE_SIZE = 50

ACTOR_KINDS = {
    "user": "Staff user",
    "api_key": "API key",
    "system": "Job (system)",
    "cli": "Command line",
    "member": "Member (portal)",
}

# Actions people look for most; any other prefix can be typed.
ACTION_CHOICES = (
    "member.",
    "purchase.",
    "redemption.",
    "reward.",
    "campaign.",
    "grant.",
    "program.",
    "api_key.",
    "staff.",
    "jobs.ran",
)

PLAIN = {
    "member.enrolled": "Enrolled a member",
    "member.updated": "Changed a member's profile",
    "member.adjusted": "Adjusted a balance",
    "member.adjustment": "Adjusted a balance",
    "member.frozen": "Froze a member",
    "member.unfrozen": "Unfroze a member",
    "member.erased": "Erased a member",
    "member.tier_granted": "Set a member's tier",
    "program.created": "Created the program",
    "program.config_replaced": "Replaced the program's configuration",
    "api_key.created": "Created an API key",
    "api_key.revoked": "Revoked an API key",
    "staff.created": "Created a staff user",
    "staff.role_granted": "Gave a staff user a role",
    "staff.role_changed": "Changed a staff user's role or limits",
    "staff.role_removed": "Removed a staff user from the program",
    "staff.sessions_revoked": "Signed a staff user out everywhere",
    "staff.link_issued": "Issued a set-password link",
    "jobs.ran": "Ran the scheduled jobs",
    "demo.created": "Created the demo",
}

MASKS = {"email": mask_email, "phone": mask_phone}


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    before: str
    after: str


def plain(action: str) -> str:
    """An action in plain words: ``member.frozen`` → "Froze a member" (or "Member frozen")."""
    if action in PLAIN:
        return PLAIN[action]
    words = action.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def masked(value: Any) -> Any:
    """``value`` with the values of ``email``/``phone`` keys masked, at any depth."""
    if isinstance(value, Mapping):
        return {
            k: (MASKS[k](v) if k in MASKS and isinstance(v, str) else masked(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def changes(record: AuditRecord, *, personal: bool) -> list[Change]:
    """The record's before/after as rows, one per top-level field (both sides shown)."""
    before = record.before or {}
    after = record.after or {}
    if not personal:
        before, after = masked(before), masked(after)
    names = list(dict.fromkeys([*before, *after]))
    return [
        Change(name, _shown(before.get(name)), _shown(after.get(name)))
        for name in names
        if before.get(name) != after.get(name) or name not in before
    ]


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _query(
    at: Page, params: Mapping[str, str]
) -> tuple[AuditFilter, dict[str, str], dict[str, str]]:
    """The filter of the form's values, the values as given, and the errors at their fields."""
    values = {
        name: params.get(name, "").strip()
        for name in ("actor_kind", "actor", "action", "target_type", "target_id", "from", "to")
    }
    errors: dict[str, str] = {}
    zone = ZoneInfo(at.program.timezone)
    bounds: dict[str, datetime | None] = {}
    for name, shift in (("from", 0), ("to", 1)):
        try:
            found = _day(values[name])
        except ValueError:
            errors[name] = "a date like 2027-03-31"
            found = None
        bounds[name] = (
            datetime.combine(found + timedelta(days=shift), time(), zone) if found else None
        )
    if values["actor_kind"] and values["actor_kind"] not in ACTOR_KINDS:
        errors["actor_kind"] = "choose a kind of actor from the list"
    since, until = bounds["from"], bounds["to"]
    if since and until and since >= until:
        errors["to"] = "the last day comes on or after the first"
    where = AuditFilter(
        target_type=values["target_type"] or None,
        target_id=values["target_id"] or None,
        action_prefix=values["action"] or None,
        since=since,
        until=until,
        actor_kind=values["actor_kind"] if values["actor_kind"] in ACTOR_KINDS else None,
        actor=values["actor"] or None,
    )
    return where, values, errors


def _link(base: str, values: Mapping[str, str], before: int | None) -> str:
    kept = {k: v for k, v in values.items() if v}
    if before is not None:
        kept["before"] = str(before)
    return base + ("?" + urlencode(kept) if kept else "")


@router.get("")
def audit_log(request: Request, at: Page = Depends(in_program("audit.read"))) -> Response:
    params = dict(request.query_params)
    where, values, errors = _query(at, params)
    try:
        before = int(params["before"]) if params.get("before") else None
    except ValueError:
        before, errors["before"] = None, "not a page of this log"
    records: list[AuditRecord] = []
    if not errors:
        records = list(
            run_read(
                at.uow,
                lambda uow: audit.list_audit(
                    uow, at.program.id, where, before=before, limit=PAGE_SIZE + 1
                ),
            )
        )
    more = len(records) > PAGE_SIZE
    records = records[:PAGE_SIZE]
    personal = at.may("members.personal")
    rows = [
        {
            "record": r,
            "actor": actor_label(r.actor),
            "kind": ACTOR_KINDS.get(r.actor.kind, r.actor.kind),
            "plain": plain(r.action),
            "changes": changes(r, personal=personal),
            "member_link": (
                f"{at.base}/members/{r.target_id}" if r.target_type == "member" else None
            ),
        }
        for r in records
    ]
    base = f"{at.base}/audit"
    return page(
        request,
        "audit.html",
        {
            "title": "Audit log",
            "rows": rows,
            "values": values,
            "errors": errors,
            "kinds": ACTOR_KINDS,
            "choices": ACTION_CHOICES,
            "filtered": any(values.values()),
            "older": _link(base, values, records[-1].id) if more and records else None,
            "newest": _link(base, values, None) if before is not None else None,
        },
        at=at,
        status=422 if errors else 200,
    )
