"""What the OpenAPI document says beyond the routes' code: a summary for every operation, the
example bodies of API.md for the requests, and money limits in standard JSON Schema keywords.

Kept in one table here, keyed by ``"METHOD path"``, rather than spread over the route decorators.
An operation without an entry takes the first sentence of its route's docstring;
``tests/api/test_openapi_docs.py`` checks that every operation ends up with a real summary and
that every example is valid against its schema and accepted by the API.

Money (a ``Decimal`` field: a decimal string, or a JSON number) comes out of Pydantic as
``anyOf [number, string]`` with its bounds in Pydantic's own words (``ge``, ``lt``), which no
JSON Schema tool reads; :func:`_money` moves them into the number branch as ``minimum`` /
``exclusiveMaximum`` and gives the string branch its ``pattern``. The wallet amounts that are
points or money depending on the wallet get their bounds from :data:`AMOUNTS`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from patron.schemas.purchases import MAX_MONEY
from patron.services.demo import EXAMPLE_CONFIG
from patron.services.ledger import MAX_AMOUNT

SUMMARIES: dict[str, str] = {
    "GET /healthz": "Check that the server and its database are ready",
    "POST /v1/programs": "Create a program (platform key)",
    "GET /v1/programs": "List the programs (platform key)",
    "GET /v1/programs/{program}": "Read a program",
    "GET /v1/programs/{program}/config": "Read the live configuration",
    "PUT /v1/programs/{program}/config": "Replace the configuration (a new version)",
    "POST /v1/programs/{program}/config/validate": "Check a configuration without saving it",
    "POST /v1/programs/{program}/api-keys": "Create an API key for the program",
    "GET /v1/programs/{program}/api-keys": "List the program's API keys",
    "DELETE /v1/programs/{program}/api-keys/{key_id}": "Revoke an API key for good",
    "POST /v1/programs/{program}/members": "Enrol a member",
    "GET /v1/programs/{program}/members": "List members or look one up by identifier",
    "GET /v1/programs/{program}/members/{member}": "Read a member with balances and tier",
    "PATCH /v1/programs/{program}/members/{member}": "Update a member's profile or status",
    "GET /v1/programs/{program}/members/{member}/export": "Export everything held about a member",
    "POST /v1/programs/{program}/members/{member}/erase": "Erase a member's personal data",
    "POST /v1/programs/{program}/members/{member}/portal-link": "Mint a portal sign-in link",
    "GET /v1/programs/{program}/members/{member}/activity": "List a member's ledger entries",
    "GET /v1/programs/{program}/members/{member}/card.svg": "Draw a member's card (SVG)",
    "GET /v1/programs/{program}/members/{member}/card.pkpass": "Get a member's Apple Wallet pass",
    "GET /v1/programs/{program}/members/{member}/card/google": "Get an Add to Google Wallet link",
    "GET /v1/programs/{program}/wallet": "Read the wallet pass settings (no secrets)",
    "PUT /v1/programs/{program}/wallet": "Configure Apple and Google wallet passes",
    "POST /v1/programs/{program}/members/{member}/adjustments": "Adjust a balance by hand",
    "POST /v1/programs/{program}/members/{member}/transfers": "Transfer points to another member",
    "POST /v1/programs/{program}/purchases": "Record a purchase and award points",
    "POST /v1/programs/{program}/purchases/preview": "Preview what a purchase would earn",
    "GET /v1/programs/{program}/purchases/{external_id}": "Read a purchase with its refunds",
    "POST /v1/programs/{program}/purchases/{external_id}/refunds": "Refund (part of) a purchase",
    "POST /v1/programs/{program}/purchases/{external_id}/claim": "Attach an anonymous purchase",
    "POST /v1/programs/{program}/events": "Record an activity event",
    "GET /v1/programs/{program}/members/{member}/tier": "Read a member's tier and progress",
    "POST /v1/programs/{program}/members/{member}/tier": "Override or grant a member's tier",
    "POST /v1/programs/{program}/rewards": "Add a reward to the catalogue",
    "GET /v1/programs/{program}/rewards": "List the reward catalogue",
    "PATCH /v1/programs/{program}/rewards/{code}": "Change a reward",
    "POST /v1/programs/{program}/members/{member}/redemptions": "Redeem a reward or spend",
    "POST /v1/programs/{program}/redemptions/{redemption_id}/cancel": "Cancel a redemption",
    "GET /v1/programs/{program}/vouchers/{code}": "Look a voucher up by its code",
    "POST /v1/programs/{program}/vouchers/{code}/use": "Use a voucher at checkout",
    "GET /v1/programs/{program}/members/{member}/referrals": "List the friends a member referred",
    "POST /v1/programs/{program}/segments": "Define a segment of members",
    "GET /v1/programs/{program}/segments/{code}/members": "List the members of a segment",
    "POST /v1/programs/{program}/grants": "Grant points or credit to many members",
    "GET /v1/programs/{program}/grants/{external_id}": "Follow a bulk grant's progress",
    "POST /v1/programs/{program}/campaigns": "Create a campaign",
    "PATCH /v1/programs/{program}/campaigns/{code}": "Change or cancel a campaign",
    "GET /v1/programs/{program}/campaigns/{code}": "Read a campaign and its results",
    "POST /v1/programs/{program}/webhooks": "Add a webhook endpoint",
    "GET /v1/programs/{program}/webhooks": "List webhook endpoints",
    "GET /v1/programs/{program}/webhooks/{endpoint}": "Read a webhook endpoint",
    "PATCH /v1/programs/{program}/webhooks/{endpoint}": "Change or disable a webhook endpoint",
    "POST /v1/programs/{program}/webhooks/{endpoint}/rotate-secret": "Rotate a webhook secret",
    "GET /v1/programs/{program}/webhooks/{endpoint}/deliveries": "List an endpoint's deliveries",
    "POST /v1/programs/{program}/webhooks/{endpoint}/deliveries/{delivery}/retry": (
        "Send a failed delivery again"
    ),
    "GET /v1/programs/{program}/analytics/summary": "Read the program's analytics summary",
    "GET /v1/programs/{program}/analytics/series": "Read the program's figures over time buckets",
    "GET /v1/programs/{program}/audit-log": "Read the audit log",
    "GET /v1/programs/{program}/message-templates": "List the message templates",
    "PUT /v1/programs/{program}/message-templates/{event}/{channel}": "Save a message template",
    "POST /v1/programs/{program}/message-templates/{event}/{channel}/preview": (
        "Preview a message template"
    ),
    "POST /v1/programs/{program}/message-templates/{event}/{channel}/test": ("Send a test message"),
    "GET /v1/programs/{program}/members/{member}/messages": "Read a member's message log",
    "POST /v1/programs/{program}/members/{member}/messages/{message}/resend": (
        "Resend a message to a member"
    ),
}

# --- example bodies (API.md) ------------------------------------------------------------------

PURCHASE: dict[str, Any] = {
    "external_id": "R-1001",
    "member": {"external_id": "C-1"},
    "occurred_at": "2026-03-07T10:00:00Z",
    "channel": "store",
    "store_id": "S1",
    "lines": [
        {
            "sku": "LIP-01",
            "name": "Lipstick",
            "category": "makeup",
            "quantity": 2,
            "unit_price": "12.00",
            "discount": "0.00",
        }
    ],
    "tax": "2.10",
    "shipping": "0.00",
    "payments": [{"method": "card", "card_type": "cobrand", "amount": "26.10"}],
}
MEMBER: dict[str, Any] = {
    "external_id": "C-1",
    "email": "a@example.com",
    "first_name": "Ada",
    "last_name": "L",
    "birth_date": "1990-05-04",
    "attributes": {},
    "consents": {"email_marketing": True, "sms_marketing": False},
}
PROGRAM: dict[str, Any] = {
    "slug": "beauty",
    "name": "Beauty Club",
    "currency": "EUR",
    "timezone": "Europe/Paris",
    "country": "FR",
    "config": EXAMPLE_CONFIG,
}
REWARD: dict[str, Any] = {
    "code": "ten-off",
    "name": "10.00 off",
    "cost": {"wallet": "points", "amount": 500},
    "kind": "amount_off",
    "value": "10.00",
    "tiers": ["vib", "rouge"],
    "voucher_valid_days": 90,
}
SEGMENT: dict[str, Any] = {
    "code": "lapsed-vips",
    "name": "VIPs who have not bought for 90 days",
    "filter": {"tiers": ["vib", "rouge"], "min_days_since_last_purchase": 90},
}
CAMPAIGN: dict[str, Any] = {
    "code": "spring-double",
    "name": "Double points in spring",
    "start": "2026-03-20T00:00:00Z",
    "end": "2026-04-20T00:00:00Z",
    "audience": {"tiers": ["vib", "rouge"]},
    "rules": [{"id": "spring", "kind": "multiplier", "factor": "2", "applies_to": ["base"]}],
    "budget": 100000,
}

P = "/v1/programs/{program}"
Examples = dict[str, dict[str, Any]]


def _one(value: Any, summary: str | None = None) -> Examples:
    return {"example": {"summary": summary or "API.md's example", "value": value}}


EXAMPLES: dict[str, Examples] = {
    "POST /v1/programs": _one(PROGRAM, "a program with API.md's configuration document"),
    f"PUT {P}/config": _one(EXAMPLE_CONFIG, "API.md's configuration document"),
    f"POST {P}/config/validate": _one(EXAMPLE_CONFIG, "API.md's configuration document"),
    f"POST {P}/api-keys": _one({"name": "till 1, Lyon store", "role": "pos"}),
    f"POST {P}/members": _one(MEMBER, "a member as in API.md"),
    f"PATCH {P}/members/{{member}}": {
        "profile": {"summary": "profile fields", "value": {"first_name": "Ada", "phone": None}},
        "consent": {
            "summary": "a consent, with when and where it was given",
            "value": {
                "consents": {
                    "sms_marketing": {
                        "granted": True,
                        "at": "2026-03-01T09:00:00Z",
                        "source": "pos",
                    }
                }
            },
        },
        "freeze": {"summary": "freeze the member (admin)", "value": {"status": "frozen"}},
    },
    f"POST {P}/members/{{member}}/adjustments": {
        "points": {
            "summary": "points (signed)",
            "value": {"wallet": "points", "amount": 100, "reason": "goodwill: late delivery"},
        },
        "money": {
            "summary": "store credit (a decimal string)",
            "value": {"wallet": "credit", "amount": "-3.50", "reason": "correction"},
        },
    },
    f"POST {P}/members/{{member}}/transfers": _one(
        {"to": "01J0000000000000000000000B", "wallet": "points", "amount": 250, "reason": "gift"}
    ),
    f"POST {P}/purchases": _one(PURCHASE, "API.md's purchase"),
    f"POST {P}/purchases/preview": _one(PURCHASE, "API.md's purchase"),
    f"POST {P}/purchases/{{external_id}}/refunds": {
        "lines": {
            "summary": "return one item",
            "value": {"external_id": "RF-1", "lines": [{"sku": "LIP-01", "quantity": 1}]},
        },
        "amount": {
            "summary": "refund an amount",
            "value": {
                "external_id": "RF-2",
                "occurred_at": "2026-03-09T15:00:00Z",
                "amount": "5.00",
            },
        },
    },
    f"POST {P}/purchases/{{external_id}}/claim": _one({"member": {"external_id": "C-1"}}),
    f"POST {P}/events": _one(
        {
            "external_id": "EV-1",
            "member": {"external_id": "C-1"},
            "type": "review_posted",
            "occurred_at": "2026-03-07T10:00:00Z",
            "attributes": {"product": "LIP-01"},
        }
    ),
    f"POST {P}/members/{{member}}/tier": {
        "override": {
            "summary": "an override until a date",
            "value": {"code": "rouge", "until": "2026-12-31T23:00:00Z", "reason": "VIP guest"},
        },
        "paid": {
            "summary": "a paid tier",
            "value": {"code": "vib", "reason": "yearly VIB membership", "paid": True},
        },
    },
    f"POST {P}/rewards": _one(REWARD, "a voucher for 10.00 off, for VIB and Rouge members"),
    f"PATCH {P}/rewards/{{code}}": _one({"stock": 250, "active": True}),
    f"POST {P}/members/{{member}}/redemptions": {
        "reward": {"summary": "redeem a reward", "value": {"reward": "ten-off"}},
        "spend": {
            "summary": "spend store credit at checkout",
            "value": {"wallet": "credit", "amount": "3.50"},
        },
    },
    f"POST {P}/vouchers/{{code}}/use": _one({"purchase_external_id": "R-1001"}),
    f"POST {P}/segments": _one(SEGMENT),
    f"POST {P}/campaigns": _one(CAMPAIGN),
    f"PATCH {P}/campaigns/{{code}}": _one({"status": "cancelled"}, "cancel the campaign"),
    f"POST {P}/grants": {
        "segment": {
            "summary": "to a segment",
            "value": {
                "external_id": "G-2026-03",
                "wallet": "points",
                "amount": 200,
                "reason": "sorry for the outage",
                "segment": "lapsed-vips",
            },
        },
        "members": {
            "summary": "to listed members",
            "value": {
                "external_id": "G-2026-04",
                "wallet": "credit",
                "amount": "5.00",
                "reason": "store reopening",
                "members": ["01J0000000000000000000000A"],
            },
        },
    },
    f"POST {P}/webhooks": _one(
        {
            "url": "https://shop.example.com/hooks/patron",
            "events": ["points.earned", "tier.changed"],
            "description": "CRM sync",
        }
    ),
    f"PATCH {P}/webhooks/{{endpoint}}": _one({"status": "disabled"}, "pause deliveries"),
    f"POST {P}/webhooks/{{endpoint}}/rotate-secret": _one({"overlap_hours": 24}),
}

# --- money ------------------------------------------------------------------------------------

MONEY_PATTERN = rf"^\d{{1,{len(str(MAX_MONEY)) - 1}}}(\.\d+)?$"
"""A money string below MAX_MONEY (a power of ten): at most that many digits before the point."""
SIGNED_PATTERN = r"^-?\d+(\.\d+)?$"
UNSIGNED_PATTERN = r"^\d+(\.\d+)?$"
MONEY_NOTE = (
    'Money: a decimal string in the program\'s currency, e.g. "19.99" (a JSON number is '
    "accepted), below {max:,} and with no more decimals than the currency has."
)


def _amount(signed: bool) -> dict[str, Any]:
    low = -MAX_AMOUNT if signed else 1
    return {
        "anyOf": [
            {"type": "integer", "minimum": low, "maximum": MAX_AMOUNT},
            {"type": "string", "pattern": SIGNED_PATTERN if signed else UNSIGNED_PATTERN},
            {"type": "number", "minimum": low, "maximum": MAX_AMOUNT},
        ],
        "description": (
            "Points as an integer, or money as a decimal string in the program's currency "
            '(e.g. "3.50"), by the wallet\'s kind; '
            + ("signed, not zero" if signed else "more than zero")
            + f"; at most {MAX_AMOUNT:,} points or minor units of money."
        ),
        "x-maximum-minor-units": MAX_AMOUNT,
    }


AMOUNTS: dict[tuple[str, str], Callable[[], dict[str, Any]]] = {
    ("AdjustmentIn", "amount"): lambda: _amount(signed=True),
    ("GrantIn", "amount"): lambda: _amount(signed=False),
    ("CostIn", "amount"): lambda: _amount(signed=False),
    ("RedemptionIn", "amount"): lambda: _amount(signed=False),
    ("RewardPatch", "cost_amount"): lambda: _amount(signed=False),
}
_BOUNDS = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum", "lt": "exclusiveMaximum"}


def _money(node: Any) -> None:
    """Rewrite every money schema below ``node`` in standard keywords (in place)."""
    if isinstance(node, list):
        for item in node:
            _money(item)
        return
    if not isinstance(node, dict):
        return
    branches: list[dict[str, Any]] = node.get("anyOf") or []
    kinds = [str(b.get("type")) for b in branches]
    if sorted(kinds) == ["number", "string"] and any(k in node for k in _BOUNDS):
        number = next(b for b in branches if b.get("type") == "number")
        text = next(b for b in branches if b.get("type") == "string")
        for ours, standard in _BOUNDS.items():
            if ours in node:
                number[standard] = node.pop(ours)
        if "exclusiveMinimum" in number:
            number.pop("minimum", None)
        text["pattern"] = MONEY_PATTERN
        text.setdefault("examples", ["19.99"])
        node.setdefault("description", MONEY_NOTE.format(max=MAX_MONEY))
        return
    for value in node.values():
        _money(value)


# --- applying it ------------------------------------------------------------------------------


def _fallback(operation: dict[str, Any]) -> str | None:
    text = " ".join(str(operation.get("description", "")).split())
    first = text.split(". ")[0].rstrip(".").replace("``", "")
    return first if len(first.split()) > 1 and len(first) <= 90 else None


def annotate(doc: dict[str, Any]) -> None:
    """Add the summaries, examples and money keywords to an OpenAPI document (in place)."""
    schemas = doc.get("components", {}).get("schemas", {})
    _money(schemas)
    for (model, field), shape in AMOUNTS.items():
        properties = schemas.get(model, {}).get("properties", {})
        if field in properties:
            nullable = "null" in str(properties[field].get("anyOf", ""))
            schema = shape()
            if nullable:
                schema["anyOf"].append({"type": "null"})
            properties[field] = {"title": properties[field].get("title", field), **schema}
    for path, operations in doc.get("paths", {}).items():
        for method, operation in operations.items():
            key = f"{method.upper()} {path}"
            summary = SUMMARIES.get(key) or _fallback(operation)
            if summary:
                operation["summary"] = summary
            examples = EXAMPLES.get(key)
            content = operation.get("requestBody", {}).get("content", {})
            if examples and "application/json" in content:
                content["application/json"]["examples"] = copy.deepcopy(examples)


def document(app: FastAPI) -> None:
    """Apply :func:`annotate` to ``app``'s OpenAPI document when it is first built."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            annotate(build())
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
