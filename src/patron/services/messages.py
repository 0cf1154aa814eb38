"""Messages to members: from outbox facts to sent email and SMS, exactly when they should go.

The pipeline has two steps, each safe to run from several workers at once (SPEC §11):

1. **Planning** (one transaction per batch of facts). Committed facts not yet handled
   (``outbox.messaged_at`` empty) become one message per active template of their event and
   channel, rendered with the member's values, and the facts are marked handled. A message is
   unique on (member, event, channel, subject of the fact): the fact's own id for the thing it
   is about (the ledger entry, the redemption, the referral, the expiry reminder), so a fact
   turns into a given message once, ever, across reruns, workers and restarts. What cannot go
   is written too, ``skipped`` with its reason (``no_contact``, ``no_consent``, ``member_*``),
   so the member's message log tells every decision. Facts older than ``STALE`` when planned
   (a worker that was down for days) send nothing: late news is worse than none.
2. **Delivery**. A worker claims due ``queued`` messages (lease and attempt counted, committed)
   and checks each again at send time: the member's status (erasure, freeze and closure stop
   messages at once), the contact, the channel's consent for marketing, the frequency cap for
   marketing (expiry reminders exempt), SMS quiet hours in the program's time zone (held until
   they end, not dropped), and whether a transport is configured (``skipped: no_transport``
   otherwise: the embedded default never fails a use case). It then sends one message at a time
   over the transport's reused connection and records each result (committed) right after the
   server's answer, before the server is let to accept the next one. Transient failures are
   retried on ``RETRY_DELAYS``; permanent ones are ``failed``.

**Pipelining.** Recording a result costs a database round trip and a commit; sending costs a few
SMTP round trips. With a two-step transport (``PipelinedEmailTransport``: SMTP) the two overlap:
while a writer thread records message *i* through the unit of work factory's
``message_recorder`` (on PostgreSQL one autocommit connection kept for the batch, one statement
per record), the next email is prepared, every byte but the final dot. Only when record *i* has
committed is the dot sent and message *i+1* accepted. The order of acceptance and record is the
same as without the overlap, so the crash guarantee below holds unchanged.

A worker killed after the SMTP server accepted a message and before the record commits leaves
that one message leased; when the lease ends it is sent again: at most that one message twice
(the ``Message-ID`` header is the same both times, so mail systems can tell). Every other
message of its batch is either recorded or was never handed to the server.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from patron.domain import messages as rules
from patron.domain.audit import Actor
from patron.domain.config import ProgramConfig
from patron.domain.config.messages import Messages
from patron.domain.errors import Conflict, NotFound, ValidationFailed
from patron.domain.ids import new_id
from patron.domain.members import Member
from patron.domain.programs import Program
from patron.services import audit
from patron.services.ledger_steps import StoppedClock
from patron.services.members import ConsentInput, get_member, update_member
from patron.services.message_templates import (
    Links,
    Template,
    all_templates,
    balances,
    draft_errors,
    effective,
    event_values,
    member_values,
)
from patron.services.ports import (
    Delivery,
    EmailTransport,
    Message,
    MessageRecorder,
    MessageUpdate,
    OutboxEvent,
    OutgoingEmail,
    OutgoingSms,
    PendingEmail,
    PipelinedEmailTransport,
    SmsTransport,
    TransportUnavailable,
    UnitOfWork,
    UnitOfWorkFactory,
)
from patron.services.programs import get_program, load_config
from patron.services.transactions import run_in_transaction, run_read

PLAN_BATCH = 200
CLAIM_BATCH = 50
LEASE = timedelta(minutes=5)
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=8),
)
"""After each transient failure, the wait before the next attempt; after the last, ``failed``."""
STALE = timedelta(days=3)
UNSUBSCRIBE = Actor(kind="system", id="unsubscribe", name="One-click unsubscribe")
UNSUBSCRIBE_SOURCE = "unsubscribe_link"


@dataclass(frozen=True, slots=True)
class Outlets:
    """Where messages go: the transports (None: not configured) and the base of links."""

    email: EmailTransport | None
    sms: SmsTransport | None
    base_url: str


class NoTransport(Conflict):
    code = "no_transport"
    title = "No transport configured for this channel"


class MessageNotFound(NotFound):
    code = "message_not_found"
    title = "Message not found"


class InvalidUnsubscribeLink(NotFound):
    code = "invalid_unsubscribe_link"
    title = "This unsubscribe link is not valid"


def recipient(event: OutboxEvent) -> str | None:
    """The member a fact is addressed to (a referral's message goes to the referrer)."""
    key = "referrer_id" if event.type == "referral.completed" else "member_id"
    value = event.payload.get(key)
    return str(value) if value else None


def subject_key(event: OutboxEvent) -> str:
    """What the fact is about: one message per (member, template) and this key, ever."""
    payload = event.payload
    if event.type == "points.earned" and payload.get("reference"):
        return f"ref:{payload['reference']}"  # one message per purchase (``_one_per_purchase``)
    own = {
        "points.earned": "entry_id",
        "reward.redeemed": "redemption_id",
        "referral.completed": "referral_id",
        "member.enrolled": "member_id",
        "portal.sign_in": "link_id",
    }.get(event.type)
    if own and payload.get(own):
        return str(payload[own])
    if event.type == "points.expiring" and event.subject:
        return event.subject
    return event.id


def contact(member: Member, channel: str) -> str | None:
    return member.email if channel == "email" else member.phone


def consented(member: Member, channel: str) -> bool:
    consent = member.consents.get(channel)
    return consent is not None and consent.granted


# --- planning -------------------------------------------------------------------------------


def plan(uow_factory: UnitOfWorkFactory, program_id: str, now: datetime, base_url: str) -> int:
    """Turn every committed, unhandled fact into messages; returns the messages written."""
    scoped = uow_factory.scoped(program_id)
    written = 0
    while (done := run_in_transaction(scoped, lambda uow: _plan(uow, program_id, now, base_url)))[
        0
    ]:
        written += done[1]
    return written


def _plan(uow: UnitOfWork, program_id: str, now: datetime, base_url: str) -> tuple[int, int]:
    events = uow.messages.unplanned(program_id, PLAN_BATCH)
    if not events:
        return 0, 0
    program = get_program(uow, program_id)
    config = load_config(uow, program)
    templates = {(t.event, t.channel): t for t in all_templates(uow, program, config) if t.active}
    wanted = [
        (event, member_id)
        for event in events
        if event.type in rules.EVENTS
        and now - event.occurred_at <= STALE
        and (member_id := recipient(event)) is not None
        and any((event.type, channel) in templates for channel in rules.CHANNELS)
    ]
    wanted = _one_per_purchase(wanted, config)
    members = {
        member_id: found
        for member_id in {member_id for _, member_id in wanted}
        if (found := uow.members.get(program.id, member_id)) is not None
    }
    reachable = [m.id for m in members.values() if m.status not in ("erased",)]
    points = balances(uow, program, config, reachable, now)
    links = Links(base_url, uow.messages.key(program.id, now, create=True))
    rows: list[Message] = []
    for event, member_id in wanted:
        member = members.get(member_id)
        if member is None:
            continue
        for channel in rules.CHANNELS:
            template = templates.get((event.type, channel))
            if template is not None:
                rows.append(
                    _message(uow, program, config, event, member, template, points, links, now)
                )
    written = uow.messages.add(rows)
    uow.messages.mark_planned([event.id for event in events], now)
    return len(events), written


def settle(uow_factory: UnitOfWorkFactory, program_id: str, now: datetime) -> int:
    """Mark every unhandled fact handled without messages (a demo's made-up history);
    returns the facts marked."""
    scoped = uow_factory.scoped(program_id)
    marked = 0

    def batch(uow: UnitOfWork) -> int:
        events = uow.messages.unplanned(program_id, PLAN_BATCH * 5)
        uow.messages.mark_planned([event.id for event in events], now)
        return len(events)

    while done := run_in_transaction(scoped, batch):
        marked += done
    return marked


def _one_per_purchase(
    wanted: list[tuple[OutboxEvent, str]], config: ProgramConfig
) -> list[tuple[OutboxEvent, str]]:
    """Points earned by one purchase (several rules, each its own entry) make one message with
    their sum; money wallets (cashback) and zero amounts make none. Facts of one purchase are
    written together, so they plan in one batch except across a batch boundary, where the
    later part is left out (the message's key is taken): a message may then show less than the
    purchase's whole total, never a second message."""
    kept: dict[tuple[str, str], tuple[OutboxEvent, str]] = {}
    for event, member_id in wanted:
        if event.type != "points.earned":
            kept[(event.id, "")] = (event, member_id)
            continue
        wallet = config.wallets.get(str(event.payload.get("wallet")))
        amount = int(event.payload.get("amount") or 0)
        if wallet is None or wallet.is_money or amount <= 0:
            continue
        key = (member_id, subject_key(event))
        if key in kept:
            first, _ = kept[key]
            total = int(first.payload.get("amount") or 0) + amount
            kept[key] = (replace(first, payload={**first.payload, "amount": total}), member_id)
        else:
            kept[key] = (event, member_id)
    return list(kept.values())


def _message(
    uow: UnitOfWork,
    program: Program,
    config: ProgramConfig,
    event: OutboxEvent,
    member: Member,
    template: Template,
    points: dict[str, int],
    links: Links,
    now: datetime,
) -> Message:
    base = Message(
        id=new_id(),
        program_id=program.id,
        member_id=member.id,
        event=event.type,
        channel=template.channel,
        category=template.category,
        subject_key=subject_key(event),
        event_id=event.id,
        status="skipped",
        reason=None,
        to_address=None,
        subject=None,
        body=None,
        attempts=0,
        next_attempt_at=None,
        last_attempt_at=None,
        sent_at=None,
        created_at=now,
    )
    refused = _refusal(member, template.channel, template.category)
    if refused is not None:
        return replace(base, reason=refused)
    values = {
        **member_values(program, config, member, template.channel, points.get(member.id, 0), links),
        **event_values(uow, program, config, event.type, event.payload, member),
    }
    try:
        subject = rules.render(template.subject, values) if template.subject else None
        body = rules.render(template.body, values)
    except Exception as exc:  # a saved template was checked; this is a last resort
        return replace(base, status="failed", reason="template_error", detail=str(exc)[:500])
    return replace(
        base,
        status="queued",
        to_address=contact(member, template.channel),
        subject=subject,
        body=body,
        next_attempt_at=now,
    )


def _refusal(member: Member | None, channel: str, category: str) -> str | None:
    """Why a message may not go to this member now, or None."""
    if member is None or member.status == "erased":
        return "member_erased"
    if member.status in ("frozen", "closed"):
        return f"member_{member.status}"
    if not contact(member, channel):
        return "no_contact"
    if category == "marketing" and not consented(member, channel):
        return "no_consent"
    return None


def queue_direct(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    event: str,
    subject: str,
    payload: dict[str, Any],
    now: datetime,
    base_url: str,
) -> list[Message]:
    """Queue the messages of ``event`` for one member now, without an outbox fact: for what
    must not travel in facts, which webhooks receive (a portal sign-in link is a secret).
    ``subject`` keys them (once per member, template and subject, as planned messages);
    ``payload`` gives the event's own values (``portal.sign_in``: ``link``, ``valid_minutes``).
    Returns the messages written, skipped ones included; the worker sends them."""
    config = load_config(uow, program)
    links = Links(base_url, uow.messages.key(program.id, now, create=True))
    points = balances(uow, program, config, [member.id], now)
    fact = OutboxEvent(
        id=new_id(),
        program_id=program.id,
        type=event,
        subject=subject,
        payload=payload,
        occurred_at=now,
    )
    rows = [
        replace(
            _message(uow, program, config, fact, member, template, points, links, now),
            subject_key=subject,
            event_id=None,
        )
        for template in all_templates(uow, program, config)
        if template.event == event and template.active
    ]
    uow.messages.add(rows)
    return rows


# --- delivery -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Claimed:
    count: int
    outgoing: list[tuple[Message, OutgoingEmail | OutgoingSms]]


def deliver_due(
    uow_factory: UnitOfWorkFactory,
    program_id: str,
    now: datetime,
    outlets: Outlets,
    *,
    batch: int = CLAIM_BATCH,
) -> int:
    """Send every message due at ``now``; returns the messages handled (sent, skipped, held,
    failed or retried). Claimed messages move past ``now``, so the loop always ends."""
    scoped = uow_factory.scoped(program_id)
    handled = 0
    with (
        scoped.message_recorder() as recorder,
        ThreadPoolExecutor(1, thread_name_prefix="patron-messages-record") as writer,
    ):
        while True:
            claimed = run_in_transaction(
                scoped, lambda uow: _claim(uow, program_id, now, outlets, batch)
            )
            if claimed.count == 0:
                return handled
            handled += claimed.count
            _deliver(claimed.outgoing, outlets, recorder, writer, now)


def _deliver(
    outgoing: list[tuple[Message, OutgoingEmail | OutgoingSms]],
    outlets: Outlets,
    recorder: MessageRecorder,
    writer: ThreadPoolExecutor,
    now: datetime,
) -> None:
    """Send a claimed batch one message at a time, each result recorded (committed) before the
    server is let to accept the next message: a crash can only leave the one accepted message
    unrecorded. With a two-step email transport the wait overlaps: the next email goes to the
    server up to its last step while the previous record is written in ``writer``'s thread."""
    email = outlets.email
    pipelined = email if isinstance(email, PipelinedEmailTransport) else None
    recording: Future[None] | None = None
    unreachable: str | None = None
    try:
        for message, item in outgoing:
            step: Delivery | PendingEmail | None = None  # None: sent whole, after the wait
            if isinstance(item, OutgoingEmail) and unreachable is not None:
                step = Delivery("retry", unreachable)
            elif isinstance(item, OutgoingEmail) and pipelined is not None:
                try:
                    step = pipelined.prepare(item)
                except TransportUnavailable as error:
                    unreachable = str(error)  # the rest of the batch's emails wait too
                    step = Delivery("retry", unreachable)
                except Exception as exc:  # a transport that raises is a transient failure
                    step = Delivery("retry", f"{type(exc).__name__}: {exc}")
            previous, recording = recording, None
            try:
                _wait(previous)
            except BaseException:
                if step is not None and not isinstance(step, Delivery):
                    step.abandon()
                raise
            if step is None:
                result = _send(outlets, item)
            elif isinstance(step, Delivery):
                result = step
            else:
                result = _finish(step)
            recording = writer.submit(recorder.record, _outcome(message, result, now))
    finally:
        _wait(recording)


def _wait(recording: Future[None] | None) -> None:
    if recording is not None:
        recording.result()


def _finish(pending: PendingEmail) -> Delivery:
    try:
        return pending.finish()
    except Exception as exc:  # as ``_send``: a transport that raises is a transient failure
        return Delivery("retry", f"{type(exc).__name__}: {exc}")


def _send(outlets: Outlets, outgoing: OutgoingEmail | OutgoingSms) -> Delivery:
    try:
        if isinstance(outgoing, OutgoingEmail):
            assert outlets.email is not None
            return outlets.email.send([outgoing])[0]
        assert outlets.sms is not None
        return outlets.sms.send([outgoing])[0]
    except Exception as exc:  # a transport that raises is a transient failure, not a crash
        return Delivery("retry", f"{type(exc).__name__}: {exc}")


def _claim(
    uow: UnitOfWork, program_id: str, now: datetime, outlets: Outlets, batch: int
) -> _Claimed:
    claimed = uow.messages.claim(program_id, now, now + LEASE, batch)
    if not claimed:
        return _Claimed(0, [])
    program = get_program(uow, program_id)
    policy = load_config(uow, program).messages or Messages()
    links = Links(outlets.base_url, uow.messages.key(program.id, now, create=True))
    updates: list[MessageUpdate] = []
    outgoing: list[tuple[Message, OutgoingEmail | OutgoingSms]] = []
    counted: dict[tuple[str, str], int] = {}
    members = uow.members.by_ids(program_id, sorted({m.member_id for m in claimed}))
    for message in claimed:
        member = members.get(message.member_id)
        reason = _refusal(member, message.channel, message.category)
        if reason is None and message.body is None:
            reason = "no_content"
        if reason is not None:
            updates.append(MessageUpdate(message.id, "skipped", reason, None, None))
            continue
        assert member is not None
        if message.channel == "sms":
            held = _quiet_until(policy, program, now)
            if held is not None:
                updates.append(
                    MessageUpdate(
                        message.id, "queued", "quiet_hours", None, held, attempts_back=True
                    )
                )
                continue
        if _capped(uow, policy, message, counted, now):
            updates.append(MessageUpdate(message.id, "skipped", "frequency_cap", None, None))
            continue
        transport = outlets.email if message.channel == "email" else outlets.sms
        if transport is None:
            updates.append(MessageUpdate(message.id, "skipped", "no_transport", None, None))
            continue
        to = contact(member, message.channel)
        assert to is not None
        counted[(member.id, message.channel)] = counted.get((member.id, message.channel), 0) + 1
        outgoing.append((message, _outgoing(program, message, to, links)))
    uow.messages.record(program_id, updates)
    return _Claimed(len(claimed), outgoing)


def _capped(
    uow: UnitOfWork,
    policy: Messages,
    message: Message,
    counted: dict[tuple[str, str], int],
    now: datetime,
) -> bool:
    if (
        message.category != "marketing"
        or rules.EVENTS.get(message.event, rules.EVENTS["points.earned"]).exempt_from_caps
    ):
        return False
    cap = policy.cap(message.channel)
    if cap is None:
        return False
    exempt = [e for e, kind in rules.EVENTS.items() if kind.exempt_from_caps]
    sent = uow.messages.marketing_sent(
        message.member_id, message.channel, now - timedelta(days=cap.days), exempt
    )
    return sent + counted.get((message.member_id, message.channel), 0) >= cap.count


def _quiet_until(policy: Messages, program: Program, now: datetime) -> datetime | None:
    """When the program's SMS quiet hours end, if ``now`` is inside them."""
    quiet = policy.quiet()
    zone = ZoneInfo(program.timezone)
    local = now.astimezone(zone)
    if not quiet.holds(local.time().replace(tzinfo=None)):
        return None
    end = datetime.combine(local.date(), quiet.end, tzinfo=zone)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=zone)
    return end.astimezone(now.tzinfo)


def _outgoing(
    program: Program, message: Message, to: str, links: Links
) -> OutgoingEmail | OutgoingSms:
    body = message.body or ""
    if message.channel == "sms":
        return OutgoingSms(message.id, to, body)
    headers: dict[str, str] = {}
    if message.category == "marketing":
        url = links.unsubscribe(program, message.member_id, "email")
        headers = {
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    subject = message.subject or program.name
    return OutgoingEmail(
        message_id=message.id,
        to=to,
        subject=subject,
        text=body,
        html=rules.html_body(body, title=subject),
        headers=headers,
        sender_name=program.name,
    )


def _outcome(message: Message, result: Delivery, now: datetime) -> MessageUpdate:
    if result.status == "sent":
        return MessageUpdate(message.id, "sent", None, result.detail, None, sent_at=now)
    if result.status == "failed":
        return MessageUpdate(message.id, "failed", "rejected", result.detail, None)
    if message.attempts > len(RETRY_DELAYS):
        return MessageUpdate(message.id, "failed", "gave_up", result.detail, None)
    wait = RETRY_DELAYS[message.attempts - 1]
    return MessageUpdate(message.id, "queued", "retrying", result.detail, now + wait)


def run(uow_factory: UnitOfWorkFactory, program_id: str, now: datetime, outlets: Outlets) -> int:
    """Plan new facts, then deliver what is due: the messages worker's tick for one program."""
    plan(uow_factory, program_id, now, outlets.base_url)
    return deliver_due(uow_factory, program_id, now, outlets)


# --- the member's log, resend ------------------------------------------------------------


def member_log(
    uow: UnitOfWork, program: Program, member_id: str, *, limit: int, before: str | None
) -> list[Message]:
    """Raises: MemberNotFound."""
    get_member(uow, program, member_id)
    return uow.messages.of_member(program.id, member_id, limit, before)


def resend(
    uow: UnitOfWork, program: Program, actor: Actor, now: datetime, member_id: str, message_id: str
) -> Message:
    """Queue a copy of a message (support: "I never got my voucher email"). The copy goes
    through every send-time check again (consent, status, caps, transport).

    Raises: MemberNotFound, MessageNotFound, BusinessRuleViolation (nothing left to resend)."""
    get_member(uow, program, member_id)
    original = uow.messages.get(program.id, message_id)
    if original is None or original.member_id != member_id:
        raise MessageNotFound(f"no message {message_id!r} for this member", message=message_id)
    if original.body is None:
        raise ValidationFailed(
            [],
            detail="this message has no content to send again (it was skipped before it was "
            "written, or the member was erased)",
        )
    number = uow.messages.resends(original.id) + 1
    copy = replace(
        original,
        id=new_id(),
        subject_key=f"{original.subject_key}:resend:{number}",
        status="queued",
        reason=None,
        attempts=0,
        next_attempt_at=now,
        last_attempt_at=None,
        sent_at=None,
        created_at=now,
        detail=None,
        resend_of=original.id,
    )
    uow.messages.add([copy])
    audit.record(
        uow,
        program_id=program.id,
        actor=actor,
        action="message.resent",
        target=("member", member_id),
        at=now,
        after={"message": copy.id, "resend_of": original.id, "event": original.event},
    )
    return copy


# --- preview and test send ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str | None
    body: str
    html: str | None
    category: str


def preview(
    uow: UnitOfWork,
    program: Program,
    now: datetime,
    event: str,
    channel: str,
    *,
    base_url: str,
    member_id: str | None = None,
    subject: str | None = None,
    body: str | None = None,
) -> Rendered:
    """The template (or the given draft of it) rendered with a member's values, or sample ones.
    Nothing is sent or stored.

    Raises: TemplateNotFound, MemberNotFound, ValidationFailed (the draft's errors)."""
    config = load_config(uow, program)
    template = effective(uow, program, config, event, channel)
    if body is not None:
        errors = draft_errors(event, channel, subject, body)
        if errors:
            raise ValidationFailed(errors)
        template = replace(template, subject=subject, body=body)
    values = rules.sample(event) | {"program_name": program.name}
    links = Links(base_url, uow.messages.key(program.id, now, create=False))
    values["portal_link"] = links.portal(program)
    if member_id is not None:
        member = get_member(uow, program, member_id)
        points = balances(uow, program, config, [member.id], now).get(member.id, 0)
        values |= member_values(program, config, member, channel, points, links)
    text = rules.render(template.body, values)
    title = rules.render(template.subject, values) if template.subject else None
    html = rules.html_body(text, title=title or program.name) if channel == "email" else None
    return Rendered(title, text, html, template.category)


def send_test(
    uow_factory: UnitOfWorkFactory,
    program: Program,
    actor: Actor,
    now: datetime,
    outlets: Outlets,
    event: str,
    channel: str,
    *,
    to: str,
    member_id: str | None = None,
    subject: str | None = None,
    body: str | None = None,
) -> Delivery:
    """Render as ``preview`` does and send it now to ``to`` (not to a member: the message log
    is untouched); the send is audited.

    Raises: NoTransport, and what ``preview`` raises."""
    transport = outlets.email if channel == "email" else outlets.sms
    if transport is None:
        raise NoTransport(
            f"no {channel} transport is configured (see docs/messages.md)", channel=channel
        )
    scoped = uow_factory.scoped(program.id)
    rendered = run_read(
        scoped,
        lambda uow: preview(
            uow,
            program,
            now,
            event,
            channel,
            base_url=outlets.base_url,
            member_id=member_id,
            subject=subject,
            body=body,
        ),
    )
    message_id = new_id()
    if channel == "email":
        title = f"[Test] {rendered.subject or program.name}"
        result = _send(
            outlets,
            OutgoingEmail(
                message_id, to, title, rendered.body, rendered.html, {}, sender_name=program.name
            ),
        )
    else:
        result = _send(outlets, OutgoingSms(message_id, to, rendered.body))

    def record(uow: UnitOfWork) -> None:
        audit.record(
            uow,
            program_id=program.id,
            actor=actor,
            action="message_template.test_sent",
            target=("message_template", f"{event}/{channel}"),
            at=now,
            after={"to": to, "status": result.status, "detail": result.detail},
        )

    run_in_transaction(scoped, record)
    return result


# --- one-click unsubscribe ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unsubscribed:
    program_name: str
    channel: str
    changed: bool
    """False when the consent was already withdrawn (or the member is gone): nothing to do."""
    locale: str | None = None


def _verified(uow: UnitOfWork, token: str, now: datetime) -> tuple[Program, rules.UnsubscribeClaim]:
    claim = rules.read_unsubscribe_token(token)
    if claim is None:
        raise InvalidUnsubscribeLink("this unsubscribe link is not valid")
    key = uow.messages.key(claim.program_id, now, create=False)
    if key is None or not claim.valid(key):
        raise InvalidUnsubscribeLink("this unsubscribe link is not valid")
    return get_program(uow, claim.program_id), claim


def check_unsubscribe(uow: UnitOfWork, token: str, now: datetime) -> Unsubscribed:
    """What a GET of the link shows; changes nothing. Raises: InvalidUnsubscribeLink."""
    program, claim = _verified(uow, token, now)
    member = uow.members.get(program.id, claim.member_id)
    subscribed = (
        member is not None and member.status != "erased" and consented(member, claim.channel)
    )
    return Unsubscribed(program.name, claim.channel, subscribed, load_config(uow, program).locale)


def unsubscribe(uow: UnitOfWork, token: str, now: datetime) -> Unsubscribed:
    """Withdraw the channel's consent at once, recorded in the consent history with source
    ``unsubscribe_link``. Repeating it changes nothing. Raises: InvalidUnsubscribeLink."""
    program, claim = _verified(uow, token, now)
    member = uow.members.get(program.id, claim.member_id)
    locale = load_config(uow, program).locale
    if member is None or member.status == "erased" or not consented(member, claim.channel):
        return Unsubscribed(program.name, claim.channel, False, locale)
    changes: dict[str, Any] = {
        "consents": {claim.channel: ConsentInput(granted=False, source=UNSUBSCRIBE_SOURCE)}
    }
    update_member(uow, StoppedClock(now), UNSUBSCRIBE, program, member.id, changes)
    return Unsubscribed(program.name, claim.channel, True, locale)


def program_scope(token: str) -> str | None:
    """The program a token names (unverified), to open a unit of work in its scope."""
    claim = rules.read_unsubscribe_token(token)
    return claim.program_id if claim else None


__all__ = [
    "Outlets",
    "Rendered",
    "Unsubscribed",
    "check_unsubscribe",
    "deliver_due",
    "member_log",
    "plan",
    "preview",
    "program_scope",
    "queue_direct",
    "resend",
    "run",
    "send_test",
    "unsubscribe",
]
