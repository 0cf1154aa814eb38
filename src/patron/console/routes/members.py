"""The Members area: search, and the member's page (the 360° view).

Search is a GET form (``q``), so it works without JavaScript; htmx swaps only the results
(``#results``) when it is there. Paging is by keyset (``after``, from
``services.member_search``) with the position of the page's first row carried along (``start``)
so the foot can say "Showing 26 to 50 of 1,234". An empty query lists the newest members.

The member's page reads ``services.member_profile`` in one transaction and shows the number
first (name, tier, status, balance), then every section. Staff without ``members.personal``
(viewers) see emails and phones masked everywhere on these pages: masking happens here, in
:func:`personal`, before anything reaches a template.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from starlette.responses import Response

from patron.console import message_log
from patron.console.deps import Page, PageNotFound, in_program, page
from patron.console.labels import actor_label, entry_actor, plain
from patron.console.routing import router as make_router
from patron.domain.staff import mask_email, mask_phone
from patron.services import member_profile, member_search, messages
from patron.services.members import get_member
from patron.services.programs import load_config
from patron.services.transactions import run_read

router = make_router("/console/programs/{program}/members")

PAGE_SIZE = 25
ACTIVITY_SIZE = 25
LIST_SIZE = 20  # purchases, redemptions, messages and audit records shown on the member's page
MESSAGES_PAGE = 50


def display_name(first: str | None, last: str | None, external_id: str | None, id: str) -> str:
    """What a person calls the member: its name, else its external id, else its id."""
    name = " ".join(part for part in (first, last) if part)
    return name or external_id or id


def personal(at: Page, email: str | None, phone: str | None) -> tuple[str | None, str | None]:
    """Email and phone as this staff user may see them."""
    if at.may("members.personal"):
        return email, phone
    return mask_email(email), mask_phone(phone)


@router.get("")
def search(
    request: Request,
    q: str = "",
    after: str | None = None,
    start: int = 1,
    at: Page = Depends(in_program("members.read")),
) -> Response:
    query = q.strip()[:200]
    now = at.box.clock.now()
    found = run_read(
        at.uow,
        lambda uow: member_search.search(
            uow, at.program, query, limit=PAGE_SIZE, after=after or None, now=now
        ),
    )
    rows = []
    for m in found.items:
        email, phone = personal(at, m.email, m.phone)
        rows.append(
            {
                "id": m.id,
                "name": display_name(m.first_name, m.last_name, m.external_id, m.id),
                "email": email,
                "phone": phone,
                "card": m.card_number,
                "tier": m.tier_name or m.tier_code,
                "status": m.status,
                "points": m.points,
                "enrolled_at": m.enrolled_at,
            }
        )
    first = max(start, 1)
    return page(
        request,
        "members/search.html",
        {
            "title": "Members",
            "q": query,
            "rows": rows,
            "first": first,
            "last": first + len(rows) - 1,
            "total": found.total,
            "capped": found.total_capped,
            "by": found.by,
            "next": found.next,
            "paged": after is not None,
        },
        at=at,
    )


@router.get("/{member}")
def member_page(
    member: str,
    request: Request,
    before: str | None = None,
    at: Page = Depends(in_program("members.read")),
) -> Response:
    return show(request, at, member, before=before)


def show(
    request: Request,
    at: Page,
    member: str,
    *,
    before: str | None = None,
    errors: dict[str, str] | None = None,
    problem: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The member's page; actions re-render it with their errors (``problem`` = the form whose
    banner says what went wrong: ``{"form": ..., "message": ...}``)."""
    now = at.box.clock.now()

    def read(uow: Any) -> tuple[member_profile.Profile, Any, dict[str, str], list[Any]]:
        found = member_profile.profile(
            uow,
            at.program,
            member,
            now=now,
            activity_limit=ACTIVITY_SIZE,
            activity_before=before or None,
            limit=LIST_SIZE,
        )
        sent = messages.member_log(uow, at.program, member, limit=LIST_SIZE + 1, before=None)
        return found, load_config(uow, at.program), actor_names(uow, at), sent

    story, config, names, sent = run_read(at.uow, read)
    m = story.member
    email, phone = personal(at, m.email, m.phone)
    return page(
        request,
        "members/member.html",
        {
            "title": display_name(m.first_name, m.last_name, m.external_id, m.id),
            "m": m,
            "email": email,
            "phone": phone,
            "story": story,
            "config": config,
            "who": lambda label: entry_actor(label, names),
            "now": now,
            "before": before,
            "errors": errors or {},
            "problem": problem or {},
            "values": values or {},
            "messages": message_log.rows(at, sent[:LIST_SIZE], now),
            "more_messages": len(sent) > LIST_SIZE,
            "audit": [
                {
                    "at": a.at,
                    "actor": actor_label(a.actor),
                    "action": a.action,
                    "changes": _changes(at, a.after),
                }
                for a in story.audit
            ],
        },
        at=at,
        status=status,
    )


def actor_names(uow: Any, at: Page) -> dict[str, str]:
    """Display names of the actors a ledger entry can name: the program's API keys, staff."""
    keys = uow.api_keys.of_program(at.program.id, after=None, limit=1000)
    names = {f"api_key:{k.id}": f"API key {k.name}" for k in keys}
    names.update({f"user:{u.id}": u.email for u in uow.staff.every()})
    return names


def _changes(at: Page, after: dict[str, Any] | None) -> str:
    """An audit record's new values in one line, personal ones masked for viewers."""
    if not after:
        return ""
    masked = not at.may("members.personal")
    shown = []
    for key, value in after.items():
        if masked and key == "email":
            value = mask_email(value if isinstance(value, str) else None)
        elif masked and key == "phone":
            value = mask_phone(value if isinstance(value, str) else None)
        shown.append(f"{key}: {plain(value)}")
    text = ", ".join(shown)
    return text if len(text) <= 240 else text[:239] + "…"


LOTS_PAGE = 100


@router.get("/{member}/lots")
def lots(
    request: Request,
    member: str,
    wallet: str = "points",
    offset: int = 0,
    at: Page = Depends(in_program("members.read")),
) -> Response:
    """Every open lot behind a wallet's balance, those that expire first first, 100 a page."""
    start = max(offset, 0)

    def read(uow: Any) -> tuple[Any, Any, list[Any], int]:
        found = get_member(uow, at.program, member)
        config = load_config(uow, at.program)
        if wallet not in config.wallets:
            raise PageNotFound(f"this program has no wallet {wallet!r}")
        shown, total = uow.member_reads.open_lots(found.id, wallet, limit=LOTS_PAGE, offset=start)
        return found, config, shown, total

    m, config, shown, total = run_read(at.uow, read)
    return page(
        request,
        "members/lots.html",
        {
            "title": f"Lots of {display_name(m.first_name, m.last_name, m.external_id, m.id)}",
            "m": m,
            "wallet": wallet,
            "config": config,
            "lots": shown,
            "total": total,
            "offset": start,
            "size": LOTS_PAGE,
        },
        at=at,
    )


@router.get("/{member}/messages")
def member_messages(
    request: Request,
    member: str,
    before: str | None = None,
    at: Page = Depends(in_program("members.read")),
) -> Response:
    """Every message to the member, newest first, 50 a page (keyset: ``before`` a message id)."""
    now = at.box.clock.now()

    def read(uow: Any) -> tuple[Any, list[Any]]:
        found = get_member(uow, at.program, member)
        log = messages.member_log(
            uow, at.program, member, limit=MESSAGES_PAGE + 1, before=before or None
        )
        return found, log

    m, log = run_read(at.uow, read)
    shown = log[:MESSAGES_PAGE]
    name = display_name(m.first_name, m.last_name, m.external_id, m.id)
    return page(
        request,
        "members/messages.html",
        {
            "title": f"Messages to {name}",
            "name": name,
            "m": m,
            "messages": message_log.rows(at, shown, now),
            "before": before,
            "next": shown[-1].id if len(log) > MESSAGES_PAGE else None,
            "problem": {},
        },
        at=at,
    )
