"""Refunded spend lowers the tier metric, whatever the metric."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from patron.bootstrap import Container
from patron.domain.config import parse_config
from patron.services import ledger, refunds
from patron.services.tier_metric import metric, window
from patron.services.transactions import run_read
from tests.factories import MutableClock, record_purchase
from tests.ledger_support import in_ledger, new_member, new_program
from tests.support_example import EXAMPLE_CONFIG

AT = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)


def config(metric_name: str) -> dict[str, Any]:
    document = copy.deepcopy(EXAMPLE_CONFIG)
    document["tiers"]["metric"] = metric_name
    return document


def give_back(
    container: Container, program: Any, purchase: str, refund_id: str, **body: Any
) -> None:
    in_ledger(
        container,
        program,
        lambda c: refunds.refund(
            c, purchase, external_id=refund_id, document=body, fingerprint=refund_id
        ),
    )


def measure(
    container: Container, program: Any, document: dict[str, Any], member: str, now: datetime
) -> Decimal:
    tiers = parse_config(document).tiers
    assert tiers is not None
    return run_read(container.uow, lambda uow: metric(uow, program, tiers, member, now))


@pytest.mark.parametrize(
    ("metric_name", "expected"),
    [
        # spend: 100 + 50, then 30 of the first refunded and all of the second
        ("spend", [Decimal("150.00"), Decimal("120.00"), Decimal("70.00")]),
        ("purchases", [Decimal(2), Decimal(2), Decimal(1)]),
        # points: 1 per 1.00 + visit 10 each + welcome 100 on the first (a 50-point earn before them
        # counts too), net of the clawbacks
        (
            "points_earned",
            [Decimal(50 + 110 + 100 + 60), Decimal(50 + 80 + 100 + 60), Decimal(50 + 80 + 100)],
        ),
    ],
)
def test_refunds_lower_the_metric(
    container: Container, clock: MutableClock, metric_name: str, expected: list[Decimal]
) -> None:
    document = config(metric_name)
    program = new_program(container, slug=f"t-{metric_name.replace('_', '-')}", config=document)
    member = new_member(container, program)
    in_ledger(
        container, program, lambda c: ledger.earn(c, member, wallet="points", amount=50, hold=False)
    )
    record_purchase(container, program, member=member, external_id="P-1", amount="100.00", at=AT)
    record_purchase(container, program, member=member, external_id="P-2", amount="50.00", at=AT)
    now = clock.now()
    assert measure(container, program, document, member, now) == expected[0]
    give_back(container, program, "P-1", "F-1", amount="30.00")
    assert measure(container, program, document, member, now) == expected[1]
    give_back(container, program, "P-2", "F-2")
    assert measure(container, program, document, member, now) == expected[2]


def test_windows_follow_the_program_time_zone() -> None:
    tiers = parse_config(EXAMPLE_CONFIG).tiers
    assert tiers is not None
    start, end = window(tiers, datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "Europe/Paris")
    assert start is not None
    assert end is not None
    assert start.year == 2027  # 00:30 on 1 January in Paris
    assert end.year == 2028
