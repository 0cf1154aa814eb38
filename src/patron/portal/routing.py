"""The portal's route class: errors become pages in the program's language, never problem+json.

Sign-in required → 303 to the sign-in page; not found (another program, another member's
voucher) → 404 page; an invalid form token → 403 page; storage busy → 503; bad values → 400.
Portal routes stay out of the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import HTMLResponse, RedirectResponse, Response

from patron.adapters.ratelimit import RateLimited
from patron.domain.errors import Forbidden, NotFound, PatronError
from patron.portal.deps import PageNotFound, SignInRequired, site
from patron.portal.i18n import Words
from patron.portal.templating import render
from patron.services.transactions import StorageBusy


def error_page(request: Request, status: int, title_key: str, detail: str) -> Response:
    """An error page in the program's language when the program exists (English otherwise)."""
    words = Words("en", "UTC", "USD")
    base = theme = ""
    slug = request.path_params.get("program")
    if slug:
        try:
            found = site(str(slug), request)
            words, base, theme = found.words, found.base, found.theme_url
        except (PatronError, StorageBusy):
            pass
    body = render(
        "error.html",
        {
            "t": words.t,
            "lang": words.locale,
            "status": status,
            "title": words.t(title_key),
            "detail": detail or (words.t("not_found_text") if status == 404 else ""),
            "base": base,
            "theme": theme,
        },
    )
    response = HTMLResponse(body, status_code=status)
    if status == 429:
        response.headers["Retry-After"] = "60"
    return response


class PortalRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired as error:
                response = RedirectResponse(error.location, status_code=303)
            except PageNotFound as error:
                response = error_page(request, 404, "not_found", str(error))
            except NotFound:
                response = error_page(request, 404, "not_found", "")
            except Forbidden as error:
                response = error_page(request, 403, "error_title", str(error))
            except RateLimited:
                response = error_page(request, 429, "too_many", "")
            except StorageBusy:
                response = error_page(request, 503, "error_title", "")
            except RequestValidationError:
                response = error_page(request, 400, "error_title", "")
            except PatronError as error:
                response = error_page(request, 400, "error_title", str(error))
            return response

        return handle


def router() -> APIRouter:
    return APIRouter(prefix="/portal/{program}", route_class=PortalRoute, include_in_schema=False)
