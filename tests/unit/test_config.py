"""The configuration document: every rule kind, filter and limit, references and paths."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patron.domain.config import config_errors, default_config, parse_config
from patron.domain.config.expression import check_expression
from patron.domain.errors import ValidationFailed
from tests.support_example import EXAMPLE_CONFIG


def config_with(*rules: dict[str, Any], **sections: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "wallets": {"points": {}, "credit": {"kind": "money"}},
        "rules": list(rules),
    }
    document.update(sections)
    return document


def paths(document: object) -> set[str]:
    return {error.path for error in config_errors(document)}


def test_the_example_is_valid_and_its_canonical_form_is_stable() -> None:
    config = parse_config(EXAMPLE_CONFIG)
    document = config.to_document()
    assert parse_config(document).to_document() == document
    assert [rule.id for rule in config.rules] == [r["id"] for r in EXAMPLE_CONFIG["rules"]]
    assert document["wallets"]["credit"]["expiry"] == {"mode": "none"}
    assert document["wallets"]["points"]["reminder_days"] == [30, 7]
    assert document["rules"][0] == {
        "id": "base",
        "kind": "spend",
        "name": "1 point per 1.00",
        "active": True,
        "wallet": "points",
        "points": 1,
        "per": "1.00",
    }
    assert config.tiers is not None
    assert config.tiers.levels[2].benefits.multiplier == Decimal("1.5")


def test_the_default_configuration_earns_one_point_per_unit() -> None:
    config = default_config()
    assert list(config.wallets) == ["points"]
    assert [(rule.kind, rule.id) for rule in config.rules] == [("spend", "base")]


@pytest.mark.parametrize(
    "rule",
    [
        {"id": "s", "kind": "spend", "points": 3, "per": 2},
        {"id": "v", "kind": "visit", "points": 5, "channels": ["store"], "stores": ["S1"]},
        {"id": "i", "kind": "item", "skus": ["A", "B"], "points": 7},
        {"id": "b", "kind": "bonus", "points": 9, "first_purchase": True, "min_spend": "10"},
        {"id": "m", "kind": "multiplier", "factor": "1.5", "days_of_week": ["mon"]},
        {"id": "c", "kind": "cashback", "wallet": "credit", "percent": "2.5"},
        {"id": "e", "kind": "event", "event": "review_posted", "points": 1},
        {
            "id": "w",
            "kind": "spend",
            "points": 1,
            "per": "1",
            "categories": ["shoes"],
            "exclude_categories": ["sale"],
            "exclude_skus": ["X"],
            "payment_card_types": ["cobrand"],
            "segments": ["vip"],
            "start": "2026-03-01",
            "end": "2026-03-31T23:59:59+01:00",
            "when": "purchase.channel == 'online' and member.attributes['city'] in ['Oslo']",
            "limits": {"per_member": {"count": 2, "period": "week"}, "budget": 100000},
            "active": False,
        },
    ],
)
def test_every_rule_kind_and_filter_is_accepted(rule: dict[str, Any]) -> None:
    assert config_errors(config_with(rule)) == []


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"id": "x", "kind": "spnd", "points": 1}, "rules[0].kind"),
        ({"id": "x", "points": 1}, "rules[0].kind"),
        ({"id": "x", "kind": "spend", "points": 1}, "rules[0].per"),
        ({"id": "x", "kind": "spend", "points": 1, "per": "0"}, "rules[0].per"),
        ({"id": "x", "kind": "spend", "points": 1.5, "per": "1"}, "rules[0].points"),
        ({"id": "x", "kind": "spend", "points": "1", "per": "1"}, "rules[0].points"),
        ({"id": "x", "kind": "spend", "points": True, "per": "1"}, "rules[0].points"),
        ({"id": "x", "kind": "spend", "points": 1, "per": "NaN"}, "rules[0].per"),
        ({"id": "x", "kind": "spend", "points": 1, "per": True}, "rules[0].per"),
        ({"id": "x", "kind": "visit", "points": 1, "colour": "red"}, "rules[0].colour"),
        ({"id": "x", "kind": "item", "points": 1}, "rules[0].skus"),
        ({"id": "x", "kind": "item", "points": 1, "skus": []}, "rules[0].skus"),
        ({"id": "x", "kind": "item", "points": 1, "skus": ["A", "A"]}, "rules[0].skus"),
        ({"id": "x", "kind": "multiplier", "factor": "0"}, "rules[0].factor"),
        ({"id": "x", "kind": "multiplier", "factor": "101"}, "rules[0].factor"),
        ({"id": "x", "kind": "cashback", "percent": "2"}, "rules[0].wallet"),
        ({"id": "x", "kind": "cashback", "wallet": "points", "percent": "2"}, "rules[0].wallet"),
        ({"id": "x", "kind": "cashback", "wallet": "credit", "percent": "120"}, "rules[0].percent"),
        ({"id": "x", "kind": "visit", "points": 1, "wallet": "credit"}, "rules[0].wallet"),
        ({"id": "x", "kind": "visit", "points": 1, "wallet": "miles"}, "rules[0].wallet"),
        ({"id": "x", "kind": "event", "points": 1}, "rules[0].event"),
        ({"id": "x", "kind": "event", "event": "Bad Type", "points": 1}, "rules[0].event"),
        (
            {"id": "x", "kind": "event", "event": "review", "points": 1, "min_spend": "5"},
            "rules[0].min_spend",
        ),
        (
            {"id": "x", "kind": "visit", "points": 1, "days_of_week": ["funday"]},
            "rules[0].days_of_week[0]",
        ),
        (
            {"id": "x", "kind": "visit", "points": 1, "days_of_week": ["mon", "mon"]},
            "rules[0].days_of_week",
        ),
        (
            {"id": "x", "kind": "visit", "points": 1, "start": "2026-05-01", "end": "2026-04-01"},
            "rules[0].end",
        ),
        ({"id": "x", "kind": "visit", "points": 1, "start": "soon"}, "rules[0].start"),
        ({"id": "x", "kind": "visit", "points": 1, "min_spend": "-1"}, "rules[0].min_spend"),
        (
            {"id": "x", "kind": "visit", "points": 1, "first_purchase": "yes"},
            "rules[0].first_purchase",
        ),
        ({"id": "x", "kind": "visit", "points": 1, "tiers": ["gold"]}, "rules[0].tiers"),
        ({"id": "x", "kind": "visit", "points": 1, "when": "__import__('os')"}, "rules[0].when"),
        ({"id": "x", "kind": "visit", "points": 1, "when": "purchase.__class__"}, "rules[0].when"),
        ({"id": "x", "kind": "visit", "points": 1, "when": "price > 1"}, "rules[0].when"),
        ({"id": "x", "kind": "visit", "points": 1, "when": "purchase.total >"}, "rules[0].when"),
        (
            {
                "id": "x",
                "kind": "visit",
                "points": 1,
                "limits": {"per_member": {"count": 0, "period": "day"}},
            },
            "rules[0].limits.per_member.count",
        ),
        (
            {
                "id": "x",
                "kind": "visit",
                "points": 1,
                "limits": {"per_member": {"count": 1, "period": "decade"}},
            },
            "rules[0].limits.per_member.period",
        ),
        (
            {"id": "x", "kind": "visit", "points": 1, "limits": {"budget": -5}},
            "rules[0].limits.budget",
        ),
        ({"id": "bad id!", "kind": "visit", "points": 1}, "rules[0].id"),
        ("not a rule", "rules[0]"),
    ],
)
def test_bad_rules_are_refused_at_their_path(rule: Any, path: str) -> None:
    document = config_with(rule)
    assert path in paths(document)
    with pytest.raises(ValidationFailed):
        parse_config(document)


def test_multiplier_references_must_name_purchase_rules() -> None:
    base = {"id": "base", "kind": "spend", "points": 1, "per": "1"}
    signup = {"id": "signup", "kind": "event", "event": "enrolled", "points": 5}
    good = {"id": "x2", "kind": "multiplier", "factor": "2", "applies_to": ["base"]}
    assert config_errors(config_with(base, signup, good)) == []
    for target in (["nope"], ["signup"], ["x2"]):
        bad = {**good, "applies_to": target}
        assert "rules[2].applies_to" in paths(config_with(base, signup, bad))


def test_a_reference_to_a_rule_with_its_own_error_is_not_reported_twice() -> None:
    broken_base = {"id": "base", "kind": "spend", "points": 1, "per": "zero"}
    multiplier = {"id": "x2", "kind": "multiplier", "factor": "2", "applies_to": ["base"]}
    assert paths(config_with(broken_base, multiplier)) == {"rules[0].per"}


def test_rule_ids_are_unique() -> None:
    rule = {"id": "same", "kind": "visit", "points": 1}
    assert paths(config_with(rule, rule)) == {"rules[1].id"}


@pytest.mark.parametrize(
    ("wallets", "path"),
    [
        ({}, "wallets.points"),
        ({"credit": {"kind": "money"}}, "wallets.points"),
        ({"points": {"kind": "money"}}, "wallets.points.kind"),
        ({"points": {"kind": "gold"}}, "wallets.points.kind"),
        ({"points": {"expiry": {"mode": "after_earn"}}}, "wallets.points.expiry.months"),
        (
            {"points": {"expiry": {"mode": "after_earn", "months": 0}}},
            "wallets.points.expiry.months",
        ),
        (
            {"points": {"expiry": {"mode": "after_earn", "months": 6, "round": "weekly"}}},
            "wallets.points.expiry.round",
        ),
        ({"points": {"expiry": {"mode": "sometimes"}}}, "wallets.points.expiry.mode"),
        ({"points": {"pending_days": -1}}, "wallets.points.pending_days"),
        ({"points": {"reminder_days": [7]}}, "wallets.points"),
        ({"points": {}, "Bad Code": {}}, "wallets.Bad Code"),
    ],
)
def test_bad_wallets_are_refused(wallets: dict[str, Any], path: str) -> None:
    assert path in paths({"wallets": wallets})


def test_wallet_policies_are_accepted() -> None:
    document = {
        "wallets": {
            "points": {"expiry": {"mode": "inactivity", "months": 18}, "reminder_days": [7, 30]},
            "credit": {"kind": "money", "expiry": {"mode": "after_earn", "months": 3}},
        }
    }
    config = parse_config(document)
    assert config.wallets["points"].reminder_days == [30, 7]
    assert config.wallets["credit"].is_money


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"metric": "visits"}, "tiers.metric"),
        ({"period": "fortnight"}, "tiers.period"),
        ({"downgrade": "sometimes"}, "tiers.downgrade"),
        ({"levels": []}, "tiers.levels"),
    ],
)
def test_bad_tier_settings_are_refused(change: dict[str, Any], path: str) -> None:
    document = copy.deepcopy(EXAMPLE_CONFIG)
    document["tiers"].update(change)
    assert path in paths(document)


def test_the_tier_ladder_is_checked_level_by_level() -> None:
    document = copy.deepcopy(EXAMPLE_CONFIG)
    levels = document["tiers"]["levels"]
    levels[0]["threshold"] = "10"
    levels[2]["threshold"] = "200"
    levels[2]["code"] = "vib"
    levels[1]["benefits"] = {"multiplier": "0.5"}
    assert {
        "tiers.levels[0].threshold",
        "tiers.levels[2].threshold",
        "tiers.levels[2].code",
        "tiers.levels[1].benefits.multiplier",
    } <= paths(document)


def test_count_metrics_need_whole_thresholds() -> None:
    document = copy.deepcopy(EXAMPLE_CONFIG)
    document["tiers"]["metric"] = "purchases"
    document["tiers"]["levels"][1]["threshold"] = "3.5"
    assert paths(document) == {"tiers.levels[1].threshold"}


def test_rule_tier_filters_must_name_existing_tiers() -> None:
    document = copy.deepcopy(EXAMPLE_CONFIG)
    document["rules"][0]["tiers"] = ["vib", "platinum"]
    errors = config_errors(document)
    assert [(e.path, e.message) for e in errors] == [
        ("rules[0].tiers", "unknown tier(s): platinum")
    ]


def test_referral_settings_are_checked() -> None:
    document = copy.deepcopy(EXAMPLE_CONFIG)
    document["referrals"]["referee"]["wallet"] = "credit"
    document["referrals"]["qualifying_min_spend"] = "-1"
    document["referrals"]["max_per_referrer"]["period"] = "forever"
    assert {
        "referrals.referee.wallet",
        "referrals.qualifying_min_spend",
        "referrals.max_per_referrer.period",
    } <= paths(document)


@pytest.mark.parametrize("document", [None, [], "config", 3])
def test_a_document_that_is_not_an_object_is_refused(document: object) -> None:
    assert paths(document) == {""}


def test_every_error_of_a_broken_example_is_reported_at_once() -> None:
    broken = copy.deepcopy(EXAMPLE_CONFIG)
    broken["rules"][4]["applies_to"] = ["nope"]
    broken["rules"][7]["wallet"] = "cash"
    broken["tiers"]["levels"][1]["threshold"] = "-5"
    broken["wallets"]["points"]["expiry"]["mode"] = "x"
    broken["surprise"] = True
    with pytest.raises(ValidationFailed) as raised:
        parse_config(broken)
    assert {e.path for e in raised.value.errors} == {
        "rules[4].applies_to",
        "rules[7].wallet",
        "tiers.levels[1].threshold",
        "wallets.points.expiry.mode",
        "surprise",
    }


@pytest.mark.parametrize(
    "source",
    [
        "purchase.total >= 100",
        "not member.attributes['vip']",
        "purchase.channel in ('store', 'app') or -purchase.tax < 0",
        "member.purchase_count % 10 == 0",
    ],
)
def test_safe_expressions_are_accepted(source: str) -> None:
    assert check_expression(source) is None


@pytest.mark.parametrize(
    "source",
    [
        "open('x')",
        "[x for x in purchase.lines]",
        "lambda: 1",
        "purchase.lines[purchase.index]",
        "member._secret",
        "(yield)",
        "a := 1",
    ],
)
def test_unsafe_expressions_are_refused(source: str) -> None:
    assert check_expression(source) is not None


@given(
    points=st.integers(min_value=1, max_value=10_000),
    per=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1000), places=2),
    pending=st.integers(min_value=0, max_value=365),
)
def test_canonical_documents_parse_back_to_the_same_configuration(
    points: int, per: Decimal, pending: int
) -> None:
    document = {
        "wallets": {"points": {"pending_days": pending}},
        "rules": [{"id": "base", "kind": "spend", "points": points, "per": str(per)}],
    }
    config = parse_config(document)
    assert parse_config(config.to_document()) == config
