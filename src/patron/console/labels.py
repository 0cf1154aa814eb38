"""Plain words for what the services record in codes: who did something (an audit record's
actor, a ledger entry's ``kind:id`` label) and a record's values."""

from __future__ import annotations

from typing import Any

from patron.domain.audit import Actor


def actor_label(actor: Actor) -> str:
    """An audit record's actor: the staff user's email, the API key's name, or what ran it."""
    if actor.kind == "system":
        return "system"
    if actor.kind == "cli":
        return "command line"
    if actor.kind == "member":
        return "the member (portal)"
    if actor.kind == "api_key":
        return f"API key {actor.name}" if actor.name else f"API key {actor.id}"
    return actor.name or actor.id


def entry_actor(label: str | None, names: dict[str, str]) -> str:
    """A ledger entry's actor label (``api_key:<id>``, ``user:<id>``, ``system:...``)."""
    if not label:
        return ""
    kind = label.partition(":")[0]
    if kind == "system":
        return "system"
    if kind == "cli":
        return "command line"
    if kind == "member":
        return "the member (portal)"
    return names.get(label, label)


def plain(value: Any) -> str:
    """A recorded value in one readable line: ``key: value`` pairs, lists joined by commas."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {plain(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value) or "—"
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
