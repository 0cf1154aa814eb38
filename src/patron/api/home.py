"""What a person finds with a browser: the landing page at ``/`` and the API docs at ``/docs``.

The docs page is Swagger UI loaded from files shipped in the package (``static/swagger-ui``, see
its README for the version and licence), not from a CDN, so it works on a machine without
internet access. ReDoc is not served: it would need a second vendored bundle for the same
document.

``/`` answers JSON (``Accept: application/json``, or ``*/*`` as curl sends) or a small HTML page
(browsers) naming the places that exist: the admin console, the API docs, the OpenAPI document
and the health check.
Neither is an API operation, so neither is in the OpenAPI document.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from patron import __version__
from patron.api.rendering import JsonResponse

STATIC = Path(__file__).with_name("static")
STATIC_PREFIX = "/static"
SWAGGER = f"{STATIC_PREFIX}/swagger-ui"

# (key, path, what it is): the landing page's links, in order. The console is mounted beside
# the API by ``patron.web`` (what ``patron serve`` runs).
LINKS = (
    ("console", "/console/", "Admin console (staff sign-in)"),
    ("docs", "/docs", "API docs (interactive, OpenAPI)"),
    ("openapi", "/openapi.json", "OpenAPI document"),
    ("health", "/healthz", "Health check"),
)


def install(app: FastAPI) -> None:
    """Serve the vendored assets, ``/docs`` and ``/`` on ``app`` (built with ``docs_url=None``)."""
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} API docs",
            swagger_js_url=f"{root}{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=f"{root}{SWAGGER}/favicon-32x32.png",
            # No badge that asks validator.swagger.io about the document.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/", include_in_schema=False)
    def landing(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        if wants_html(request.headers.get("accept", "")):
            return HTMLResponse(_page(root))
        return JsonResponse(
            {
                "name": "Patron",
                "version": __version__,
                "links": {key: f"{root}{path}" for key, path, _ in LINKS},
            }
        )


def wants_html(accept: str) -> bool:
    """True when ``accept`` names ``text/html`` and rates it at least as high as JSON."""
    quality: dict[str, float] = {}
    for item in accept.split(","):
        kind, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[kind.lower()] = max(q, quality.get(kind.lower(), 0.0))
    html = quality.get("text/html", 0.0)
    return html > 0 and html >= quality.get("application/json", 0.0)


def _page(root: str) -> str:
    items = "\n".join(
        f'    <li><a href="{escape(root + path)}">{escape(label)}</a> '
        f"<code>{escape(path)}</code></li>"
        for _, path, label in LINKS
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Patron</title>
  <link rel="icon" href="{escape(root)}{SWAGGER}/favicon-32x32.png">
  <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;
  padding:0 1rem;line-height:1.5}}code{{color:#555}}</style>
</head>
<body>
  <h1>Patron</h1>
  <p>An open-source loyalty engine, version {escape(__version__)}. This server speaks the
  Patron REST API: authenticate with <code>Authorization: Bearer &lt;key&gt;</code>.</p>
  <ul>
{items}
  </ul>
</body>
</html>
"""
