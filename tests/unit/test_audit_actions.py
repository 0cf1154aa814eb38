"""How the API names the writes it records (``api.writes.describe``): stable action names and
targets derived from the route, so a new route is recorded sensibly before anyone names it."""

from __future__ import annotations

import pytest

from patron.api.writes import describe

P = "/v1/programs/{program}"


@pytest.mark.parametrize(
    ("method", "template", "params", "rendered", "action", "target"),
    [
        ("POST", "/v1/programs", {}, {"id": "p2"}, "program.created", ("program", "p2")),
        ("PUT", P + "/config", {}, {"version": 2}, "program.config_replaced", ("program", "p1")),
        ("POST", P + "/members", {}, {"id": "m1"}, "member.enrolled", ("member", "m1")),
        ("POST", P + "/purchases", {}, {"id": "x", "external_id": "R-1"}, "purchase.recorded",
         ("purchase", "R-1")),
        ("POST", P + "/rewards", {}, {"code": "gift"}, "reward.created", ("reward", "gift")),
        ("POST", P + "/api-keys", {}, {"id": "k1"}, "api_key.created", ("api_key", "k1")),
        ("PATCH", P + "/rewards/{code}", {"code": "gift"}, {}, "reward.updated",
         ("reward", "gift")),
        ("POST", P + "/members/{member}/adjustments", {"member": "m1"}, {"id": "e1"},
         "member.adjusted", ("member", "m1")),
        ("POST", P + "/members/{member}/erase", {"member": "m1"}, {}, "member.erased",
         ("member", "m1")),
        ("POST", P + "/members/{member}/merge", {"member": "m1"}, {}, "member.merge",
         ("member", "m1")),
        ("POST", P + "/redemptions/{redemption_id}/cancel", {"redemption_id": "r1"}, {},
         "redemption.cancelled", ("redemption", "r1")),
        ("POST", P + "/webhooks/{endpoint}/deliveries/{delivery}/retry",
         {"endpoint": "w1", "delivery": "d1"}, {}, "delivery.retried", ("delivery", "d1")),
        ("POST", P + "/webhooks/{endpoint}/rotate-secret", {"endpoint": "w1"}, {},
         "webhook.secret_rotated", ("webhook", "w1")),
        ("POST", P + "/categories", {}, {"name": "no id"}, "category.created", ("category", "-")),
    ],
)  # fmt: skip
def test_actions_and_targets_come_from_the_route(
    method: str,
    template: str,
    params: dict[str, str],
    rendered: dict[str, str],
    action: str,
    target: tuple[str, str],
) -> None:
    assert describe(method, template, params, rendered, "p1") == (action, target)
