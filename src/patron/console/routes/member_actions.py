"""What staff do to a member from its page: adjust, freeze / unfreeze, override the tier,
send a portal sign-in link, download the export, erase, resend a message.

Each write is a POST form with the page's one-time token, run through ``forms.perform_in`` with
the services the API routes call (``api/routes/ledger.py`` adjust, ``members.py`` update and
erase, ``tiers.py`` grant), so it is audited with the staff user as actor and a double submit
applies once. A support user's adjustment is first charged against its limits
(``services.staff.charge_adjustment``) in the same transaction: above them, LimitExceeded rolls
everything back and the page comes back with the message at the form (403).

Forms a role may not use are hidden on the page and refused here (``in_program`` → 403 page).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from starlette.responses import JSONResponse, Response

from patron.console.deps import FormRefused, Page, in_program, page
from patron.console.forms import Done, field_errors, form_data, perform_in
from patron.console.routes.members import display_name, show
from patron.console.routing import router as make_router
from patron.console.templating import money, points
from patron.domain.errors import (
    FieldError,
    Forbidden,
    NotFound,
    PatronError,
    ValidationFailed,
)
from patron.domain.members import Member
from patron.domain.money import from_minor, to_minor
from patron.services import audit, ledger, members, messages, portal, privacy, staff, tiers
from patron.services.ledger import Context
from patron.services.member_export import export_document
from patron.services.ports import Message, UnitOfWork
from patron.services.transactions import run_in_transaction, run_read

router = make_router("/console/programs/{program}/members/{member}")


def _name(m: Member) -> str:
    return display_name(m.first_name, m.last_name, m.external_id, m.id)


def _attempt(
    request: Request,
    at: Page,
    member: str,
    form: dict[str, str],
    which: str,
    run: Callable[[], Response],
    fields: dict[str, str] | None = None,
) -> Response:
    """Run the write; on a refusal, the member's page again with what went wrong at the form."""
    values = {k: v for k, v in form.items() if k != "token"}
    try:
        return run()
    except (FormRefused, NotFound):
        raise
    except ValidationFailed as error:
        found = {(fields or {}).get(k, k): v for k, v in field_errors(error).items()}
        message = "Nothing was changed: " + ("; ".join(found.values()) or str(error))
        problem = {"form": which, "message": message}
        return show(request, at, member, errors=found, problem=problem, values=values, status=422)
    except PatronError as error:
        status = 403 if isinstance(error, Forbidden) else 409
        problem = {"form": which, "message": f"Nothing was changed: {error}"}
        return show(request, at, member, problem=problem, values=values, status=status)


def _amount(text: str, money_wallet: bool, exponent: int) -> int:
    text = text.strip().replace(",", "")
    if money_wallet:
        return to_minor(text, exponent)
    try:
        return int(text)
    except ValueError:
        raise ValidationFailed(
            [FieldError("amount", "write a whole number of points, like 15 or -15")]
        ) from None


@router.post("/adjust")
def adjust(
    member: str,
    request: Request,
    form: dict[str, str] = Depends(form_data),
    at: Page = Depends(in_program("members.adjust")),
) -> Response:
    wallet_code = form.get("wallet", "")
    reason = form.get("reason", "").strip()

    def action(uow: UnitOfWork) -> tuple[Member, int, bool]:
        ctx = Context(uow, at.box.clock, at.staff.actor, at.program)
        wallet = ctx.wallet(wallet_code)
        amount = _amount(form.get("amount", ""), wallet.is_money, at.program.currency_exponent)
        if not reason:
            raise ValidationFailed([FieldError("reason", "say why (the member will see it)")])
        found = members.get_member(uow, at.program, member)
        staff.charge_adjustment(uow, at.program, at.grant, amount, at.box.clock.now())
        ledger.adjust(ctx, member, wallet=wallet_code, amount=amount, reason=reason)
        return found, amount, wallet.is_money

    def done(result: tuple[Member, int, bool]) -> Done:
        found, amount, is_money = result
        size = abs(amount)
        shown = (
            money(from_minor(size, at.program.currency_exponent), at.program.currency)
            if is_money
            else f"{points(size)} points"
        )
        verb = f"Added {shown} to" if amount > 0 else f"Took {shown} from"
        return Done(
            f"{at.base}/members/{found.id}",
            f"{verb} {_name(found)}'s balance. Reason: {reason}",
        )

    return _attempt(
        request,
        at,
        member,
        form,
        "adjust",
        lambda: perform_in(
            request, at, form, action, done, audit_as=("member.adjust", ("member", member))
        ),
    )


@router.post("/status")
def set_status(
    member: str,
    request: Request,
    form: dict[str, str] = Depends(form_data),
    at: Page = Depends(in_program("members.status")),
) -> Response:
    wanted = form.get("status", "")

    def action(uow: UnitOfWork) -> Member:
        if wanted not in ("active", "frozen"):
            raise ValidationFailed([FieldError("status", "choose freeze or unfreeze")])
        return members.update_member(
            uow, at.box.clock, at.staff.actor, at.program, member, {"status": wanted}
        )

    def done(found: Member) -> Done:
        what = "frozen: it earns and redeems nothing" if wanted == "frozen" else "active again"
        return Done(f"{at.base}/members/{found.id}", f"{_name(found)} is {what}.")

    return _attempt(
        request,
        at,
        member,
        form,
        "status",
        lambda: perform_in(
            request, at, form, action, done, audit_as=("member.status", ("member", member))
        ),
    )


def _until(text: str, tz: str) -> datetime:
    """The end of the chosen day in the program's time zone."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(
            [FieldError("until", "choose the last day, like 2027-03-31")]
        ) from None
    return datetime.combine(day + timedelta(days=1), time(), ZoneInfo(tz))


@router.post("/tier")
def override_tier(
    member: str,
    request: Request,
    form: dict[str, str] = Depends(form_data),
    at: Page = Depends(in_program("members.tier")),
) -> Response:
    code = form.get("code", "")
    reason = form.get("tier_reason", "")

    def action(uow: UnitOfWork) -> Member:
        until = _until(form.get("until", ""), at.program.timezone)
        ctx = Context(uow, at.box.clock, at.staff.actor, at.program)
        found = members.get_member(uow, at.program, member)
        tiers.grant(ctx, member, code=code, until=until, reason=reason, paid=False)
        return found

    def done(found: Member) -> Done:
        return Done(
            f"{at.base}/members/{found.id}",
            f"{_name(found)} holds the tier {code} until {form.get('until')}. Reason: {reason}",
        )

    return _attempt(
        request,
        at,
        member,
        form,
        "tier",
        lambda: perform_in(
            request, at, form, action, done, audit_as=("member.tier_override", ("member", member))
        ),
        fields={"reason": "tier_reason"},
    )


@router.post("/portal-link")
def send_portal_link(
    member: str,
    request: Request,
    form: dict[str, str] = Depends(form_data),
    at: Page = Depends(in_program("members.portal_link")),
) -> Response:
    """Email the member a one-time sign-in link to its portal (``portal.sign_in`` message)."""

    def action(uow: UnitOfWork) -> Member:
        found = members.get_member(uow, at.program, member)
        if not found.email:
            raise ValidationFailed(
                [FieldError("portal", "the member has no email address to send the link to")]
            )
        portal.send_link(
            uow,
            at.box.clock,
            at.staff.actor,
            at.program,
            found,
            source="console",
            base_url=at.box.settings.base_url(),
        )
        return found

    def done(found: Member) -> Done:
        return Done(
            f"{at.base}/members/{found.id}",
            f"A portal sign-in link is on its way to {_name(found)} (valid 15 minutes, once).",
        )

    return _attempt(
        request,
        at,
        member,
        form,
        "portal",
        lambda: perform_in(request, at, form, action, done),
    )


@router.get("/export")
def export(member: str, at: Page = Depends(in_program("members.export"))) -> Response:
    """The member's JSON export (the API's document), recorded in the audit log."""
    now = at.box.clock.now()

    def action(uow: UnitOfWork) -> dict[str, Any]:
        document = export_document(uow, at.program, member, now)
        audit.record(
            uow,
            program_id=at.program.id,
            actor=at.staff.actor,
            action="member.export",
            target=("member", document["member"]["id"]),
            at=now,
        )
        return document

    document = run_in_transaction(at.uow, action)
    name = document["member"]["external_id"] or document["member"]["id"]
    return JSONResponse(
        document,
        headers={"Content-Disposition": f'attachment; filename="member-{name}.json"'},
    )


def _erase_page(
    request: Request, at: Page, member: str, error: str | None = None, status: int = 200
) -> Response:
    found = run_read(at.uow, lambda uow: members.get_member(uow, at.program, member))
    return page(
        request,
        "members/erase.html",
        {
            "title": f"Erase {_name(found)}",
            "m": found,
            "expected": found.external_id or found.id,
            "errors": {"confirm": error} if error else {},
        },
        at=at,
        status=status,
    )


@router.get("/erase")
def erase_page(
    member: str, request: Request, at: Page = Depends(in_program("members.erase"))
) -> Response:
    return _erase_page(request, at, member)


@router.post("/erase")
def erase(
    member: str,
    request: Request,
    form: dict[str, str] = Depends(form_data),
    at: Page = Depends(in_program("members.erase")),
) -> Response:
    typed = form.get("confirm", "").strip()

    def action(uow: UnitOfWork) -> privacy.Erasure:
        found = members.get_member(uow, at.program, member)
        if typed != (found.external_id or found.id):
            raise ValidationFailed([FieldError("confirm", "type the id exactly as shown")])
        return privacy.erase(Context(uow, at.box.clock, at.staff.actor, at.program), member)

    def done(result: privacy.Erasure) -> Done:
        return Done(
            f"{at.base}/members/{member}",
            "The member's personal data is erased and its balances are closed.",
        )

    try:
        return perform_in(
            request, at, form, action, done, audit_as=("member.erase", ("member", member))
        )
    except ValidationFailed as error:
        return _erase_page(request, at, member, field_errors(error).get("confirm"), 422)


@router.post("/messages/{message}/resend")
def resend(
    member: str,
    message: str,
    request: Request,
    form: dict[str, str] = Depends(form_data),
    at: Page = Depends(in_program("messages.resend")),
) -> Response:
    """Queue a copy of the message; it goes through every send-time check again."""

    def action(uow: UnitOfWork) -> Message:
        now = at.box.clock.now()
        return messages.resend(uow, at.program, at.staff.actor, now, member, message)

    def done(copy: Message) -> Done:
        what = "email" if copy.channel == "email" else "SMS"
        return Done(
            f"{at.base}/members/{member}#messages",
            f"A copy of the message is queued: the {what} goes out with the next run of the "
            "messages worker, after the same checks (consent, status, caps).",
        )

    return _attempt(
        request,
        at,
        member,
        form,
        "resend",
        lambda: perform_in(request, at, form, action, done),
    )
