"""Business dates (docs/api.md "Dates"): RFC 3339 strings with an offset, not before 2000, not in
the future, and not before what they depend on (a member's enrolment, a refunded purchase); the
same bounds for purchases, previews, refunds, events, enrolments and imports. A refused date is
a 422 naming the field, and nothing is written.

The clock stands at 2026-03-07T10:00:00Z; the program's ``anonymous_claim_days`` is 30.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.cli import transfer
from patron.domain.dates import TIMESTAMP_HINT
from tests.conftest import table_counts
from tests.factories import RECEIPT, auth, enrol
from tests.ledger_support import audit

ENROLLED = "2026-02-01T10:00:00Z"


@pytest.fixture
def member(client: TestClient, shop: dict[str, str]) -> str:
    return str(enrol(client, shop["pos"], program="shop", enrolled_at=ENROLLED)["id"])


def receipt(member: str | None, external_id: str = "R-1", **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(RECEIPT)
    body["external_id"] = external_id
    if member is not None:
        body["member"] = {"id": member}
    return {**body, **changes}


def refused(response: Any, path: str, kind: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert [(e["path"], e["type"]) for e in problem["errors"]] == [(path, kind)], problem


NOT_STRINGS = [1772877600, 1772877600000, 1772877600.5, "1772877600", "2026-03-07", True]


@pytest.mark.parametrize("value", NOT_STRINGS)
def test_a_timestamp_is_an_rfc3339_string_with_an_offset(
    client: TestClient, shop: dict[str, str], member: str, container: Container, value: Any
) -> None:
    before = table_counts(container)
    for path, body in (
        ("/purchases", receipt(member, occurred_at=value)),
        ("/purchases/preview", receipt(member, occurred_at=value)),
        ("/events", {"external_id": "E", "member": member, "type": "x", "occurred_at": value}),
        ("/members", {"enrolled_at": value}),
    ):
        response = client.post(f"/v1/programs/shop{path}", json=body, headers=auth(shop["pos"]))
        field = "enrolled_at" if path == "/members" else "occurred_at"
        refused(response, field, "invalid_timestamp")
    assert table_counts(container) == before


def test_dates_before_2000_are_refused_everywhere(
    client: TestClient, shop: dict[str, str], member: str, container: Container
) -> None:
    before = table_counts(container)
    old = "1900-01-01T00:00:00Z"
    key = auth(shop["pos"])
    for path, body in (
        ("/purchases", receipt(member, occurred_at=old)),
        ("/purchases", receipt(None, occurred_at=old)),
        ("/purchases/preview", receipt(None, occurred_at=old)),
        ("/events", {"external_id": "E", "member": member, "type": "x", "occurred_at": old}),
    ):
        refused(
            client.post(f"/v1/programs/shop{path}", json=body, headers=key),
            "occurred_at",
            "too_early",
        )
    enrolled = client.post("/v1/programs/shop/members", json={"enrolled_at": old}, headers=key)
    refused(enrolled, "enrolled_at", "too_early")
    assert table_counts(container) == before


def test_preview_refuses_the_future_as_recording_does(
    client: TestClient, shop: dict[str, str], member: str, container: Container
) -> None:
    before = table_counts(container)
    future = receipt(member, occurred_at="2026-03-07T10:06:00Z")  # beyond the 5 minutes of skew
    for path in ("/purchases/preview", "/purchases"):
        response = client.post(f"/v1/programs/shop{path}", json=future, headers=auth(shop["pos"]))
        refused(response, "occurred_at", "future")
    assert table_counts(container) == before
    skewed = receipt(member, occurred_at="2026-03-07T10:04:00Z")
    for path in ("/purchases/preview", "/purchases"):
        response = client.post(f"/v1/programs/shop{path}", json=skewed, headers=auth(shop["pos"]))
        assert response.status_code in (200, 201), response.text


def test_a_members_purchase_long_before_enrolment_is_refused(
    client: TestClient, shop: dict[str, str], member: str, container: Container
) -> None:
    before = table_counts(container)
    year_before = receipt(member, occurred_at="2025-02-01T10:00:00Z")
    for path in ("/purchases/preview", "/purchases"):
        response = client.post(
            f"/v1/programs/shop{path}", json=year_before, headers=auth(shop["pos"])
        )
        refused(response, "occurred_at", "before_enrolment")
        assert "enrolled" in response.json()["errors"][0]["message"]
    assert table_counts(container) == before
    # the same receipt without a member is kept (it can no longer be claimed: the window is over)
    anonymous = client.post(
        "/v1/programs/shop/purchases",
        json=receipt(None, occurred_at="2025-02-01T10:00:00Z"),
        headers=auth(shop["pos"]),
    )
    assert anonymous.status_code == 201, anonymous.text


def test_a_purchase_made_just_before_joining_earns_as_a_claim_would(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    """Paid at the till, then joined: up to ``anonymous_claim_days`` before the enrolment."""
    joined = enrol(client, shop["pos"], program="shop")["id"]  # now
    paid = receipt(joined, occurred_at="2026-03-07T09:50:00Z")
    response = client.post("/v1/programs/shop/purchases", json=paid, headers=auth(shop["pos"]))
    assert response.status_code == 201, response.text
    assert "welcome" in {a["rule_id"] for a in response.json()["awards"]}
    # the same as recording it anonymously and claiming it
    other = enrol(client, shop["pos"], program="shop")["id"]
    anonymous = receipt(None, "R-2", occurred_at="2026-03-07T09:50:00Z")
    client.post("/v1/programs/shop/purchases", json=anonymous, headers=auth(shop["pos"]))
    claimed = client.post(
        "/v1/programs/shop/purchases/R-2/claim", json={"member": other}, headers=auth(shop["pos"])
    )
    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["earned"] == response.json()["earned"]
    assert audit(container) == []


def test_an_event_before_enrolment_is_refused(
    client: TestClient, shop: dict[str, str], member: str, container: Container
) -> None:
    before = table_counts(container)
    body = {"external_id": "E", "member": member, "type": "review_posted"}
    early = client.post(
        "/v1/programs/shop/events",
        json={**body, "occurred_at": "2026-02-01T09:59:59Z"},
        headers=auth(shop["pos"]),
    )
    refused(early, "occurred_at", "before_enrolment")
    assert table_counts(container) == before
    on_time = client.post(
        "/v1/programs/shop/events",
        json={**body, "occurred_at": ENROLLED},
        headers=auth(shop["pos"]),
    )
    assert on_time.status_code == 201, on_time.text


def test_a_refund_is_dated_after_its_purchase_and_not_in_the_future(
    client: TestClient, shop: dict[str, str], member: str, container: Container
) -> None:
    bought = receipt(member, occurred_at="2026-03-05T10:00:00Z")
    assert client.post("/v1/programs/shop/purchases", json=bought, headers=auth(shop["pos"]))
    before = table_counts(container)
    for at, kind in (
        ("2026-03-05T09:59:00Z", "before_purchase"),
        ("2026-03-08T10:00:00Z", "future"),
        ("1999-12-31T23:59:59Z", "too_early"),
        (1772877600, "invalid_timestamp"),
    ):
        response = client.post(
            "/v1/programs/shop/purchases/R-1/refunds",
            json={"external_id": "F-1", "occurred_at": at},
            headers=auth(shop["pos"]),
        )
        refused(response, "occurred_at", kind)
    assert table_counts(container) == before
    done = client.post(
        "/v1/programs/shop/purchases/R-1/refunds",
        json={"external_id": "F-1", "occurred_at": "2026-03-06T10:00:00Z"},
        headers=auth(shop["pos"]),
    )
    assert done.status_code == 201, done.text
    assert audit(container) == []


def test_an_import_applies_the_same_bounds(
    container: Container, shop: dict[str, str], member: str
) -> None:
    rows = [
        {**receipt(None, "I-1"), "occurred_at": 1772877600},
        {**receipt(None, "I-2"), "occurred_at": "1900-01-01T00:00:00Z"},
        {**receipt(None, "I-3"), "occurred_at": "2030-01-01T00:00:00Z"},
        receipt(None, "I-4"),
    ]
    lines = [json.dumps(row) for row in rows]
    outcome = transfer.run_import(
        container.uow, container.clock, "shop", "purchases", "jsonl", lines
    )
    assert (outcome.imported, outcome.rejected) == (1, 3)
    assert [reason for _, _, reason in outcome.rejections] == [
        f"occurred_at: {TIMESTAMP_HINT}",
        "occurred_at: may not be before 2000-01-01T00:00:00Z",
        "occurred_at: may not be in the future",
    ]
    assert audit(container) == []
