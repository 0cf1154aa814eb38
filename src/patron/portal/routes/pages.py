"""The portal's pages, one per tab: Balance (with Tier and the next reward), Rewards (with
Vouchers), a voucher's QR, Activity, Invite friends, Card and Privacy.

Each page reads what it shows in one transaction through the services the API and the console
use (``member_profile.profile``, or only its ``holdings`` on the Balance page;
``tiers.progress``, ``rewards.catalogue``) and turns it into plain words in the program's
language here, before anything reaches a template.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import segno
from fastapi import Depends
from starlette.responses import RedirectResponse, Response

from patron.domain.errors import WalletNotConfigured
from patron.domain.rewards import display_voucher
from patron.portal.deps import PageNotFound, Visit, page, signed_in
from patron.portal.i18n import EN, Words
from patron.portal.routing import router as make_router
from patron.services import cards, member_profile, rewards, tiers, wallet_passes, wallet_settings
from patron.services.balances import WalletView, wallet_views
from patron.services.ledger import Context
from patron.services.portal import portal_actor
from patron.services.ports import UnitOfWork
from patron.services.transactions import run_read

router = make_router()

EXPIRING_DAYS = 90
ACTIVITY_SIZE = 25
REASONS = {
    "inactive": "why.inactive",
    "not_yet_available": "why.not_started",
    "no_longer_available": "why.ended",
    "out_of_stock": "why.out_of_stock",
    "tier_required": "why.tier",
    "per_member_limit_reached": "why.limit_reached",
    "insufficient_balance": "why.insufficient_balance",
}


def qr_svg(text: str, title: str, scale: int = 5) -> str:
    """A QR code as inline SVG (no script, no style attribute: fits the CSP)."""
    svg: str = segno.make(text, error="m").svg_inline(
        scale=scale, border=2, title=title, omitsize=True
    )
    return svg


def name_of(visit: Visit) -> str:
    m = visit.member
    return m.first_name or " ".join(p for p in (m.first_name, m.last_name) if p) or ""


def ctx(visit: Visit, uow: UnitOfWork) -> Context:
    return Context(uow, visit.box.clock, portal_actor(visit.member.id), visit.program)


def amount_text(w: Words, value: int, money: bool, exponent: int) -> str:
    if money:
        return w.money(Decimal(value).scaleb(-exponent))
    return w.points(value)


def metric_text(w: Words, metric: str, value: Decimal | None) -> str:
    if value is None:
        return "—"
    if metric == "spend":
        return w.money(value)
    if metric == "purchases":
        return f"{w.number(value)} {w.t('metric.purchases')}"
    return w.points(value)


@dataclass
class TierBox:
    name: str
    value: float
    maximum: float
    progress: str | None
    lift: str | None
    keep: str


def tier_box(w: Words, seen: tiers.Progress) -> TierBox:
    metric = seen.tiers.metric
    current = seen.current
    if seen.next is not None and seen.remaining is not None:
        target = seen.next.threshold
        progress = w.t(
            "tier_progress",
            current=metric_text(w, metric, seen.metric),
            target=metric_text(w, metric, target),
            next=seen.next.name,
        )
        lift = w.t("tier_lift", missing=metric_text(w, metric, seen.remaining), next=seen.next.name)
        value, maximum = float(min(seen.metric, target)), float(target)
    else:
        progress, lift = None, w.t("tier_top")
        value, maximum = 1.0, 1.0
    if seen.keep_needs is not None and seen.period_end is not None:
        keep = w.t(
            "tier_keep",
            name=current.name,
            missing=metric_text(w, metric, seen.keep_needs),
            date=w.day(seen.period_end - timedelta(seconds=1)),
        )
    elif seen.held is not None and seen.held.until is not None:
        keep = w.t("tier_kept", name=current.name, date=w.day(seen.held.until))
    else:
        keep = w.t("tier_kept_open", name=current.name)
    return TierBox(current.name, value, maximum, progress, lift, keep)


def offers(visit: Visit, uow: UnitOfWork) -> list[dict[str, Any]]:
    """The catalogue with, per reward, whether the member can redeem it and why not."""
    w = visit.words
    context = ctx(visit, uow)
    wallets = context.config.wallets
    exponent = visit.program.currency_exponent
    found = rewards.catalogue(context, visit.member.id)
    views: dict[str, WalletView] | None = None  # read once, when an offer costs too much
    shown = []
    for offer in found:
        r = offer.reward
        if not r.active:
            continue
        money = r.cost_wallet in wallets and wallets[r.cost_wallet].is_money
        why = None
        if offer.reason is not None:
            key = REASONS.get(offer.reason, "why.other")
            if offer.reason == "insufficient_balance":
                if views is None:
                    views = wallet_views(
                        uow, visit.program, [visit.member.id], now=visit.box.clock.now()
                    )[visit.member.id]
                have = views[r.cost_wallet].available if r.cost_wallet in views else 0
                why = w.t(key, missing=amount_text(w, r.cost_amount - have, money, exponent))
            elif offer.reason == "not_yet_available":
                why = w.t(key, date=w.day(r.available_from))
            else:
                why = w.t(key)
        shown.append(
            {
                "code": r.code,
                "name": r.name,
                "description": r.description,
                "cost": amount_text(w, r.cost_amount, money, exponent),
                "cost_amount": r.cost_amount,
                "why": why,
            }
        )
    shown.sort(key=lambda o: (o["why"] is not None, o["cost_amount"]))
    return shown


def _profile(visit: Visit, uow: UnitOfWork, **kw: Any) -> member_profile.Profile:
    return member_profile.profile(
        uow, visit.program, visit.member.id, now=visit.box.clock.now(), **kw
    )


@router.get("/")
def home(visit: Visit = Depends(signed_in)) -> Response:
    w = visit.words
    now = visit.box.clock.now()

    def read(uow: UnitOfWork) -> tuple[Any, Any, Any]:
        # What the page shows and no more: the balances and pending points (not the whole
        # story of ``member_profile.profile``: lots, purchases, audit, tier history), the tier's
        # progress once, the catalogue.
        held = member_profile.holdings(uow, visit.program, visit.member.id, now=now)
        context = ctx(visit, uow)
        seen = tiers.progress(context, visit.member.id) if context.config.tiers else None
        return held, seen, offers(visit, uow)

    held, seen, catalogue = run_read(visit.site.uow, read)
    exponent = visit.program.currency_exponent
    balances = []
    soon = now + timedelta(days=EXPIRING_DAYS)
    for code, view in held.wallets.items():
        money = view.kind == "money"
        balances.append(
            {
                "code": code,
                "available": amount_text(w, view.available, money, exponent),
                "available_raw": view.available,
                "pending": amount_text(w, view.pending, money, exponent) if view.pending else None,
                "lifetime": amount_text(w, view.lifetime_earned, money, exponent),
                "expiring": [
                    w.t(
                        "expiring_on",
                        amount=amount_text(w, amount, money, exponent),
                        date=w.day(at),
                    )
                    for amount, at in view.expiring
                    if at <= soon
                ],
                "releases": [
                    w.t(
                        "pending_on",
                        amount=amount_text(w, p.amount, money, exponent),
                        date=w.day(p.release_at),
                    )
                    for p in held.pending
                    if p.wallet == code
                ],
            }
        )
    main = next((b for b in balances if b["code"] == "points"), balances[0] if balances else None)
    others = [b for b in balances if b is not main and (b["available_raw"] or b["pending"])]
    next_reward = next((o for o in catalogue if o["why"] is None), None) or next(
        (o for o in catalogue if o["why"] and "insufficient" not in o["why"]), None
    )
    return page(
        visit.site,
        "home.html",
        {
            "title": w.t("balance"),
            "hello": w.t("hello", name=name_of(visit)) if name_of(visit) else None,
            "main": main,
            "known": EN,
            "others": others,
            "tier": tier_box(w, seen) if seen else None,
            "next_reward": next_reward,
            "return_url": visit.site.request.cookies.get("patron_portal_return"),
        },
        visit=visit,
        current="home",
    )


def vouchers_of(visit: Visit, story: member_profile.Profile) -> list[dict[str, Any]]:
    w = visit.words
    now = visit.box.clock.now()
    shown = []
    for line in story.redemptions:
        r = line.redemption
        if not r.voucher_code:
            continue
        status = r.status
        if status == "issued" and r.voucher_expires_at and r.voucher_expires_at <= now:
            status = "expired"
        code = display_voucher(r.voucher_code)
        shown.append(
            {
                "id": r.id,
                "name": line.reward_name or line.reward_code or "",
                "code": code,
                "status": w.t(f"voucher_status.{status}"),
                "usable": status == "issued",
                "valid": w.t("voucher_valid", date=w.day(r.voucher_expires_at))
                if r.voucher_expires_at
                else None,
                "qr": qr_svg(r.voucher_code, w.t("qr_alt", code=code), scale=4)
                if status == "issued"
                else None,
            }
        )
    return shown


@router.get("/rewards")
def rewards_page(visit: Visit = Depends(signed_in)) -> Response:
    w = visit.words

    def read(uow: UnitOfWork) -> tuple[Any, Any]:
        return offers(visit, uow), _profile(visit, uow, activity_limit=1, limit=50)

    catalogue, story = run_read(visit.site.uow, read)
    points = story.wallets.get("points")
    return page(
        visit.site,
        "rewards.html",
        {
            "title": w.t("rewards"),
            "offers": catalogue,
            "vouchers": vouchers_of(visit, story),
            "available": w.points(points.balance.available) if points else None,
        },
        visit=visit,
        current="rewards",
    )


@router.get("/vouchers/{redemption}")
def voucher_page(redemption: str, visit: Visit = Depends(signed_in)) -> Response:
    """One voucher large, for the till's scanner; another member's voucher is a 404."""
    story = run_read(visit.site.uow, lambda uow: _profile(visit, uow, activity_limit=1, limit=200))
    found = next((v for v in vouchers_of(visit, story) if v["id"] == redemption), None)
    if found is None:
        raise PageNotFound("no such voucher")
    if found["usable"]:
        found["qr"] = qr_svg(
            found["code"].replace("-", ""), visit.words.t("qr_alt", code=found["code"]), scale=8
        )
    return page(
        visit.site,
        "voucher.html",
        {"title": found["name"], "v": found},
        visit=visit,
        current="rewards",
    )


def explain(w: Words, line: dict[str, Any]) -> str:
    """One line of an entry's explanation: what a rule gave and why."""
    parts = [f"{line.get('rule_id', '')}".strip() or "rule"]
    if line.get("eligible") is not None:
        parts.append(f"{line.get('eligible')} → {line.get('exact', line.get('amount'))}")
    for f in line.get("multipliers", []) or []:
        parts.append(f"\u00d7 {f.get('factor')} ({f.get('source')})")
    parts.append(f"= {w.number(line.get('amount', 0))}")
    return " ".join(parts)


@router.get("/activity")
def activity_page(before: str | None = None, visit: Visit = Depends(signed_in)) -> Response:
    w = visit.words
    story = run_read(
        visit.site.uow,
        lambda uow: _profile(
            visit, uow, activity_limit=ACTIVITY_SIZE, activity_before=before or None, limit=1
        ),
    )
    exponent = visit.program.currency_exponent
    lines = []
    for line in story.activity:
        e = line.entry
        wallet = story.wallets.get(e.wallet)
        money = wallet is not None and wallet.balance.kind == "money"
        amount = w.signed(e.amount) if not money else w.money(Decimal(e.amount).scaleb(-exponent))
        lines.append(
            {
                "kind": w.t(f"entry.{e.type}") if f"entry.{e.type}" in EN else e.type,
                "when": w.day(e.occurred_at),
                "amount": amount,
                "positive": e.amount > 0,
                "pending": e.status == "pending",
                "reason": e.reason,
                "explanation": [explain(w, x) for x in line.explanation],
            }
        )
    return page(
        visit.site,
        "activity.html",
        {"title": w.t("activity"), "lines": lines, "older": story.activity_next},
        visit=visit,
        current="activity",
    )


@router.get("/invite")
def invite_page(visit: Visit = Depends(signed_in)) -> Response:
    w = visit.words
    story = run_read(visit.site.uow, lambda uow: _profile(visit, uow, activity_limit=1, limit=1))
    code = visit.member.referral_code
    link = f"{visit.site.public_base}/portal/{visit.program.slug}/login?ref={code}"
    text = w.t("share_text", program=visit.program.name, link=link)
    referrals = [
        {
            "status": w.t(f"referral.{r.status}"),
            "when": w.t("referral_on", date=w.day(r.created_at)),
        }
        for r in story.referrals_made
    ]
    return page(
        visit.site,
        "invite.html",
        {
            "title": w.t("invite"),
            "code": code,
            "link": link,
            "share_text": text,
            "referrals": referrals,
        },
        visit=visit,
        current="invite",
    )


@router.get("/card")
def card_page(visit: Visit = Depends(signed_in)) -> Response:
    """The digital card (the same face as the API's ``card.svg``: the card number as QR and
    Code 128 for the till), with "Add to Apple Wallet" and "Add to Google Wallet" when the
    program has configured them."""
    w = visit.words
    configured = run_read(
        visit.box.uow.scoped(visit.program.id),
        lambda uow: wallet_settings.read(uow, visit.program),
    )
    return page(
        visit.site,
        "card.html",
        {
            "title": w.t("card"),
            "number": visit.member.card_number or visit.member.id,
            "apple": configured.get("apple") is not None,
            "google": configured.get("google") is not None,
        },
        visit=visit,
        current="card",
    )


@router.get("/card.svg")
def card_image(visit: Visit = Depends(signed_in)) -> Response:
    now = visit.box.clock.now()
    face = run_read(
        visit.box.uow.scoped(visit.program.id),
        lambda uow: cards.card_face(uow, visit.program, visit.member.id, now),
    )
    return Response(
        cards.card_svg(face),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, no-store"},
    )


@router.get("/card.pkpass")
def card_pkpass(visit: Visit = Depends(signed_in)) -> Response:
    """The member's Apple Wallet pass (404 page when the program has none)."""
    box = visit.box
    url = f"{box.settings.base_url()}/wallet/apple/{visit.program.id}"

    def read(uow: UnitOfWork) -> bytes:
        return wallet_passes.apple_pass(
            uow, visit.program, visit.member.id, box.clock.now(), box.wallet_keys(), url
        )

    try:
        data = run_read(box.uow.scoped(visit.program.id), read)
    except WalletNotConfigured as exc:
        raise PageNotFound(visit.words.t("card")) from exc
    return Response(
        data,
        media_type="application/vnd.apple.pkpass",
        headers={
            "Content-Disposition": 'attachment; filename="card.pkpass"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/card/google")
def card_google(visit: Visit = Depends(signed_in)) -> Response:
    """Off to Google Wallet with the signed save link (404 page when the program has none)."""
    box = visit.box

    def read(uow: UnitOfWork) -> str:
        return wallet_passes.google_save_url(
            uow, visit.program, visit.member.id, box.clock.now(), box.wallet_keys()
        )

    try:
        target = run_read(box.uow.scoped(visit.program.id), read)
    except WalletNotConfigured as exc:
        raise PageNotFound(visit.words.t("card")) from exc
    return RedirectResponse(target, status_code=303)


def channels_of(visit: Visit) -> list[str]:
    """The consent channels the portal offers: email and SMS (what messages check), then any
    other channel the member holds a consent on."""
    return ["email", "sms", *sorted(set(visit.member.consents) - {"email", "sms"})]


@router.get("/privacy")
def privacy_page(visit: Visit = Depends(signed_in)) -> Response:
    w = visit.words
    channels = channels_of(visit)
    consents = [
        {
            "channel": c,
            "label": w.t(f"consent.{c}")
            if f"consent.{c}" in EN
            else c.replace("_", " ").capitalize(),
            "granted": bool(visit.member.consents.get(c) and visit.member.consents[c].granted),
        }
        for c in channels
    ]
    return page(
        visit.site,
        "privacy.html",
        {"title": w.t("privacy"), "consents": consents},
        visit=visit,
        current="privacy",
    )
