"""One-click unsubscribe (RFC 8058), the link in every marketing message (SPEC §11).

``POST /unsubscribe/{token}`` withdraws the channel's consent at once, whatever its body: mail
clients send ``List-Unsubscribe=One-Click``, the confirmation page's button sends the same. The
withdrawal is recorded in the member's consent history with source ``unsubscribe_link``; a
repeat changes nothing and answers the same page. ``GET`` only shows a page with the button:
mail scanners and link previewers fetch links, so a GET must never unsubscribe anyone.

The token names the program, member and channel and carries an HMAC of them under the
program's message key (``patron.domain.messages``), so it cannot be guessed or altered; an
invalid one answers 404 with a page that says so. No API key is involved: the member holds the
link. The pages are in the program's locale, with the console's style sheet and no script.
Neither route is an API operation (no key, HTML answers), so neither is in the OpenAPI
document; docs/messages.md describes them.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from patron.api.deps import container, scoped_to
from patron.api.home import wants_html
from patron.api.rendering import JsonResponse
from patron.domain.errors import NotFound
from patron.services import messages
from patron.services.transactions import run_in_transaction, run_read

router = APIRouter(tags=["messages"])

_WORDS = {
    "en": {
        "title": "Unsubscribe",
        "ask": "Stop receiving marketing {channel} from {program}?",
        "button": "Unsubscribe",
        "done": "You will no longer receive marketing {channel} from {program}.",
        "already": "You are not subscribed to marketing {channel} from {program}.",
        "invalid": "This unsubscribe link is not valid. It may have been copied incompletely.",
        "email": "emails",
        "sms": "text messages",
        "note": "Messages about your account (vouchers, sign-in links) still reach you.",
    },
    "fr": {
        "title": "Désinscription",
        "ask": "Ne plus recevoir les {channel} promotionnels de {program} ?",
        "button": "Me désinscrire",
        "done": "Vous ne recevrez plus les {channel} promotionnels de {program}.",
        "already": "Vous n'êtes pas inscrit aux {channel} promotionnels de {program}.",
        "invalid": "Ce lien de désinscription n'est pas valide. Il a peut-être été mal copié.",
        "email": "e-mails",
        "sms": "SMS",
        "note": "Les messages liés à votre compte (bons, liens de connexion) vous parviennent "
        "toujours.",
    },
}


def _page(locale: str | None, body: str, *, status: int = 200) -> HTMLResponse:
    words = _WORDS.get(locale or "en", _WORDS["en"])
    html = f"""<!doctype html>
<html lang="{escape(locale or "en")}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>{escape(words["title"])}</title>
  <link rel="stylesheet" href="/console/static/console.css">
</head>
<body class="plain">
<main id="main" class="card card--narrow">
  <h1>{escape(words["title"])}</h1>
  {body}
</main>
</body>
</html>
"""
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


def _sentence(key: str, result: messages.Unsubscribed) -> str:
    words = _WORDS.get(result.locale or "en", _WORDS["en"])
    return escape(words[key].format(channel=words[result.channel], program=result.program_name))


def _invalid(request: Request) -> Response:
    if not wants_html(request.headers.get("accept", "")):
        return JsonResponse(
            {
                "type": "about:blank",
                "title": "This unsubscribe link is not valid",
                "status": 404,
                "code": "invalid_unsubscribe_link",
            },
            status_code=404,
            media_type="application/problem+json",
        )
    return _page(None, f'<p role="alert">{escape(_WORDS["en"]["invalid"])}</p>', status=404)


@router.get("/unsubscribe/{token}", include_in_schema=False)
def confirm(token: str, request: Request) -> Response:
    """A page with the unsubscribe button; changes nothing."""
    box = container(request)
    program_id = messages.program_scope(token)
    if program_id is None:
        return _invalid(request)
    try:
        result = run_read(
            scoped_to(request, program_id),
            lambda uow: messages.check_unsubscribe(uow, token, box.clock.now()),
        )
    except NotFound:
        return _invalid(request)
    words = _WORDS.get(result.locale or "en", _WORDS["en"])
    if not result.changed:
        return _page(result.locale, f"<p>{_sentence('already', result)}</p>")
    return _page(
        result.locale,
        f"<p>{_sentence('ask', result)}</p>"
        f'<form method="post" action="/unsubscribe/{escape(token)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        f'<button class="button button--primary" type="submit">{escape(words["button"])}'
        "</button></form>"
        f'<p class="muted">{escape(words["note"])}</p>',
    )


@router.post("/unsubscribe/{token}", include_in_schema=False)
def one_click(token: str, request: Request) -> Response:
    """Withdraw the channel's consent at once (body ``List-Unsubscribe=One-Click``); 200 with a
    confirmation page, also when already withdrawn; 404 for an invalid link."""
    box = container(request)
    program_id = messages.program_scope(token)
    if program_id is None:
        return _invalid(request)
    try:
        result = run_in_transaction(
            scoped_to(request, program_id),
            lambda uow: messages.unsubscribe(uow, token, box.clock.now()),
        )
    except NotFound:
        return _invalid(request)
    words = _WORDS.get(result.locale or "en", _WORDS["en"])
    return _page(
        result.locale,
        f'<p role="status">{_sentence("done", result)}</p>'
        f'<p class="muted">{escape(words["note"])}</p>',
    )
