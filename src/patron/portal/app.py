"""Mounting the portal on a FastAPI app: its routes, static files and response headers.

Every portal response gets ``web_security.harden``'s headers, with the ``frame-ancestors`` of
the program when the route found one (``deps.site``). The launcher's script
(``/portal-static/launcher.js``) is loaded by merchants' pages on other origins: it may be
cached an hour (merchants include it without a version in its URL, so a release reaches them
within the hour) and read cross-origin (``crossorigin`` script tags, error reports).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from patron import web_security
from patron.portal.routes import actions, auth, launcher, pages

STATIC = "/portal-static"
# The launcher's files, with their types spelled out: a host's mime.types must not decide them
# (merchants' pages load them with nosniff in force).
LAUNCHER = {
    f"{STATIC}/launcher.js": "text/javascript; charset=utf-8",
    f"{STATIC}/launcher.css": "text/css; charset=utf-8",
}


def install(app: FastAPI) -> None:
    static = files("patron.portal") / "static"
    app.mount(STATIC, StaticFiles(directory=str(static)), name="portal-static")
    for module in (auth, pages, actions, launcher):
        app.include_router(module.router)

    @app.middleware("http")
    async def portal_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        path = request.url.path
        if path.startswith(("/portal/", STATIC)):
            framers = getattr(request.state, "frame_ancestors", ())
            web_security.harden(request, response, STATIC + "/", framers)
        if path in LAUNCHER and response.status_code in (200, 304):
            if response.status_code == 200:
                response.headers["Content-Type"] = LAUNCHER[path]
            response.headers["Cache-Control"] = "public, max-age=3600"
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        return response
