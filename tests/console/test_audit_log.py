"""The console's audit log: staff, API keys and jobs side by side; filters; paging; masking."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.console.routes import audit as audit_page
from patron.domain.audit import SYSTEM
from patron.services import audit
from patron.services.transactions import run_in_transaction
from tests.console.conftest import form_token
from tests.factories import auth, enrol

LOG = "/console/programs/shop/audit"


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1] if "<tbody>" in html else ""
    return re.findall(r"<code class=\"small\">([a-z_.]+)</code>", body)


def _job_record(container: Container, program_id: str) -> None:
    """What a scheduled job run writes (``jobs._audit_run``), in the program."""
    run_in_transaction(
        container.uow.scoped(program_id),
        lambda uow: audit.record(
            uow,
            program_id=program_id,
            actor=SYSTEM,
            action="jobs.ran",
            target=("program", program_id),
            at=container.clock.now(),
            after={"expire": 2},
        ),
    )


@pytest.fixture
def history(web: TestClient, container: Container, shop: dict[str, str], as_role: Any) -> Any:
    """An API key's enrolment, then an owner's invitation in the console, then a job run."""
    member = enrol(web, shop["admin"], program="shop", external_id="a-1", email="ada@example.com")
    owner = as_role("owner")
    page = owner.get("/console/programs/shop/staff")
    invited = owner.post(
        "/console/programs/shop/staff",
        data={"email": "new@staff.example", "role": "viewer", "token": form_token(page.text)},
        follow_redirects=False,
    )
    assert invited.status_code == 303
    _job_record(container, shop["id"])
    return {"owner": owner, "member": member}


def test_staff_api_keys_and_jobs_appear_with_their_actor(
    web: TestClient, shop: dict[str, str], history: Any
) -> None:
    owner = history["owner"]
    page = owner.get(LOG)
    assert page.status_code == 200
    assert "<h1>Audit log</h1>" in page.text
    actions = _rows(page.text)
    assert actions[:3] == ["jobs.ran", "staff.role_granted", "staff.created"]  # newest first
    assert "member.enrolled" in actions
    text = page.text
    assert "owner0@staff.example" in text  # the staff user is the actor of its console action
    assert "API key" in text
    assert "Job (system)" in text
    api = web.get(
        "/v1/programs/shop/audit-log",
        params={"action": "member.enrolled"},
        headers=auth(shop["admin"]),
    )
    key_name = api.json()["items"][0]["actor"]["name"]
    assert key_name in text
    assert f'href="/console/programs/shop/members/{history["member"]["id"]}"' in text
    assert "Gave a staff user a role" in text  # the action in plain words
    assert "<details>" in text


def test_filters_by_actor_action_target_and_period(
    shop: dict[str, str], history: Any, container: Container
) -> None:
    owner = history["owner"]
    staff_only = _rows(owner.get(LOG, params={"actor_kind": "user"}).text)
    assert staff_only
    assert set(staff_only) <= {"staff.created", "staff.role_granted"}
    by_email = _rows(owner.get(LOG, params={"actor": "OWNER0@staff.example"}).text)
    assert set(by_email) == {"staff.created", "staff.role_granted"}
    assert _rows(owner.get(LOG, params={"actor_kind": "system"}).text) == ["jobs.ran"]
    assert _rows(owner.get(LOG, params={"action": "member."}).text) == ["member.enrolled"]
    member = history["member"]["id"]
    target = owner.get(LOG, params={"target_type": "member", "target_id": member})
    assert _rows(target.text) == ["member.enrolled"]
    today = container.clock.now().date()
    assert _rows(owner.get(LOG, params={"from": today.isoformat()}).text)
    past = owner.get(LOG, params={"from": "2001-01-01", "to": "2001-01-31"})
    assert _rows(past.text) == []
    assert "No records match these filters" in past.text
    nothing = owner.get(LOG, params={"action": "nothing."})
    assert "No records match" in nothing.text


def test_bad_filter_values_are_shown_at_their_fields(history: Any) -> None:
    owner = history["owner"]
    wrong = owner.get(LOG, params={"from": "31/03/2027"})
    assert wrong.status_code == 422
    assert "a date like 2027-03-31" in wrong.text
    backwards = owner.get(LOG, params={"from": "2027-03-31", "to": "2027-03-01"})
    assert backwards.status_code == 422
    assert "the last day comes on or after the first" in backwards.text


def test_pages_by_keyset(monkeypatch: pytest.MonkeyPatch, history: Any) -> None:
    monkeypatch.setattr(audit_page, "PAGE_SIZE", 2)
    owner = history["owner"]
    first = owner.get(LOG)
    assert _rows(first.text) == ["jobs.ran", "staff.role_granted"]
    older = re.search(r'href="([^"]+)">Older records', first.text)
    assert older
    second = owner.get(older.group(1).replace("&amp;", "&"))
    assert _rows(second.text)[0] == "staff.created"
    assert "Newest" in second.text
    filtered = owner.get(LOG, params={"actor_kind": "user"})
    link = re.search(r'href="([^"]+)">Older records', filtered.text)
    assert link is None or "actor_kind=user" in link.group(1)


def test_viewers_see_emails_masked_in_the_changes(history: Any, as_role: Any) -> None:
    member_filter = {"action": "member.enrolled"}
    owner_view = history["owner"].get(LOG, params=member_filter).text
    assert "ada@example.com" in owner_view
    viewer_view = as_role("viewer").get(LOG, params=member_filter)
    assert viewer_view.status_code == 200
    assert "ada@example.com" not in viewer_view.text
    assert "a••@e••••••.com" in viewer_view.text


def test_support_may_not_read_the_log(as_role: Any) -> None:
    assert as_role("support").get(LOG).status_code == 403
