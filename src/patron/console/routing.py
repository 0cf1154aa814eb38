"""The console's route class: errors become pages rather than the API's problem+json.

Sign-in required → 303 to the sign-in page; not found → 404 page; not allowed or an invalid form
token → 403 page; storage busy → 503 page; bad path or query values → 400 page. Console routes
stay out of the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import HTMLResponse, RedirectResponse, Response

from patron.console.deps import SignInRequired
from patron.console.templating import render
from patron.domain.errors import Forbidden, NotFound, PatronError
from patron.services.transactions import StorageBusy


def error_page(status: int, title: str, detail: str) -> Response:
    body = render("error.html", {"status": status, "title": title, "detail": detail})
    return HTMLResponse(body, status_code=status)


class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired as error:
                response = RedirectResponse(error.location, status_code=303)
            except NotFound as error:
                response = error_page(404, "Not found", str(error))
            except Forbidden as error:
                response = error_page(403, error.title, str(error))
            except StorageBusy:
                response = error_page(
                    503, "Busy", "the database is busy right now; try again in a moment"
                )
            except RequestValidationError as error:
                wrong = ", ".join(str(e.get("loc", ["?"])[-1]) for e in error.errors())
                response = error_page(400, "Bad request", f"these values are not valid: {wrong}")
            except PatronError as error:
                response = error_page(400, error.title, str(error))
            return response

        return handle


def router(prefix: str = "/console") -> APIRouter:
    return APIRouter(prefix=prefix, route_class=ConsoleRoute, include_in_schema=False)
