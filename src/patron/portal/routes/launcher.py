"""What the launcher and the portal's pages read of a program's branding (docs/portal.md).

- ``GET /launcher.json``: what the launcher (``/portal-static/launcher.js``, on the merchant's
  page) needs to draw its button and panel: the program's name, locale, colours, the origins
  allowed to frame the portal, and the panel's words in the program's language. Only
  public branding: the same name and colours any visitor of the portal sees, and the origins
  every portal response already sends in its ``frame-ancestors``. Any site may read it
  (``Access-Control-Allow-Origin: *``, no credentials) and caches may keep it five minutes, so a
  new colour reaches merchants' pages within minutes. An unknown program answers a JSON 404.
- ``GET /theme.css``: the brand colour and its shades as CSS variables, linked by every page
  after ``portal.css`` (a style sheet, since the CSP allows no inline style). Pages link it with
  ``?v={config_version}``: that URL never changes meaning, so it is cached for a year; any other
  URL of it (an old version) for five minutes.
"""

from __future__ import annotations

from fastapi import Depends, Request
from starlette.responses import JSONResponse, Response

from patron.portal.deps import PageNotFound, Site, site
from patron.portal.routing import router as make_router

router = make_router()

SHORT = "public, max-age=300"
FOREVER = "public, max-age=31536000, immutable"


@router.get("/launcher.json")
def launcher_settings(program: str, request: Request) -> Response:
    try:
        at = site(program, request)
    except PageNotFound:
        return JSONResponse(
            {"detail": "no such program"},
            status_code=404,
            headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"},
        )
    settings = at.config.portal_settings
    w = at.words
    name = at.program.name
    body = {
        "program": at.program.slug,
        "name": name,
        "locale": w.locale,
        "colors": {
            "brand": settings.brand_color,
            "brand_dark": settings.brand_dark,
            "on_brand": "#ffffff",
        },
        "embed_origins": list(settings.embed_origins),
        "labels": {
            "open": name,
            "close": w.t("launcher.close"),
            "frame": w.t("launcher.frame", name=name),
            "loading": w.t("launcher.loading"),
        },
    }
    return JSONResponse(body, headers={"Access-Control-Allow-Origin": "*", "Cache-Control": SHORT})


@router.get("/theme.css")
def theme(at: Site = Depends(site), v: str = "") -> Response:
    settings = at.config.portal_settings
    css = (
        f":root {{ --brand: {settings.brand_color}; --brand-dark: {settings.brand_dark}; "
        f"--brand-soft: {settings.brand_soft}; }}\n"
    )
    current = v == str(at.program.config_version)
    return Response(
        css,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": FOREVER if current else SHORT},
    )
