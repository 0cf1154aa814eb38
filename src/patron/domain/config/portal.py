"""The ``portal`` section of a program configuration: the member portal's brand colour and the
sites allowed to show it in a frame (SPEC §10, docs/portal.md "The launcher").

- ``brand_color`` (``#rrggbb``, default :data:`DEFAULT_BRAND`) colours the portal's top bar,
  buttons and links, and the launcher's button and panel on the merchant's site. White text sits
  on it and it is the colour of links on the portal's light grey, so it must reach WCAG AA's
  4.5:1 against that grey (:data:`PAGE_GREY`, the lighter pair then passes too); a colour too
  light is refused with the contrast it gives, rather than accepted and unreadable.
- ``embed_origins``: the origins (``https://shop.example``) whose pages may frame the portal,
  sent as its ``Content-Security-Policy: frame-ancestors``. Without any, no page may frame it.
  Only ``https`` origins, or ``http`` on ``localhost`` / ``127.0.0.1`` / ``[::1]`` for
  development; no path, query, user or wildcard. They are normalised (lower case, no default
  port) so that what is stored is what the header sends and what a browser compares.

The colour arithmetic (WCAG relative luminance, shades and tints) is here too: it is what the
rule above is made of, and the portal's style sheet and the launcher use the same shades.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from patron.domain.config.values import Section

DEFAULT_BRAND = "#1d4ed8"
PAGE_GREY = "#f3f4f6"
"""The portal's page background: links in the brand colour sit on it."""
MIN_CONTRAST = 4.5
MAX_ORIGINS = 20

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
# A DNS name (labels of letters, digits and dashes; internationalised names in their xn-- form)
# or an IPv4 address; nothing that could end a CSP source expression (spaces, ';', ',', quotes).
_HOST = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)
_LOCAL = frozenset({"localhost", "127.0.0.1", "[::1]"})
_DEFAULT_PORTS = {"https": 443, "http": 80}


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def luminance(color: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    r, g, b = _rgb(color)
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def mix(color: str, other: str, share: float) -> str:
    """``color`` with ``share`` (0 to 1) of ``other`` mixed in, as ``#rrggbb``."""
    mixed = (round(a + (b - a) * share) for a, b in zip(_rgb(color), _rgb(other), strict=True))
    return "#{:02x}{:02x}{:02x}".format(*mixed)


def _brand(value: str) -> str:
    if not _HEX.match(value):
        raise ValueError("a colour written #rrggbb, such as #1d4ed8")
    color = value.lower()
    ratio = contrast(color, PAGE_GREY)
    if ratio < MIN_CONTRAST:
        raise ValueError(
            f"{color} is too light: white text on it and links in it need a contrast of at "
            f"least {MIN_CONTRAST}:1 with the portal's light grey ({PAGE_GREY}), and it gives "
            f"{ratio:.1f}:1; choose a darker shade"
        )
    return color


ORIGIN_HINT = "must be an origin such as https://shop.example"


def check_origin(value: str) -> str:
    """``value`` as a normalised origin. Raises: ValueError saying what is wrong."""
    if not value or len(value) > 200 or value != value.strip():
        raise ValueError(ORIGIN_HINT)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError(ORIGIN_HINT) from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host == "::1":
        host = "[::1]"
    if scheme not in _DEFAULT_PORTS or parts.username is not None or parts.password is not None:
        raise ValueError(ORIGIN_HINT)
    if not (host in _LOCAL or _HOST.match(host)):
        raise ValueError(f"{ORIGIN_HINT}: one host name, no wildcard")
    origin = f"{scheme}://{host}"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        origin += f":{port}"
    if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValueError(f"an origin has no path, query or fragment: write {origin}")
    if scheme == "http" and host not in _LOCAL:
        raise ValueError("must use https (http is only for localhost and 127.0.0.1)")
    return origin


def _origins(values: list[str]) -> list[str]:
    # Each origin was normalised by its own validator; a repeat is one after normalisation.
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{value} is listed twice")
        seen.add(value)
    return values


BrandColor = Annotated[str, Field(strict=True), AfterValidator(_brand)]
Origin = Annotated[str, Field(strict=True), AfterValidator(check_origin)]


class Portal(Section):
    brand_color: BrandColor = DEFAULT_BRAND
    embed_origins: Annotated[
        list[Origin], Field(max_length=MAX_ORIGINS), AfterValidator(_origins)
    ] = []

    @property
    def brand_dark(self) -> str:
        """Hover and gradient shade: the brand with a third of black."""
        return mix(self.brand_color, "#000000", 0.35)

    @property
    def brand_soft(self) -> str:
        """A light tint for pills and notes under dark text."""
        return mix(self.brand_color, "#ffffff", 0.9)


DEFAULT_PORTAL = Portal()
