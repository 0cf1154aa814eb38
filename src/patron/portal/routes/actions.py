"""What a member does in its portal: redeem a reward, change its consents, download its data,
delete its account.

Writes go through ``forms.perform`` (CSRF, one application per form token) with the services
the API calls: ``rewards.redeem``, ``members.update_member`` (consents recorded with source
``portal``), ``privacy.erase``; the actor is the member (``services.portal.portal_actor``), so
the audit log says the portal did it. A refusal (not enough points, out of stock) comes back as
a message on the page; nothing was changed.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from starlette.responses import JSONResponse, Response

from patron.domain.errors import NotFound, PatronError
from patron.domain.rewards import display_voucher
from patron.portal.deps import SESSION_COOKIE, FormRefused, Site, Visit, page, signed_in, site
from patron.portal.forms import form_data, perform, redirect
from patron.portal.routes.pages import amount_text, channels_of, ctx
from patron.portal.routing import router as make_router
from patron.services import audit, member_profile, members, privacy, rewards
from patron.services.member_export import export_document
from patron.services.members import ConsentInput
from patron.services.ports import UnitOfWork
from patron.services.transactions import run_in_transaction, run_read

router = make_router()


@router.post("/rewards/{code}/redeem")
def redeem(
    code: str, form: dict[str, str] = Depends(form_data), visit: Visit = Depends(signed_in)
) -> Response:
    w = visit.words
    at = visit.site

    def action(uow: UnitOfWork) -> rewards.Redeemed:
        return rewards.redeem(ctx(visit, uow), visit.member.id, code)

    def done(result: rewards.Redeemed) -> tuple[str, str]:
        name = result.reward.name if result.reward else code
        r = result.redemption
        if r.voucher_code:
            message = w.t("redeemed_voucher", name=name, code=display_voucher(r.voucher_code))
            return f"{at.base}/vouchers/{r.id}", message
        return f"{at.base}/rewards", w.t("redeemed", name=name)

    try:
        return perform(visit, form, action, done)
    except (NotFound, FormRefused):
        raise
    except PatronError as error:
        return redirect(at, f"{at.base}/rewards", w.t("refused", reason=str(error)))


@router.post("/privacy/consents")
def consents(
    form: dict[str, str] = Depends(form_data), visit: Visit = Depends(signed_in)
) -> Response:
    w = visit.words
    at = visit.site

    def action(uow: UnitOfWork) -> Any:
        wanted = {
            channel: ConsentInput(granted=form.get(channel) == "on", source="portal")
            for channel in channels_of(visit)
            if (form.get(channel) == "on")
            != bool(visit.member.consents.get(channel) and visit.member.consents[channel].granted)
        }
        if not wanted:
            return None
        return members.update_member(
            uow,
            at.box.clock,
            ctx(visit, uow).actor,
            at.program,
            visit.member.id,
            {"consents": wanted},
        )

    return perform(visit, form, action, lambda _: (f"{at.base}/privacy", w.t("consents_saved")))


@router.get("/privacy/export")
def export(visit: Visit = Depends(signed_in)) -> Response:
    """The member's data as a JSON download: the export staff and the API give."""
    at = visit.site
    now = at.box.clock.now()

    def action(uow: UnitOfWork) -> dict[str, Any]:
        document = export_document(uow, at.program, visit.member.id, now)
        audit.record(
            uow,
            program_id=at.program.id,
            actor=ctx(visit, uow).actor,
            action="member.export",
            target=("member", visit.member.id),
            at=now,
        )
        return document

    document = run_in_transaction(at.uow, action)
    return JSONResponse(
        document,
        headers={
            "Content-Disposition": f'attachment; filename="{at.program.slug}-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


def _delete_page(visit: Visit, error: str | None = None, status: int = 200) -> Response:
    w = visit.words
    story = run_read(
        visit.site.uow,
        lambda uow: member_profile.profile(
            uow, visit.program, visit.member.id, now=visit.box.clock.now(), activity_limit=1
        ),
    )
    points = story.wallets.get("points")
    amount = amount_text(
        w, points.balance.available if points else 0, False, visit.program.currency_exponent
    )
    return page(
        visit.site,
        "delete.html",
        {"title": w.t("delete_confirm_title"), "amount": amount, "error": error},
        visit=visit,
        status=status,
        current="privacy",
    )


@router.get("/privacy/delete")
def delete_page(visit: Visit = Depends(signed_in)) -> Response:
    return _delete_page(visit)


@router.post("/privacy/delete")
def delete(
    form: dict[str, str] = Depends(form_data), visit: Visit = Depends(signed_in)
) -> Response:
    w = visit.words
    at = visit.site
    visit.nonce(form)
    if form.get("confirm", "").strip() != w.t("delete_word"):
        return _delete_page(visit, w.t("delete_wrong"), 422)

    def action(uow: UnitOfWork) -> privacy.Erasure:
        return privacy.erase(ctx(visit, uow), visit.member.id)

    perform(visit, form, action, lambda _: (f"{at.base}/goodbye", ""))
    response = redirect(at, f"{at.base}/goodbye")
    at.clear_cookie(response, SESSION_COOKIE)
    at.clear_cookie(response, "patron_portal_return")
    return response


@router.get("/goodbye")
def goodbye(at: Site = Depends(site)) -> Response:
    return page(at, "goodbye.html", {"title": at.words.t("deleted_title")})
