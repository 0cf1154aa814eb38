"""Jinja2 for the portal: one autoescaping environment (member names and reward texts are
untrusted input); words and figures come from :class:`patron.portal.i18n.Words`."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

ENV = Environment(
    loader=PackageLoader("patron.portal", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, context: dict[str, Any]) -> str:
    return ENV.get_template(template).render(context)
