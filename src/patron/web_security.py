"""Security helpers shared by the server-rendered entrypoints (the console and the member portal).

- :class:`Tokens`: one-time form tokens ``<nonce>.<mac>`` (an HMAC-SHA256, under a key derived
  from the installation's secret and the entrypoint's purpose, of the nonce and what the form is
  bound to: a session's id, or a random pre-session cookie on sign-in pages) and signed flash
  messages. The nonce doubles as the write's idempotency key, so a double submit applies once.
- :data:`CSP` and :func:`harden`: a Content-Security-Policy without ``unsafe-inline`` (scripts
  and styles only from the entrypoint's own static files), no framing, no referrer across
  origins, ``nosniff``, and ``Cache-Control: no-store`` on pages (they hold personal data).
  The one exception to "no framing": a program's portal pages may be framed by the origins the
  program lists (``portal.embed_origins``, for the launcher's panel on the merchant's site):
  ``frame-ancestors`` names them and ``X-Frame-Options`` is left out, since it can only say
  ``DENY`` or ``SAMEORIGIN`` and browsers that know ``frame-ancestors`` ignore it anyway.

The entrypoints do not import each other (import-linter), so what both need lives here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.requests import Request
from starlette.responses import Response

from patron.domain.errors import Forbidden, NotFound, PatronError

_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors "
)


def csp(frame_ancestors: Sequence[str] = ()) -> str:
    """The policy; ``frame_ancestors`` are origins already validated
    (``patron.domain.config.portal.check_origin``), none means ``'none'``."""
    return _POLICY + (" ".join(frame_ancestors) or "'none'")


CSP = csp()


def derive(secret: str, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        secret.encode()
    )


class Tokens:
    """Form tokens and signed flash messages under one derived key."""

    def __init__(self, secret: str, purpose: str = "patron console forms") -> None:
        self._key = derive(secret, purpose)

    def _mac(self, *parts: str) -> str:
        return hmac.new(self._key, "|".join(parts).encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, binding: str) -> str:
        nonce = secrets.token_urlsafe(18)
        return f"{nonce}.{self._mac('form', binding, nonce)}"

    def verify(self, token: str, binding: str) -> str | None:
        """The token's nonce when it is genuine and bound to ``binding``, else None."""
        nonce, _, mac = token.partition(".")
        if not nonce or not mac or not binding:
            return None
        return nonce if hmac.compare_digest(mac, self._mac("form", binding, nonce)) else None

    def sign(self, text: str) -> str:
        return f"{self._mac('flash', text)}.{text}"

    def unsign(self, signed: str) -> str | None:
        mac, _, text = signed.partition(".")
        return text if text and hmac.compare_digest(mac, self._mac("flash", text)) else None


def set_cookie(
    response: Response,
    name: str,
    value: str,
    *,
    path: str,
    secure: bool,
    max_age: int | None = None,
) -> None:
    """An ``HttpOnly``, ``SameSite=Lax`` cookie, ``Secure`` when asked."""
    response.set_cookie(
        name, value, max_age=max_age, path=path, httponly=True, samesite="lax", secure=secure
    )


def clear_cookie(response: Response, name: str, *, path: str, secure: bool) -> None:
    response.delete_cookie(name, path=path, httponly=True, samesite="lax", secure=secure)


def harden(
    request: Request,
    response: Response,
    static_prefix: str,
    frame_ancestors: Sequence[str] = (),
) -> None:
    """The security headers of a server-rendered page (see the module docstring)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", csp(frame_ancestors))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if not frame_ancestors:
        headers.setdefault("X-Frame-Options", "DENY")
    if not request.url.path.startswith(static_prefix):
        headers.setdefault("Cache-Control", "no-store")


class SignInRequired(PatronError):
    """A page that needs a signed-in person (staff or member): the route answers a redirect
    to ``location``."""

    code = "sign_in_required"
    title = "Please sign in"

    def __init__(self, location: str) -> None:
        super().__init__("sign in to continue")
        self.location = location


class PageNotFound(NotFound):
    pass


class FormRefused(Forbidden):
    code = "form_refused"
    title = "This form has expired"
