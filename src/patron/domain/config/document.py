"""The program configuration document: parsing, cross-references and the canonical form.

``parse_config`` checks a whole document and reports every problem at once, each with the path
of the offending field (``rules[4].applies_to``, ``tiers.levels[1].threshold``), so a loyalty
manager fixes a configuration in one round trip. Sections and rules are parsed one by one, so a
typo in one rule does not hide a broken reference in another; references are then checked
against whatever parsed.

``ProgramConfig.to_document`` is the canonical form stored as an immutable version: defaults are
written out, so a stored version keeps its meaning even if a later release changes a default.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictInt, TypeAdapter
from pydantic import ValidationError as PydanticError

from patron.domain.config.messages import Locale, Messages
from patron.domain.config.portal import DEFAULT_PORTAL, Portal
from patron.domain.config.rules import (
    PURCHASE_ONLY_FILTERS,
    RULE_KINDS,
    TIER_MULTIPLIED_KINDS,
    CashbackRule,
    EventRule,
    MultiplierRule,
    PointsRule,
    Rule,
)
from patron.domain.config.tiers import Referrals, Tiers
from patron.domain.config.values import Code, Section
from patron.domain.config.wallets import Wallet
from patron.domain.errors import FieldError, ValidationFailed


class Earning(Section):
    include_tax: StrictBool = False
    include_shipping: StrictBool = False
    rounding: Literal["floor", "half_up", "half_even", "ceil"] = "floor"


class ProgramConfig(Section):
    """A validated configuration. Build it with ``parse_config``, not directly."""

    wallets: dict[Code, Wallet]
    earning: Earning = Earning()
    rules: list[Rule] = []
    tiers: Tiers | None = None
    referrals: Referrals | None = None
    anonymous_claim_days: Annotated[StrictInt, Field(ge=0, le=3650)] = 30
    """How long an anonymous purchase may be claimed by a member afterwards."""
    locale: Locale | None = None
    """The language of messages and the portal (``en`` when absent)."""
    messages: Messages | None = None
    """The sending policy: frequency caps and SMS quiet hours (defaults when absent)."""
    portal: Portal | None = None
    """The member portal's brand colour and the sites that may frame it (defaults when absent)."""

    @property
    def portal_settings(self) -> Portal:
        return self.portal or DEFAULT_PORTAL

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = self.model_dump(mode="json", exclude_none=True)
        # id and kind first: the stored document reads like the one a person wrote
        document["rules"] = [
            {"id": rule["id"], "kind": rule["kind"], **rule} for rule in document["rules"]
        ]
        return document

    def rule(self, rule_id: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)


_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "wallets": TypeAdapter(dict[Code, Wallet]),
    "earning": TypeAdapter(Earning),
    "tiers": TypeAdapter(Tiers | None),
    "referrals": TypeAdapter(Referrals | None),
    "anonymous_claim_days": TypeAdapter(Annotated[StrictInt, Field(ge=0, le=3650)]),
    "locale": TypeAdapter(Locale | None),
    "messages": TypeAdapter(Messages | None),
    "portal": TypeAdapter(Portal | None),
}
_RULE = TypeAdapter(Rule)
SECTIONS = (
    "wallets",
    "earning",
    "rules",
    "tiers",
    "referrals",
    "anonymous_claim_days",
    "locale",
    "messages",
    "portal",
)
EXPIRY_MODES = frozenset({"after_earn", "inactivity", "none"})


def default_config() -> ProgramConfig:
    """A points wallet without expiry and one rule: 1 point per 1.00 spent."""
    return parse_config(
        {
            "wallets": {"points": {}},
            "rules": [
                {"id": "base", "name": "1 point per 1.00", "kind": "spend", "points": 1, "per": "1"}
            ],
        }
    )


def parse_config(document: object) -> ProgramConfig:
    """Validate a whole configuration document. Raises: ValidationFailed with every error."""
    parsed, errors = _parse(document)
    if errors or parsed is None:
        raise ValidationFailed(errors, detail=_summary(errors))
    return parsed


def config_errors(document: object) -> list[FieldError]:
    """Every problem of ``document``; empty when it is a valid configuration."""
    return _parse(document)[1]


def _summary(errors: Sequence[FieldError]) -> str:
    shown = "; ".join(f"{e.path}: {e.message}" for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return f"the configuration has {len(errors)} error(s): {shown}{more}"


def _parse(document: object) -> tuple[ProgramConfig | None, list[FieldError]]:
    if not isinstance(document, dict):
        return None, [FieldError("", "the configuration must be a JSON object", "type_error")]
    errors = [
        FieldError(str(key), "unknown key", "extra_forbidden")
        for key in document
        if key not in SECTIONS
    ]
    values: dict[str, Any] = {}
    for name, adapter in _ADAPTERS.items():
        if name in document:
            try:
                values[name] = adapter.validate_python(document[name])
            except PydanticError as exc:
                errors += _field_errors(name, exc)
    if "wallets" not in document:
        errors.append(
            FieldError("wallets", "required: every program has a points wallet", "missing")
        )
    rules, rule_errors = _parse_rules(document.get("rules", []))
    errors += rule_errors
    errors += _cross_references(document, values, rules)
    if errors:
        return None, errors
    return ProgramConfig(**values, rules=[rule for _, rule in rules]), []


MAX_RULES = 500


def _parse_rules(raw: object) -> tuple[list[tuple[int, Any]], list[FieldError]]:
    if not isinstance(raw, list):
        return [], [FieldError("rules", "must be a list of rules", "list_type")]
    if len(raw) > MAX_RULES:
        return [], [FieldError("rules", f"at most {MAX_RULES} rules", "too_long")]
    parsed: list[tuple[int, Any]] = []
    errors: list[FieldError] = []
    for index, item in enumerate(raw):
        try:
            parsed.append((index, _RULE.validate_python(item)))
        except PydanticError as exc:
            errors += _field_errors(f"rules[{index}]", exc)
    return parsed, errors


def _field_errors(prefix: str, exc: PydanticError) -> list[FieldError]:
    found = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        kind = error["type"]
        message = str(error["msg"]).removeprefix("Value error, ")
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            tag = "mode" if "mode" in str(error.get("ctx", {})) else "kind"
            loc.append(tag)
            expected = ", ".join(RULE_KINDS if tag == "kind" else sorted(EXPIRY_MODES))
            message = f"must be one of: {expected}"
        elif kind == "extra_forbidden":
            message = "unknown key"
        elif kind == "missing":
            message = "required"
        found.append(FieldError(_path(prefix, loc), message, kind))
    return found


def _path(prefix: str, loc: Iterable[int | str]) -> str:
    path = prefix
    previous: int | str | None = None
    for position, part in enumerate(loc):
        skip_rule_tag = position == 0 and prefix.startswith("rules[") and part in RULE_KINDS
        skip_expiry_tag = previous == "expiry" and part in EXPIRY_MODES
        if skip_rule_tag or skip_expiry_tag or part == "[key]":
            previous = part
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
        previous = part
    return path


def _cross_references(
    document: dict[str, Any], values: dict[str, Any], rules: list[tuple[int, Any]]
) -> list[FieldError]:
    wallets = _wallet_kinds(document.get("wallets"), values.get("wallets"))
    errors: list[FieldError] = []
    if wallets is not None:
        if "points" not in wallets:
            errors.append(
                FieldError(
                    "wallets.points", "required: every program has a points wallet", "missing"
                )
            )
        elif wallets["points"] != "points":
            errors.append(FieldError("wallets.points.kind", "the points wallet holds points"))
    tiers: Tiers | None = values.get("tiers")
    errors += _ladder_errors(document.get("tiers"))
    raw_rules = document.get("rules")
    known = _raw_rule_kinds(raw_rules if isinstance(raw_rules, list) else [])
    errors += _duplicate_ids(raw_rules if isinstance(raw_rules, list) else [])
    for index, rule in rules:
        errors += _rule_references(f"rules[{index}]", rule, wallets, tiers, document, known)
    referrals = document.get("referrals")
    if isinstance(referrals, dict) and wallets is not None:
        for side in ("referrer", "referee"):
            award = referrals.get(side)
            code = award.get("wallet", "points") if isinstance(award, dict) else None
            if isinstance(code, str):
                path = f"referrals.{side}.wallet"
                errors += _wallet_errors(path, code, wallets, money=False)
    return errors


def _wallet_kinds(raw: object, parsed: dict[str, Wallet] | None) -> dict[str, str] | None:
    """Wallet code → kind; read from the raw document when a wallet failed to parse, so that
    references to it are still checked."""
    if parsed is not None:
        return {code: wallet.kind for code, wallet in parsed.items()}
    if not isinstance(raw, dict):
        return None
    return {
        str(code): str(spec.get("kind", "points")) if isinstance(spec, dict) else "points"
        for code, spec in raw.items()
    }


def _ladder_errors(raw: object) -> list[FieldError]:
    """The shape of the ladder, read from the raw levels so that it is checked even when one
    level has an unrelated error (a bad benefit, a negative threshold)."""
    levels = raw.get("levels") if isinstance(raw, dict) else None
    if not isinstance(levels, list):
        return []
    whole = isinstance(raw, dict) and raw.get("metric") in ("points_earned", "purchases")
    errors = []
    seen: set[str] = set()
    previous: Decimal | None = None
    for index, level in enumerate(levels):
        path = f"tiers.levels[{index}]"
        code = level.get("code") if isinstance(level, dict) else None
        if isinstance(code, str):
            if code in seen:
                errors.append(FieldError(f"{path}.code", f"tier {code!r} is defined twice"))
            seen.add(code)
        threshold = _decimal(level.get("threshold")) if isinstance(level, dict) else None
        if threshold is None or threshold < 0:
            previous = None
            continue
        if index == 0 and threshold != 0:
            message = "the first level is where every member starts: its threshold must be 0"
            errors.append(FieldError(f"{path}.threshold", message))
        if previous is not None and threshold <= previous:
            message = "must be higher than the threshold of the level before"
            errors.append(FieldError(f"{path}.threshold", message))
        if whole and threshold != threshold.to_integral_value():
            message = "thresholds of a points_earned or purchases metric are whole numbers"
            errors.append(FieldError(f"{path}.threshold", message))
        previous = threshold
    return errors


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def _raw_rule_kinds(raw_rules: list[Any]) -> dict[str, str]:
    """Rule id → kind, read from the raw document so a rule with a typo elsewhere still counts."""
    return {
        item["id"]: str(item.get("kind"))
        for item in raw_rules
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    }


def _duplicate_ids(raw_rules: list[Any]) -> list[FieldError]:
    errors = []
    seen: set[str] = set()
    for index, item in enumerate(raw_rules):
        rule_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(rule_id, str):
            if rule_id in seen:
                errors.append(
                    FieldError(f"rules[{index}].id", f"rule id {rule_id!r} is used twice")
                )
            seen.add(rule_id)
    return errors


def _rule_references(
    path: str,
    rule: Any,
    wallets: dict[str, str] | None,
    tiers: Tiers | None,
    document: dict[str, Any],
    known: dict[str, str],
) -> list[FieldError]:
    errors: list[FieldError] = []
    if wallets is not None and isinstance(rule, PointsRule | CashbackRule):
        money = isinstance(rule, CashbackRule)
        errors += _wallet_errors(f"{path}.wallet", rule.wallet, wallets, money=money)
    if isinstance(rule, MultiplierRule) and rule.applies_to:
        errors += _applies_to_errors(f"{path}.applies_to", rule.applies_to, known)
    if rule.tiers:
        if tiers is None and "tiers" not in document:
            errors.append(FieldError(f"{path}.tiers", "the configuration defines no tiers"))
        elif tiers is not None:
            codes = {level.code for level in tiers.levels}
            unknown = [code for code in rule.tiers if code not in codes]
            if unknown:
                errors.append(FieldError(f"{path}.tiers", f"unknown tier(s): {', '.join(unknown)}"))
    if isinstance(rule, EventRule):
        for name in PURCHASE_ONLY_FILTERS:
            if getattr(rule, name) is not None:
                message = "only purchase rules take this filter; an event has no purchase"
                errors.append(FieldError(f"{path}.{name}", message))
    if rule.start is not None and rule.end is not None and not _before(rule.start, rule.end):
        errors.append(FieldError(f"{path}.end", "must come after start"))
    return errors


def _wallet_errors(
    path: str, code: str, wallets: dict[str, str], *, money: bool
) -> list[FieldError]:
    kind = wallets.get(code)
    if kind is None:
        return [FieldError(path, f"unknown wallet {code!r}")]
    if (kind == "money") != money:
        needed = "a money wallet" if money else "a points wallet"
        return [FieldError(path, f"wallet {code!r} is a {kind} wallet; this needs {needed}")]
    return []


def _applies_to_errors(path: str, targets: list[str], known: dict[str, str]) -> list[FieldError]:
    unknown = [target for target in targets if target not in known]
    if unknown:
        return [FieldError(path, f"unknown rule(s): {', '.join(unknown)}")]
    allowed = TIER_MULTIPLIED_KINDS | {"cashback"}
    wrong = [target for target in targets if known[target] not in allowed]
    if wrong:
        message = f"a multiplier scales spend, visit, item, bonus or cashback rules: {wrong}"
        return [FieldError(path, message)]
    return []


def _before(start: date, end: date) -> bool:
    """``start`` < ``end``; a date ``end`` includes its whole day. Mixed kinds compare by day."""
    if (
        isinstance(start, datetime)
        and isinstance(end, datetime)
        and (start.tzinfo is None) == (end.tzinfo is None)
    ):
        return start < end
    start_day = start.date() if isinstance(start, datetime) else start
    end_day = end.date() if isinstance(end, datetime) else end
    return start_day <= end_day
