"""Mounting the portal on a FastAPI app: its routes, static files and response headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from patron import web_security
from patron.portal.routes import actions, auth, pages

STATIC = "/portal-static"


def install(app: FastAPI) -> None:
    static = files("patron.portal") / "static"
    app.mount(STATIC, StaticFiles(directory=str(static)), name="portal-static")
    for module in (auth, pages, actions):
        app.include_router(module.router)

    @app.middleware("http")
    async def portal_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        path = request.url.path
        if path.startswith(("/portal/", STATIC)):
            web_security.harden(request, response, STATIC + "/")
        return response
