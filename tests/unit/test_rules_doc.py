"""Every ``json example`` block of docs/rules.md runs through the engine and must hold."""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from patron.domain.config import parse_config
from patron.domain.money import from_minor
from patron.domain.rules import Line, MemberState, Payment, Purchase, evaluate_purchase

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
EXAMPLES = [
    json.loads(block)
    for block in re.findall(r"```json example\n(.*?)```", DOC.read_text(), flags=re.S)
]


def test_the_reference_has_examples() -> None:
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["title"] for e in EXAMPLES])
def test_documented_example(example: dict[str, Any]) -> None:
    document: dict[str, Any] = {
        "wallets": {"points": {}, "credit": {"kind": "money"}},
        "rules": example["rules"],
    }
    for section in ("tiers", "earning"):
        if section in example:
            document[section] = example[section]
    member = example.get("member", {})
    state = MemberState(
        member_id="m",
        tier_code=member.get("tier"),
        purchases_before=member.get("purchases_before", 1),
        attributes=member.get("attributes", {}),
        budget_used=member.get("budget_used", {}),
    )
    given = example["purchase"]
    purchase = Purchase(
        external_id="DOC",
        occurred_at=datetime.fromisoformat(given.get("occurred_at", "2026-03-05T10:00:00+00:00")),
        lines=tuple(
            Line(
                line["sku"],
                line["quantity"],
                Decimal(line["unit_price"]),
                Decimal(line.get("discount", "0")),
                line.get("category"),
            )
            for line in given["lines"]
        ),
        channel=given.get("channel"),
        payments=tuple(
            Payment(p["method"], Decimal(p["amount"]), p.get("card_type"))
            for p in given.get("payments", [])
        ),
    )
    result = evaluate_purchase(
        parse_config(document),
        state,
        purchase,
        timezone=example.get("timezone", "Europe/Paris"),
        exponent=2,
    )
    got = {a.rule_id: from_minor(a.amount, 2) if a.money else a.amount for a in result.awards}
    assert got == example["awards"]
