"""Finding members: by any identifier, or by the first letters of their names.

- **An identifier** finds its member exactly: an email (compared on its case-folded key), a
  phone in E.164 or in the program's national form, a card number (spaces and dashes allowed),
  an external id, a member id, a referral code. The query is tried as each kind it can be, in
  one statement; when something holds it, that is the answer (one page, no name search).
- **Otherwise the words are name prefixes**, each as ``domain.members.name_key`` makes it (case
  and accents do not matter): every word must start the first or the last name ("gra hop" finds
  Grace Hopper, so do "hopper" and "GRÂCE"), or the whole query must start the full or the last
  name (a last name of several words, "van der berg", is found as typed). Erased members have no
  name left and are never found by one. Results are ordered by full name, then id.
- **No query** lists the newest members first.

Paging is by keyset: ``next`` is the id of the page's last member, given back as ``after``. A
page also says how many members match in all, counted up to ``TOTAL_CAP``; beyond it ``total``
is ``TOTAL_CAP`` and ``total_capped`` is true (show "1,000+"), so a broad query costs no full
count. Each page is a fixed handful of statements: the match, the count, the balances and tiers
of the page's members.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from patron.domain import identifiers
from patron.domain.members import Member, name_key
from patron.domain.programs import Program
from patron.services.balances import MemberView, member_views
from patron.services.ports import NameQuery, UnitOfWork

TOTAL_CAP = 1000
MAX_WORDS = 5
"""Words of a name query beyond these are ignored (each is one more pair of index ranges)."""

POINTS_WALLET = "points"  # every program has it (domain.config.document)

_PHONE_LIKE = re.compile(r"^\+?[\d\s\-.()/]{5,}$")
_MEMBER_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True, slots=True)
class MemberSummary:
    """One line of a search result."""

    id: str
    external_id: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    card_number: str
    tier_code: str | None
    tier_name: str | None
    status: str
    points: int  # available in the points wallet, as of the search
    enrolled_at: datetime


@dataclass(frozen=True, slots=True)
class SearchPage:
    items: list[MemberSummary]
    next: str | None  # give it back as ``after`` for the next page; None on the last one
    total: int
    total_capped: bool  # more than ``total`` match
    by: str  # "identifier", "name" or "newest": how the query was read


@dataclass(frozen=True, slots=True)
class Matches:
    """The members of one page, as stored (what ``search`` summarises)."""

    members: list[Member]
    next: str | None
    total: int
    total_capped: bool
    by: str


def search(
    uow: UnitOfWork,
    program: Program,
    query: str | None,
    *,
    limit: int,
    after: str | None = None,
    now: datetime | None = None,
) -> SearchPage:
    """A page of the members ``query`` finds (see the module docstring); balances as of ``now``
    (the caller's clock; the wall clock when not given, as this is only a read)."""
    found = matches(uow, program, query, limit=limit, after=after)
    views = member_views(uow, program, found.members, now=now or datetime.now(UTC))
    return SearchPage(
        items=[_summary(view) for view in views],
        next=found.next,
        total=found.total,
        total_capped=found.total_capped,
        by=found.by,
    )


def matches(
    uow: UnitOfWork, program: Program, query: str | None, *, limit: int, after: str | None = None
) -> Matches:
    """The members of the page ``search`` shows, without their balances."""
    text = (query or "").strip()
    reads = uow.member_reads
    if not text:
        found = reads.newest(program.id, before=after, limit=limit + 1)
        return _matches(found, limit, reads.count(program.id, cap=TOTAL_CAP + 1), "newest")
    if after is None:
        held = reads.holding(program.id, identifier_candidates(program, text), limit=limit + 1)
        if held:
            # A handful at most (one per kind of identifier): one page, nothing after it.
            return _matches(held[:limit], limit, len(held), "identifier")
    words = tuple(w for w in (name_key(text) or "").split(" ") if w)[:MAX_WORDS]
    if not words or "@" in text:  # an email that nobody holds is not a name
        return Matches([], None, 0, False, "identifier")
    named = NameQuery(words)
    found = reads.named(program.id, named, after=after, limit=limit + 1)
    return _matches(found, limit, reads.count_named(program.id, named, cap=TOTAL_CAP + 1), "name")


def identifier_candidates(program: Program, text: str) -> list[tuple[str, str]]:
    """What ``text`` could be, as (column, canonical value) pairs."""
    if "@" in text:
        key = identifiers.email_key(text)
        return [("email_key", key)] if key else []
    found = [("external_id", text)]
    if _MEMBER_ID.match(text.lower()):
        found.append(("id", text.lower()))
    if (card := identifiers.normalize_card_number(text)) is not None:
        found.append(("card_number", card))
    if (
        _PHONE_LIKE.match(text)
        and (phone := identifiers.phone_key(text, region=program.country)) is not None
    ):
        found.append(("phone", phone))
    if len(text) <= 16 and " " not in text:
        found.append(("referral_code", identifiers.normalize_referral_code(text)))
    return found


def _matches(found: list[Member], limit: int, total: int, by: str) -> Matches:
    shown = found[:limit]
    more = len(found) > limit and bool(shown)
    return Matches(
        members=shown,
        next=shown[-1].id if more else None,
        total=min(total, TOTAL_CAP),
        total_capped=total > TOTAL_CAP,
        by=by,
    )


def _summary(view: MemberView) -> MemberSummary:
    m, points = view.member, view.wallets.get(POINTS_WALLET)
    return MemberSummary(
        id=m.id,
        external_id=m.external_id,
        first_name=m.first_name,
        last_name=m.last_name,
        email=m.email,
        phone=m.phone,
        card_number=m.card_number,
        tier_code=view.tier.code if view.tier else m.tier_code,
        tier_name=view.tier.name if view.tier else None,
        status=m.status,
        points=points.available if points else 0,
        enrolled_at=m.enrolled_at,
    )
