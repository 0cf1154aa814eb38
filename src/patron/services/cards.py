"""The digital card (SPEC §10): a member's card number as a QR code and as Code 128, the two
symbols a point-of-sale scanner reads, on a card face that also names the program, the member,
the tier and the points balance. The same face feeds the wallet passes.

The SVG is drawn here rather than by segno's own writer so that the QR code, the bars and the
text share one document and one coordinate system: a scanner wants crisp edges, so every module
is a whole rectangle (``shape-rendering="crispEdges"``) on a white ground with its quiet zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

import segno

from patron.domain import code128
from patron.domain.programs import Program
from patron.services.balances import member_views
from patron.services.members import get_member
from patron.services.ports import UnitOfWork
from patron.services.programs import load_config

WIDTH = 600
HEIGHT = 378
"""An ID-1 card (85.60 by 53.98 mm), seven units to the millimetre."""

INK = "#101828"
MUTED = "#667085"


@dataclass(frozen=True, slots=True)
class CardFace:
    program_name: str
    member_id: str
    member_name: str
    card_number: str
    tier_name: str | None
    tier_code: str | None
    points: int
    brand: str
    """The program's colour (``portal.brand_color``: white text on it passes WCAG AA)."""


def card_face(uow: UnitOfWork, program: Program, member_ref: str, now: datetime) -> CardFace:
    """What a member's card shows.

    Raises: MemberNotFound."""
    member = get_member(uow, program, member_ref)
    view = member_views(uow, program, [member], now=now)[0]
    points = view.wallets.get("points")
    name = " ".join(p for p in (member.first_name, member.last_name) if p)
    brand = load_config(uow, program).portal_settings.brand_color
    return CardFace(
        program_name=program.name,
        member_id=member.id,
        member_name=name,
        card_number=member.card_number,
        tier_name=view.tier.name if view.tier else None,
        tier_code=view.tier.code if view.tier else None,
        points=int(points.available) if points is not None else 0,
        brand=brand,
    )


def grouped(card_number: str) -> str:
    """The card number as people read it: groups of four digits."""
    return " ".join(card_number[i : i + 4] for i in range(0, len(card_number), 4))


def qr_path(text: str, *, x: float, y: float, size: float) -> str:
    """An SVG ``<path>`` of the QR code of ``text`` filling a ``size`` square at (x, y), its
    four-module quiet zone included."""
    qr = segno.make(text, error="m", micro=False)
    rows = [list(row) for row in qr.matrix]
    modules = len(rows) + 8
    unit = size / modules
    parts = []
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            parts.append(
                f"M{x + (start + 4) * unit:.3f} {y + (r + 4) * unit:.3f}"
                f"h{(c - start) * unit:.3f}v{unit:.3f}h{-(c - start) * unit:.3f}z"
            )
    return f'<path fill="{INK}" d="{"".join(parts)}"/>'


def code128_bars(text: str, *, x: float, y: float, width: float, height: float) -> str:
    """A ``<g>`` of the Code 128 bars of ``text`` fitted into ``width`` (quiet zones included):
    one ``<rect>`` per bar, left to right."""
    widths = code128.widths(text)
    unit = width / (sum(widths) + 2 * code128.QUIET)
    at = x + code128.QUIET * unit
    rects = []
    for i, w in enumerate(widths):
        if i % 2 == 0:
            rects.append(
                f'<rect x="{at:.3f}" y="{y:.3f}" width="{w * unit:.3f}" height="{height:.3f}"/>'
            )
        at += w * unit
    return f'<g class="code128" fill="{INK}">{"".join(rects)}</g>'


def card_svg(face: CardFace) -> str:
    """The card as a standalone SVG document."""
    title = f"{face.program_name} card {face.card_number}"
    tier = ""
    if face.tier_name:
        label = escape(face.tier_name.upper())
        pill = 24 + 9 * len(face.tier_name)
        tier = (
            f'<rect x="{WIDTH - 28 - pill}" y="30" width="{pill}" height="28" rx="14" '
            f'fill="#f2c94c"/><text x="{WIDTH - 28 - pill / 2}" y="49" text-anchor="middle" '
            f'font-size="13" font-weight="700" fill="{INK}" letter-spacing="1">{label}</text>'
        )
    member = escape(face.member_name or "Member")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label={quoteattr(title)} '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif" '
        'shape-rendering="crispEdges">'
        f"<title>{escape(title)}</title>"
        f'<rect x="0.5" y="0.5" width="{WIDTH - 1}" height="{HEIGHT - 1}" rx="18" fill="#ffffff" '
        'stroke="#d0d5dd"/>'
        f'<path d="M18.5 0.5H{WIDTH - 18.5}A18 18 0 0 1 {WIDTH - 0.5} 18.5V88H0.5V18.5'
        f'A18 18 0 0 1 18.5 0.5Z" fill="{face.brand}"/>'
        f'<text x="28" y="54" font-size="24" font-weight="700" fill="#ffffff">'
        f"{escape(face.program_name)}</text>{tier}"
        f'<text x="28" y="120" font-size="11" fill="{MUTED}" letter-spacing="1.5">MEMBER</text>'
        f'<text x="28" y="145" font-size="21" font-weight="600" fill="{INK}">{member}</text>'
        f'<text x="28" y="180" font-size="11" fill="{MUTED}" letter-spacing="1.5">POINTS</text>'
        f'<text x="28" y="204" font-size="19" font-weight="600" fill="{INK}">'
        f"{face.points:,}</text>"
        f'<text x="200" y="180" font-size="11" fill="{MUTED}" letter-spacing="1.5">'
        "CARD NUMBER</text>"
        f'<text x="200" y="204" font-size="19" fill="{INK}" '
        'font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace">'
        f"{escape(grouped(face.card_number))}</text>"
        + qr_path(face.card_number, x=WIDTH - 160, y=100, size=132)
        + code128_bars(face.card_number, x=20, y=240, width=WIDTH - 40, height=90)
        + f'<text x="{WIDTH / 2}" y="354" text-anchor="middle" font-size="12" fill="{MUTED}" '
        f'letter-spacing="2">{escape(face.card_number)}</text>'
        "</svg>\n"
    )
