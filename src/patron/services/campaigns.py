"""Campaigns (SPEC §6): named sets of rules, applied only inside their window and audience.

A campaign's rules use the configuration's rule format. While a campaign is live they join the
program's rules for the members of its audience (tiers and/or segments; everyone when empty),
with ids ``c.<campaign>.<rule>`` so every award says which campaign gave it. A multiplier in a
campaign may target the program's own rules (``applies_to: ["base"]``). The campaign ``budget``
caps the points all its rules award together, on purchases and on activity events: its rules
spend one shared budget (``MemberState.budget_pools``). Results are read from the awards.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from patron.domain.config import ProgramConfig, parse_config
from patron.domain.errors import FieldError, NotFound, ValidationFailed
from patron.domain.ids import new_id
from patron.domain.members import Member
from patron.services import audit, segments
from patron.services.ledger import Context
from patron.services.ports import Campaign

_PATH = re.compile(r"^rules\[(\d+)\](.*)$")


def prefix(code: str) -> str:
    return f"c.{code}."


def _prefixed(code: str, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    own = {r.get("id") for r in rules if isinstance(r, dict)}
    out = []
    for rule in rules:
        if not isinstance(rule, dict):
            out.append(rule)
            continue
        changed = dict(rule)
        if isinstance(rule.get("id"), str):
            changed["id"] = prefix(code) + rule["id"]
        targets = rule.get("applies_to")
        if isinstance(targets, list):
            changed["applies_to"] = [prefix(code) + t if t in own else t for t in targets]
        out.append(changed)
    return out


def with_campaign(
    config: ProgramConfig, code: str, rules: list[dict[str, Any]], budget: int | None
) -> ProgramConfig:
    """The configuration with the campaign's rules added; raises ValidationFailed with paths
    into the campaign's own ``rules``."""
    document = config.to_document()
    base = len(document["rules"])
    extra = _prefixed(code, rules)
    if budget is not None:
        extra = [
            {**r, "limits": {**(r.get("limits") or {}), "budget": budget}}
            if isinstance(r, dict)
            else r
            for r in extra
        ]
    document["rules"] = document["rules"] + extra
    try:
        return parse_config(document)
    except ValidationFailed as exc:
        errors = []
        for e in exc.errors:
            found = _PATH.match(e.path)
            if found and int(found.group(1)) >= base:
                errors.append(
                    FieldError(
                        f"rules[{int(found.group(1)) - base}]{found.group(2)}", e.message, e.type
                    )
                )
            else:
                errors.append(FieldError(f"rules: {e.path}", e.message, e.type))
        raise ValidationFailed(errors) from None


def create(ctx: Context, fields: dict[str, Any]) -> Campaign:
    """Raises: ValidationFailed (window, audience, rules with paths), Conflict (code taken)."""
    errors = []
    if fields["end"] <= fields["start"]:
        errors.append(FieldError("end", "must come after start"))
    audience = fields.get("audience") or {}
    tiers = ctx.config.tiers
    for code in audience.get("tiers") or []:
        if tiers is None or tiers.level(code) is None:
            errors.append(FieldError("audience.tiers", f"unknown tier {code!r}"))
    for code in audience.get("segments") or []:  # this program's segments only
        if ctx.uow.segments.get(ctx.program.id, code) is None:
            errors.append(FieldError("audience.segments", f"unknown segment {code!r}"))
    if errors:
        raise ValidationFailed(errors)
    with_campaign(ctx.config, fields["code"], fields["rules"], fields.get("budget"))
    campaign = Campaign(
        id=new_id(),
        program_id=ctx.program.id,
        code=fields["code"],
        name=fields["name"],
        start=fields["start"],
        end=fields["end"],
        audience=audience,
        rules=fields["rules"],
        budget=fields.get("budget"),
        status="active",
        created_at=ctx.clock.now(),
    )
    ctx.uow.campaigns.add(campaign)
    return campaign


def get(ctx: Context, code: str) -> Campaign:
    found = ctx.uow.campaigns.get(ctx.program.id, code)
    if found is None:
        raise NotFound(f"no campaign {code!r} in this program")
    return found


def update(ctx: Context, code: str, changes: dict[str, Any]) -> Campaign:
    """Rename, move the window's end, or cancel (``status: cancelled``)."""
    current = get(ctx, code)
    updated = replace(
        current, **{k: v for k, v in changes.items() if k in ("name", "end", "status")}
    )
    if updated.end <= updated.start:
        raise ValidationFailed([FieldError("end", "must come after start")])
    ctx.uow.campaigns.update(updated)
    fields = ("name", "end", "status")
    before, after = audit.changed(
        {k: getattr(current, k) for k in fields}, {k: getattr(updated, k) for k in fields}
    )
    audit.record(
        ctx.uow,
        program_id=ctx.program.id,
        actor=ctx.actor,
        action="campaign.updated",
        target=("campaign", current.code),
        at=ctx.clock.now(),
        before=before,
        after=after,
    )
    return updated


def results(ctx: Context, campaign: Campaign) -> dict[str, int]:
    points, members = ctx.uow.campaigns.awarded(ctx.program.id, prefix(campaign.code))
    return {"points_awarded": points, "members_reached": members}


def extend(
    ctx: Context, config: ProgramConfig, member: Member | None, at: datetime, tier: str | None
) -> tuple[ProgramConfig, dict[str, str]]:
    """The configuration for a purchase or event at ``at`` by ``member`` (holding ``tier`` at
    that moment), with the live campaigns whose audience holds the member; and the budget each
    rule of a budgeted campaign spends (the campaign's, keyed by its prefix), for
    ``MemberState.budget_pools``. What a budget has paid out is read by the caller, after it
    has locked the program (``earning.member_state``)."""
    if member is None:
        return config, {}
    live = ctx.uow.campaigns.live(ctx.program.id, at)
    pools: dict[str, str] = {}
    for campaign in live:
        wanted_tiers = campaign.audience.get("tiers")
        if wanted_tiers and tier not in wanted_tiers:
            continue
        wanted_segments = campaign.audience.get("segments")
        if wanted_segments and not segments.member_segments(ctx, member, wanted_segments):
            continue
        config = with_campaign(config, campaign.code, campaign.rules, campaign.budget)
        if campaign.budget is not None:
            for rule in campaign.rules:
                pools[prefix(campaign.code) + str(rule.get("id"))] = prefix(campaign.code)
    return config, pools


def budget_spent(ctx: Context, pool: str) -> int:
    """What a campaign (named by its rules' prefix) has paid out, on purchases and events."""
    return ctx.uow.campaigns.awarded(ctx.program.id, pool)[0]
