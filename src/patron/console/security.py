"""Cookies, form tokens and response headers of the console (the tokens and headers are
``patron.web_security``'s, shared with the member portal).

**Form tokens.** Every form carries ``token`` = ``<nonce>.<mac>``, where the MAC is an HMAC-SHA256,
under a key derived from the installation's secret, of the nonce and what the form is bound to:
the staff session's id once signed in, or a random pre-session cookie on the sign-in pages. A
token from another session, a forged one or none at all is refused (403) before anything runs.
The nonce is then the write's idempotency key (``forms.perform``): the same token posted twice
answers what the first post did, so a double click applies once.

**Headers.** Console responses carry a Content-Security-Policy without ``unsafe-inline`` (scripts
and styles only from the console's own static files), ``frame-ancestors 'none'``, no referrer
across origins, ``nosniff``, and ``Cache-Control: no-store`` on pages (they hold personal data).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from patron import web_security
from patron.web_security import CSP, Tokens, derive

__all__ = ["CSP", "Tokens", "clear_cookie", "derive", "harden", "set_cookie"]

SESSION_COOKIE = "patron_console"
FORM_COOKIE = "patron_console_form"
FLASH_COOKIE = "patron_console_flash"
COOKIE_PATH = "/console"


def set_cookie(
    response: Response, name: str, value: str, *, secure: bool, max_age: int | None = None
) -> None:
    web_security.set_cookie(response, name, value, path=COOKIE_PATH, secure=secure, max_age=max_age)


def clear_cookie(response: Response, name: str, *, secure: bool) -> None:
    web_security.clear_cookie(response, name, path=COOKIE_PATH, secure=secure)


def harden(request: Request, response: Response) -> None:
    """The console's security headers (see the module docstring)."""
    web_security.harden(request, response, "/console/static/")
