"""The Messages area: the program's message templates (SPEC §11), each (event, channel) pair
listed with its category and whether it is Patron's default or the program's own, and an editor
per pair with a live preview and a test send.

**Who.** ``messages.read`` (owner, manager, marketer, viewer) opens the list and the editor
read-only, with its preview; ``messages.templates`` (owner, manager, marketer) saves and sends
tests. The services are the API's (``api/routes/messages.py``): ``message_templates.save`` checks
the draft in the sandbox and refuses it with the line of each error, which the page shows at its
field.

**Live preview.** The body and subject fields post the whole form to ``.../preview`` 400 ms
after typing stops (htmx); the answer is the preview fragment, plus the draft's errors swapped
out of band into the error slot under each field. Without JavaScript the **Preview** button posts
the same form and gets the whole editor back with the draft, its errors and its preview. A
preview writes nothing. The email preview shows the subject and the text in a card: the HTML
version is that same text in paragraphs with links, and showing it in a ``srcdoc`` frame would
not work under the console's Content-Security-Policy (the frame inherits it, which blocks the
email's inline styles).

**Save** is a one-time-token form (``forms.perform_in``): a double submit saves once. **Test
send** renders the draft and sends it at once to the typed address through the configured
transport (``messages.send_test``, audited); the form token is checked (CSRF) but not spent,
since nothing of the program changes and a second test is a fair wish. Without a transport the
editor says so and links the documentation.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from starlette.responses import HTMLResponse, Response

from patron.console.deps import Page, in_program, page
from patron.console.forms import Done, form_data, perform_in
from patron.console.labels import entry_actor
from patron.console.routes.members import actor_names
from patron.console.routing import router as make_router
from patron.console.templating import render
from patron.domain import messages as rules
from patron.domain.errors import PatronError, ValidationFailed
from patron.domain.message_defaults import default_template
from patron.services import message_templates, messages
from patron.services.message_templates import Template
from patron.services.ports import UnitOfWork
from patron.services.programs import load_config
from patron.services.transactions import run_read

router = make_router("/console/programs/{program}/messages")

CHANNEL_NAMES = {"email": "Email", "sms": "SMS"}
CHANNEL_WORDS = {"email": "email", "sms": "SMS"}  # inside a sentence
NO_TRANSPORT = "No {name} transport is configured — see docs/messages.md"


def _title(event: str, channel: str) -> str:
    return f"{rules.EVENTS[event].title} {CHANNEL_WORDS[channel]}"


@router.get("")
def templates(request: Request, at: Page = Depends(in_program("messages.read"))) -> Response:
    def read(uow: UnitOfWork) -> tuple[list[Template], dict[str, str]]:
        config = load_config(uow, at.program)
        return message_templates.all_templates(uow, at.program, config), actor_names(uow, at)

    found, names = run_read(at.uow, read)
    rows = [
        {
            "t": t,
            "title": rules.EVENTS[t.event].title,
            "channel": CHANNEL_NAMES[t.channel],
            "href": f"{at.base}/messages/{t.event}/{t.channel}",
            "name": _title(t.event, t.channel),
            "by": entry_actor(t.updated_by, names) if t.updated_by else None,
        }
        for t in found
    ]
    return page(
        request, "messages/templates.html", {"title": "Message templates", "rows": rows}, at=at
    )


def _draft(form: dict[str, str], channel: str) -> dict[str, Any]:
    """The form's draft, with the browser's CRLF line ends made plain LF."""
    subject = form.get("subject", "").replace("\r", "") if channel == "email" else None
    return {
        "subject": subject,
        "body": form.get("body", "").replace("\r\n", "\n").replace("\r", "\n"),
        "category": form.get("category", ""),
        "active": form.get("active") == "on",
        "to": form.get("to", "").strip(),
    }


def _errors(error: ValidationFailed) -> dict[str, list[str]]:
    """Every message of each field (a body may have an error on several lines)."""
    found: dict[str, list[str]] = {}
    for item in error.errors:
        found.setdefault(item.path.split(".")[0], []).append(item.message)
    return found


def _preview(at: Page, event: str, channel: str, draft: dict[str, Any]) -> dict[str, Any]:
    """The draft rendered with sample values, or its errors by field."""
    now = at.box.clock.now()
    base_url = at.box.settings.base_url()
    try:
        rendered = run_read(
            at.uow,
            lambda uow: messages.preview(
                uow,
                at.program,
                now,
                event,
                channel,
                base_url=base_url,
                subject=draft["subject"],
                body=draft["body"],
            ),
        )
    except ValidationFailed as error:
        return {"rendered": None, "errors": _errors(error)}
    return {"rendered": rendered, "errors": {}}


def _editor(
    request: Request,
    at: Page,
    event: str,
    channel: str,
    *,
    draft: dict[str, Any] | None = None,
    default: bool = False,
    test: dict[str, str] | None = None,
    save_errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> Response:
    message_templates.check_pair(event, channel)

    def read(uow: UnitOfWork) -> tuple[Template, str | None, dict[str, str]]:
        config = load_config(uow, at.program)
        saved = message_templates.effective(uow, at.program, config, event, channel)
        return saved, config.locale, actor_names(uow, at)

    saved, locale, names = run_read(at.uow, read)
    if draft is None:
        subject, body = saved.subject, saved.body
        if default:
            subject, body = default_template(locale, event, channel)
        draft = {
            "subject": subject,
            "body": body,
            "category": saved.category,
            "active": saved.active,
            "to": "",
        }
    preview = _preview(at, event, channel, draft)
    errors = save_errors if save_errors is not None else preview["errors"]
    outlets = at.box.outlets()
    transport = outlets.email if channel == "email" else outlets.sms
    return page(
        request,
        "messages/editor.html",
        {
            "title": _title(event, channel),
            "event": event,
            "channel": channel,
            "kind": rules.EVENTS[event],
            "saved": saved,
            "saved_by": entry_actor(saved.updated_by, names) if saved.updated_by else None,
            "draft": draft,
            "default": default,
            "variables": rules.variables(event),
            "categories": rules.CATEGORIES,
            "preview": preview,
            "oob": False,
            "errors": errors,
            "summary": "The draft has errors"
            if save_errors is None
            else "The template was not saved",
            "test": test or {},
            "no_transport": None
            if transport is not None
            else NO_TRANSPORT.format(name=CHANNEL_WORDS[channel]),
            "editable": at.may("messages.templates"),
            "href": f"{at.base}/messages/{event}/{channel}",
        },
        at=at,
        status=status,
    )


@router.get("/{event}/{channel}")
def editor(
    event: str,
    channel: str,
    request: Request,
    default: bool = False,
    at: Page = Depends(in_program("messages.read")),
) -> Response:
    """The editor; ``?default=true`` fills it with Patron's default text (saved only on Save)."""
    return _editor(request, at, event, channel, default=default)


@router.post("/{event}/{channel}/preview")
def preview(
    event: str,
    channel: str,
    request: Request,
    form: dict[str, str] = Depends(form_data),
    at: Page = Depends(in_program("messages.read")),
) -> Response:
    """htmx: the preview fragment with the draft's errors out of band; without htmx (the
    Preview button), the whole editor with the draft."""
    message_templates.check_pair(event, channel)
    draft = _draft(form, channel)
    if request.headers.get("HX-Request") != "true":
        return _editor(request, at, event, channel, draft=draft)
    context = {"preview": _preview(at, event, channel, draft), "channel": channel, "oob": True}
    return HTMLResponse(render("messages/_preview.html", context))


@router.post("/{event}/{channel}")
def save(
    event: str,
    channel: str,
    request: Request,
    form: dict[str, str] = Depends(form_data),
    at: Page = Depends(in_program("messages.templates")),
) -> Response:
    message_templates.check_pair(event, channel)
    draft = _draft(form, channel)

    def action(uow: UnitOfWork) -> Template:
        return message_templates.save(
            uow,
            at.program,
            at.staff.actor,
            at.box.clock.now(),
            event,
            channel,
            subject=draft["subject"],
            body=draft["body"],
            category=draft["category"],
            active=draft["active"],
        )

    def done(saved: Template) -> Done:
        state = "" if saved.active else " It is off: nothing is sent for this event."
        return Done(
            f"{at.base}/messages/{event}/{channel}",
            f"Saved the {_title(event, channel)} template.{state}",
        )

    try:
        return perform_in(request, at, form, action, done)
    except ValidationFailed as error:
        errors = _errors(error)
        return _editor(request, at, event, channel, draft=draft, save_errors=errors, status=422)


@router.post("/{event}/{channel}/test")
def send_test(
    event: str,
    channel: str,
    request: Request,
    form: dict[str, str] = Depends(form_data),
    at: Page = Depends(in_program("messages.templates")),
) -> Response:
    message_templates.check_pair(event, channel)
    at.staff.nonce(form)  # CSRF: a form of this session (see the module docstring)
    draft = _draft(form, channel)
    name = "email address" if channel == "email" else "phone number"
    if len(draft["to"]) < 3:
        test = {"error": f"Write the {name} to send the test to."}
        return _editor(request, at, event, channel, draft=draft, test=test, status=422)
    try:
        result = messages.send_test(
            at.box.uow,
            at.program,
            at.staff.actor,
            at.box.clock.now(),
            at.box.outlets(),
            event,
            channel,
            to=draft["to"],
            subject=draft["subject"],
            body=draft["body"],
        )
    except messages.NoTransport:
        test = {"error": NO_TRANSPORT.format(name=CHANNEL_WORDS[channel])}
        return _editor(request, at, event, channel, draft=draft, test=test, status=409)
    except ValidationFailed as error:
        test = {"error": "The draft has errors (shown at their fields); nothing was sent."}
        return _editor(
            request,
            at,
            event,
            channel,
            draft=draft,
            test=test,
            save_errors=_errors(error),
            status=422,
        )
    except PatronError as error:
        return _editor(
            request, at, event, channel, draft=draft, test={"error": str(error)}, status=409
        )
    if result.status == "sent":
        test = {"sent": f"Test sent to {draft['to']}."}
        return _editor(request, at, event, channel, draft=draft, test=test)
    why = f" ({result.detail})" if result.detail else ""
    verdict = "refused it" if result.status == "failed" else "did not take it, try again later"
    test = {"error": f"Not sent: the {CHANNEL_WORDS[channel]} server {verdict}{why}."}
    return _editor(request, at, event, channel, draft=draft, test=test, status=502)
