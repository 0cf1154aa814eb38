"""Mounting the console on a FastAPI app: its routes, static files and response headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from patron.console import security
from patron.console.routes import (
    account,
    audit,
    auth,
    dashboard,
    home,
    member_actions,
    members,
    messages,
    staff,
)


def install(app: FastAPI) -> None:
    static = files("patron.console") / "static"
    app.mount("/console/static", StaticFiles(directory=str(static)), name="console-static")
    for module in (
        auth,
        account,
        home,
        dashboard,
        members,
        member_actions,
        messages,
        staff,
        audit,
    ):
        app.include_router(module.router)

    @app.middleware("http")
    async def console_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path.startswith("/console"):
            security.harden(request, response)
        return response
