"""Member portal sign-in: one-time links and sessions (SPEC §10, docs/portal.md).

- **Links** are random 256-bit tokens; storage keeps only their SHA-256 digest. A link is minted
  for one member of one program, by the merchant's backend (``POST .../portal-link``: single
  sign-on), by staff from the console, or on request at the portal's sign-in page, where it is
  emailed through the messages pipeline (``messages.queue_direct``, event ``portal.sign_in``:
  never an outbox fact, which webhooks would receive). It works once within ``LINK_LIFETIME``.
- **Sessions** open when a link is used: another random token in an ``HttpOnly`` cookie, again
  kept as a digest; they last until sign-out or ``SESSION_LIFETIME``. Every request checks the
  member too: a member that is no longer active (frozen, closed, erased) has no portal, and
  freezing, closing or erasing ends its sessions and spends its unused links at once
  (:func:`end_member`, called by ``members.update_member`` and ``privacy.erase``).
- **Return URL** (SSO only): kept with the link and shown in the portal as a "back to the shop"
  link; the portal never redirects to it, so it cannot serve as an open redirect. Only absolute
  ``https`` URLs (``http`` for ``localhost``) are accepted.
- **Asking for a link by email** (:func:`request_by_email`) must not tell whether the address
  is enrolled, by its answer or by its time. So the request does the same work for every
  address: it records one sign-in request (the email's comparison key) and nothing else; it
  neither looks the address up nor mints anything. The worker's message step then answers the
  requests (:func:`send_requested`, before the messages are planned and sent in the same tick):
  it deletes each request, and when the key is an active member's email it mints the link and
  queues the email in that same transaction. A request is committed before the page answers and
  is deleted only by the transaction that answers it, so a crash on either side loses no email:
  what was not answered stays for the next tick. The entrypoint rate-limits requests per address
  and per email.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from patron.domain.audit import Actor
from patron.domain.errors import BusinessRuleViolation, FieldError, PatronError, ValidationFailed
from patron.domain.identifiers import email_key
from patron.domain.ids import new_id
from patron.domain.members import Member
from patron.domain.portal import (
    LINK_LIFETIME,
    SESSION_LIFETIME,
    LinkSource,
    PortalLink,
    PortalSession,
)
from patron.domain.programs import Program
from patron.services import audit, messages
from patron.services.members import get_member
from patron.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from patron.services.ports.members import MemberFilter
from patron.services.programs import get_program
from patron.services.transactions import run_in_transaction

SIGN_IN_EVENT = "portal.sign_in"
REQUEST_BATCH = 50
"""Sign-in requests answered per transaction of the worker."""


class LinkNotValid(PatronError):
    code = "link_not_valid"
    title = "This link cannot be used"

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason  # unknown, used, expired, member


@dataclass(frozen=True, slots=True)
class Minted:
    link: PortalLink
    url: str


@dataclass(frozen=True, slots=True)
class Opened:
    session: PortalSession
    token: str  # the cookie's value
    link: PortalLink


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def portal_actor(member_id: str) -> Actor:
    """Who acts in the member's own portal."""
    return Actor(kind="member", id=member_id, name="member portal")


def link_url(base_url: str, program: Program, token: str) -> str:
    return f"{base_url.rstrip('/')}/portal/{program.slug}/sign-in/{token}"


def check_return_url(value: str | None) -> str | None:
    """The return URL when acceptable (see the module docstring). Raises: ValidationFailed."""
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    local = parts.hostname in ("localhost", "127.0.0.1")
    if (
        len(value) > 500
        or not parts.netloc
        or not (parts.scheme == "https" or (parts.scheme == "http" and local))
    ):
        raise ValidationFailed(
            [FieldError("return_url", "must be an absolute https URL of at most 500 characters")]
        )
    return value


def mint(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    program: Program,
    member_id: str,
    *,
    source: LinkSource,
    base_url: str,
    return_url: str | None = None,
) -> Minted:
    """A one-time link for an active member. Raises: MemberNotFound, BusinessRuleViolation,
    ValidationFailed (return_url)."""
    now = clock.now()
    back = check_return_url(return_url)
    member = get_member(uow, program, member_id)
    if member.status != "active":
        raise BusinessRuleViolation(
            f"the member is {member.status}: it has no portal", member=member.id
        )
    token = secrets.token_urlsafe(32)
    link = PortalLink(
        id=new_id(),
        program_id=program.id,
        member_id=member.id,
        source=source,
        created_at=now,
        expires_at=now + LINK_LIFETIME,
        return_url=back,
    )
    uow.portal.add_link(link, digest(token))
    audit.record(
        uow,
        program_id=program.id,
        actor=actor,
        action="member.portal_link",
        target=("member", member.id),
        at=now,
        after={"source": source, "expires_at": link.expires_at.isoformat()},
    )
    return Minted(link, link_url(base_url, program, token))


def send_link(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    program: Program,
    member: Member,
    *,
    source: LinkSource,
    base_url: str,
) -> Minted:
    """Mint a link and queue the ``portal.sign_in`` email with it (the worker sends it)."""
    minted = mint(uow, clock, actor, program, member.id, source=source, base_url=base_url)
    messages.queue_direct(
        uow,
        program,
        member,
        SIGN_IN_EVENT,
        subject=minted.link.id,
        payload={"link": minted.url, "valid_minutes": int(LINK_LIFETIME.total_seconds() // 60)},
        now=clock.now(),
        base_url=base_url,
    )
    return minted


def request_by_email(uow: UnitOfWork, clock: Clock, program: Program, email: str) -> bool:
    """Record a request for a sign-in link to ``email``: the same single row whoever holds the
    address, or nobody (:func:`send_requested` answers it). False, and nothing recorded, when
    ``email`` is not an email address at all (the page refuses those before calling)."""
    key = email_key(email.strip())
    if key is None:
        return False
    uow.portal.add_request(new_id(), program.id, key, clock.now())
    return True


def send_requested(
    uow_factory: UnitOfWorkFactory, clock: Clock, program_id: str, *, base_url: str
) -> int:
    """Answer the program's sign-in requests, oldest first, in batches of ``REQUEST_BATCH``:
    each request is deleted, and when its email is an active member's a link is minted and its
    ``portal.sign_in`` email queued in the same transaction. Returns the links sent."""
    sent = 0
    while True:

        def batch(uow: UnitOfWork) -> tuple[int, int]:
            keys = uow.portal.take_requests(program_id, REQUEST_BATCH)
            if not keys:
                return 0, 0
            program = get_program(uow, program_id)
            return len(keys), sum(_answer(uow, clock, program, k, base_url) for k in keys)

        taken, done = run_in_transaction(uow_factory, batch)
        sent += done
        if taken < REQUEST_BATCH:
            return sent


def _answer(uow: UnitOfWork, clock: Clock, program: Program, key: str, base_url: str) -> bool:
    """Email a link to the active member holding the email ``key``, if exactly one does."""
    found = list(uow.members.find(program.id, MemberFilter(email_key=key), after=None, limit=2))
    if len(found) != 1 or found[0].status != "active" or not found[0].email:
        return False
    member = found[0]
    send_link(
        uow,
        clock,
        portal_actor(member.id),
        program,
        member,
        source="email",
        base_url=base_url,
    )
    return True


def peek(uow: UnitOfWork, program: Program, token: str) -> PortalLink | None:
    """The link of ``token`` as stored (nothing changes)."""
    return uow.portal.link(program.id, digest(token)) if token else None


def open_session(uow: UnitOfWork, clock: Clock, program: Program, token: str) -> Opened:
    """Use a link once and open a session. Raises: LinkNotValid (with its reason)."""
    now = clock.now()
    link = uow.portal.link(program.id, digest(token)) if token else None
    if link is None:
        raise LinkNotValid("this sign-in link is not valid", reason="unknown")
    if link.used_at is not None:
        raise LinkNotValid("this sign-in link was already used", reason="used")
    if now >= link.expires_at:
        raise LinkNotValid("this sign-in link has expired", reason="expired")
    member = uow.members.get(program.id, link.member_id)
    if member is None or member.status != "active":
        raise LinkNotValid("this account has no portal access", reason="member")
    if not uow.portal.use_link(link.id, now):
        raise LinkNotValid("this sign-in link was already used", reason="used")
    session_token = secrets.token_urlsafe(32)
    session = PortalSession(
        id=new_id(),
        program_id=program.id,
        member_id=member.id,
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    uow.portal.add_session(session, digest(session_token))
    return Opened(session, session_token, link)


def authenticate(
    uow: UnitOfWork, program: Program, token: str, now: datetime
) -> tuple[PortalSession, Member] | None:
    """The live session of ``token`` and its member, who must still be active; else None."""
    if not token:
        return None
    session = uow.portal.session(program.id, digest(token))
    if session is None or not session.live(now):
        return None
    member = uow.members.get(program.id, session.member_id)
    if member is None or member.status != "active":
        return None
    return session, member


def sign_out(uow: UnitOfWork, clock: Clock, session: PortalSession) -> None:
    uow.portal.end_session(session.id, clock.now())


def end_member(uow: UnitOfWork, program_id: str, member_id: str, now: datetime) -> int:
    """End the member's sessions and spend its links (freeze, closure, erasure)."""
    return uow.portal.end_member(program_id, member_id, now)
