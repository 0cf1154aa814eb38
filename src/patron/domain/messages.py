"""Message templates: the events that send, their variables, the sandbox, rendering (SPEC §11).

A template belongs to an (event, channel) pair. Its ``body`` (and, for email, ``subject``) is a
Jinja2 template rendered in a ``SandboxedEnvironment`` with ``StrictUndefined`` and **only**
the variables documented for its event (``variables``): strings already formatted for the
program's locale (``1,250`` / ``1 250``, ``3 Dec 2026`` / ``3 déc. 2026``). A template is checked
when it is saved (``template_errors``): a syntax error, an unknown variable, any attribute or
item access, any call, ``include``/``import``/``extends`` are refused with the line where they
are, and the template is rendered once with sample data. So a merchant cannot reach anything
beyond the documented variables, and a saved template never fails at send time for a reason
it could have been told about.

Categories (SPEC §11): **transactional** messages go to every member with a contact on the
channel; **marketing** messages need the channel's recorded consent and carry one-click
unsubscribe. Every event has a default category and default templates in English and French
(``patron.domain.message_defaults``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment

from patron.domain.errors import FieldError

Channel = Literal["email", "sms"]
Category = Literal["transactional", "marketing"]
CHANNELS: tuple[Channel, ...] = ("email", "sms")
CATEGORIES: tuple[Category, ...] = ("transactional", "marketing")
SMS_MAX = 1600  # ten concatenated segments: longer texts are refused when saved
SUBJECT_MAX = 200
BODY_MAX = 20_000

COMMON = {
    "first_name": "the member's first name (empty when unknown)",
    "program_name": "the program's name",
    "balance": "the member's points balance, formatted",
    "tier": "the member's tier name (empty without tiers)",
    "portal_link": "the link to the member portal",
    "unsubscribe_link": "the one-click unsubscribe link of the channel (marketing messages)",
}


@dataclass(frozen=True, slots=True)
class EventKind:
    event: str
    title: str
    category: Category
    variables: Mapping[str, str]
    """The event's own variables beside ``COMMON``."""
    exempt_from_caps: bool = False


EVENTS: dict[str, EventKind] = {
    kind.event: kind
    for kind in (
        EventKind(
            "member.enrolled",
            "Welcome",
            "marketing",
            {"card_number": "the member's card number", "referral_code": "their referral code"},
        ),
        EventKind(
            "points.earned",
            "Points earned",
            "marketing",
            {"points": "the points earned, formatted", "wallet": "the wallet's code"},
        ),
        EventKind(
            "points.expiring",
            "Points expiring",
            "marketing",
            {
                "points": "the points about to expire, formatted",
                "expiry_date": "the day they expire, formatted",
            },
            exempt_from_caps=True,
        ),
        EventKind(
            "tier.changed",
            "Tier changed",
            "marketing",
            {"previous_tier": "the tier before the change (empty when none)"},
        ),
        EventKind(
            "reward.redeemed",
            "Reward redeemed",
            "transactional",
            {
                "reward": "the reward's name",
                "voucher_code": "the voucher's code (empty when the reward has none)",
                "voucher_expiry": "the day the voucher expires (empty when it does not)",
            },
        ),
        EventKind(
            "referral.completed",
            "Referral completed",
            "marketing",
            {"friend_first_name": "the referred friend's first name"},
        ),
        EventKind(
            "portal.sign_in",
            "Portal sign-in link",
            "transactional",
            {"sign_in_link": "the one-time sign-in link", "valid_minutes": "how long it works"},
        ),
    )
}


def variables(event: str) -> dict[str, str]:
    """Every variable a template of ``event`` may use, with what it holds."""
    return {**COMMON, **EVENTS[event].variables}


SAMPLE = {
    "first_name": "Ada",
    "program_name": "Patron Rewards",
    "balance": "1,250",
    "tier": "Gold",
    "portal_link": "https://loyalty.example.com/portal/shop/",
    "unsubscribe_link": "https://loyalty.example.com/unsubscribe/sample",
    "card_number": "4000123412341234",
    "referral_code": "ADA7K2",
    "points": "120",
    "wallet": "points",
    "expiry_date": "31 Dec 2026",
    "previous_tier": "Silver",
    "reward": "Free coffee",
    "voucher_code": "V-7Q2M-9KXA",
    "voucher_expiry": "31 Jan 2027",
    "friend_first_name": "Grace",
    "sign_in_link": "https://loyalty.example.com/portal/shop/sign-in/sample",
    "valid_minutes": "15",
}


def sample(event: str) -> dict[str, str]:
    return {name: SAMPLE[name] for name in variables(event)}


class _Sandbox(SandboxedEnvironment):
    """No attribute of any value is reachable, not even a string's methods; only a ``for``
    loop's own ``loop.index`` and friends."""

    def is_safe_attribute(self, obj: object, attr: str, value: object) -> bool:
        return isinstance(obj, LoopContext) and not attr.startswith("_")


_ENV = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_REFUSED: dict[type[nodes.Node], str] = {
    nodes.Getattr: "attribute access is not available; use the variables as they are",
    nodes.Getitem: "item access is not available; use the variables as they are",
    nodes.Call: "calls are not available",
    nodes.Include: "include is not available",
    nodes.Import: "import is not available",
    nodes.FromImport: "import is not available",
    nodes.Extends: "extends is not available",
    nodes.Macro: "macros are not available",
}


def template_errors(event: str, field: str, source: str) -> list[FieldError]:
    """What is wrong with ``source`` as the ``field`` of a template of ``event``, each error
    with its line: ``body: line 3: unknown variable 'pionts'``."""
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        return [FieldError(field, f"line {exc.lineno}: {exc.message}", "template_syntax")]
    allowed = variables(event)
    errors: list[FieldError] = []
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for node in _walk(tree):
        refused = next((why for kind, why in _REFUSED.items() if isinstance(node, kind)), None)
        if isinstance(node, nodes.Getattr) and _is_loop(node.node):
            refused = None
        if refused is not None:
            errors.append(FieldError(field, f"line {node.lineno}: {refused}", "template_refused"))
        elif (
            isinstance(node, nodes.Name)
            and node.ctx == "load"
            and node.name not in allowed
            and node.name not in assigned
            and node.name not in ("loop", "true", "false", "none", "True", "False", "None")
        ):
            known = ", ".join(sorted(allowed))
            errors.append(
                FieldError(
                    field,
                    f"line {node.lineno}: unknown variable {node.name!r} (available: {known})",
                    "template_variable",
                )
            )
    if errors:
        return errors
    try:
        render(source, sample(event))
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        line = _line_of(exc)
        where = f"line {line}: " if line else ""
        return [FieldError(field, f"{where}{exc}", "template_render")]
    return []


def _is_loop(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == "loop"


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _line_of(exc: BaseException) -> int | None:
    lineno = getattr(exc, "lineno", None)
    return lineno if isinstance(lineno, int) else None


@lru_cache(maxsize=512)
def _compiled(source: str):  # type: ignore[no-untyped-def]
    return _ENV.from_string(source)


def render(source: str, values: Mapping[str, str]) -> str:
    """``source`` rendered with ``values``; raises jinja2's errors for a bad template."""
    return str(_compiled(source).render(**values)).strip()


_URL = re.compile(r"https?://[^\s<>\"']+")


def html_body(text: str, *, title: str) -> str:
    """The HTML alternative of a text email: paragraphs, line breaks and links, in a plain
    layout with inline styles (mail clients ignore style sheets)."""

    def paragraph(block: str) -> str:
        lines = []
        for line in block.splitlines():
            escaped = html.escape(line)
            lines.append(
                _URL.sub(
                    lambda m: f'<a href="{m.group(0)}" style="color:#1d4ed8">{m.group(0)}</a>',
                    escaped,
                )
            )
        return '<p style="margin:0 0 16px">' + "<br>".join(lines) + "</p>"

    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="margin:0;padding:24px;background:#f4f5f7;font-family:system-ui,'
        'sans-serif;font-size:16px;line-height:1.5;color:#1f2937">'
        '<div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;'
        'padding:24px">' + "".join(paragraph(b) for b in blocks) + "</div></body></html>"
    )


# One-click unsubscribe tokens (RFC 8058): the program, member and channel, and an HMAC of
# them under the program's message key, so a token cannot be made or changed without the key.
_TOKEN_MAC = 16  # bytes of HMAC-SHA256 kept: 128 bits


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unsubscribe_token(key: str, program_id: str, member_id: str, channel: str) -> str:
    payload = f"{program_id}|{member_id}|{channel}".encode()
    mac = hmac.new(key.encode(), payload, hashlib.sha256).digest()[:_TOKEN_MAC]
    return f"{_b64(payload)}.{_b64(mac)}"


@dataclass(frozen=True, slots=True)
class UnsubscribeClaim:
    program_id: str
    member_id: str
    channel: str
    token: str

    def valid(self, key: str) -> bool:
        expected = unsubscribe_token(key, self.program_id, self.member_id, self.channel)
        return hmac.compare_digest(expected, self.token)


def read_unsubscribe_token(token: str) -> UnsubscribeClaim | None:
    """What a token claims (not yet verified: see ``UnsubscribeClaim.valid``), or None."""
    if len(token) > 300 or token.count(".") != 1:
        return None
    payload, _ = token.split(".")
    try:
        parts = _unb64(payload).decode().split("|")
    except (ValueError, UnicodeDecodeError):
        return None
    if len(parts) != 3 or parts[2] not in CHANNELS:
        return None
    return UnsubscribeClaim(parts[0], parts[1], parts[2], token)
