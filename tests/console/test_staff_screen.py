"""The Staff screen: invite with a link shown once, change role and limits, sign out, remove."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.services.transactions import run_read
from tests.console.conftest import PASSWORD, form_token, make_staff, sign_in

STAFF = "/console/programs/shop/staff"
LINK = re.compile(r"http://[^<\s]+/console/set-password/([A-Za-z0-9_-]+)")


def _id(container: Container, email: str) -> str:
    found = run_read(container.uow, lambda uow: uow.staff.credentials(email))
    assert found is not None
    return str(found.user.id)


def _trail(container: Container, program_id: str, action: str) -> list[Any]:
    from patron.services.ports import AuditFilter

    return list(
        run_read(
            container.uow.scoped(program_id),
            lambda uow: uow.audit.find(
                program_id, AuditFilter(action=action), before=None, limit=50
            ),
        )
    )


def test_invite_shows_the_link_once_and_it_works(
    web: TestClient, container: Container, shop: dict[str, str], as_role: Any
) -> None:
    owner = as_role("owner")
    page = owner.get(STAFF)
    assert page.status_code == 200
    assert "<h1>Staff</h1>" in page.text
    body = {
        "email": "Lin@Example.com",
        "name": "Lin Support",
        "role": "support",
        "support_limit": "250",
        "token": form_token(page.text),
    }
    sent = owner.post(STAFF, data=body, follow_redirects=False)
    assert sent.status_code == 303
    shown = owner.get(sent.headers["location"])
    assert "Invited Lin@example.com as support." in shown.text  # the domain in lower case
    link = LINK.search(shown.text)
    assert link, "the one-time link is on the redirected page"
    assert "Lin Support" in shown.text
    assert "250 each" in shown.text
    assert LINK.search(owner.get(STAFF).text) is None  # shown once
    again = owner.post(STAFF, data=body, follow_redirects=False)  # a double submit
    assert again.status_code == 303
    assert LINK.search(owner.get(again.headers["location"]).text) is None
    lin = _id(container, "lin@example.com")
    created = [r for r in _trail(container, shop["id"], "staff.created") if r.target_id == lin]
    assert len(created) == 1
    (record,) = [
        r for r in _trail(container, shop["id"], "staff.role_granted") if r.target_id == lin
    ]
    assert record.actor.kind == "user"
    assert record.actor.name == "owner0@staff.example"
    assert record.after["support_limit"] == 250
    assert web.get(f"/console/set-password/{link.group(1)}").status_code == 200


def test_bad_invitations_are_shown_at_their_fields(as_role: Any) -> None:
    owner = as_role("owner")
    page = owner.get(STAFF)
    bad = owner.post(
        STAFF,
        data={
            "email": "not an email",
            "role": "boss",
            "support_limit": "lots",
            "token": form_token(page.text),
        },
    )
    assert bad.status_code == 422
    assert "a whole number of points, like 500" in bad.text
    assert 'value="not an email"' in bad.text


def test_change_role_and_limits_is_audited(
    container: Container, shop: dict[str, str], as_role: Any
) -> None:
    owner = as_role("owner")
    make_staff(container, email="sam@staff.example", role="support", program="shop")
    sam = _id(container, "sam@staff.example")
    page = owner.get(f"{STAFF}/{sam}")
    assert page.status_code == 200
    assert "sam@staff.example" in page.text
    wrong = owner.post(
        f"{STAFF}/{sam}/access",
        data={"role": "support", "support_limit": "0", "token": form_token(page.text)},
    )
    assert wrong.status_code == 422
    assert "from 1 to 10,000,000" in wrong.text
    done = owner.post(
        f"{STAFF}/{sam}/access",
        data={"role": "manager", "support_limit": "800", "token": form_token(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    (record,) = _trail(container, shop["id"], "staff.role_changed")
    assert record.before["role"] == "support"
    assert record.after["role"] == "manager"
    assert record.actor.name == "owner0@staff.example"


def test_an_owner_cannot_change_or_remove_itself(container: Container, as_role: Any) -> None:
    owner = as_role("owner")
    me = _id(container, "owner0@staff.example")
    page = owner.get(f"{STAFF}/{me}")
    assert "You cannot change your own role" in page.text
    refused = owner.post(f"{STAFF}/{me}/remove", data={"token": form_token(page.text)})
    assert refused.status_code == 409
    assert "ask another owner" in refused.text
    assert owner.get(STAFF).status_code == 200


def test_sign_out_everywhere_and_remove(
    web: TestClient, container: Container, shop: dict[str, str], as_role: Any
) -> None:
    owner = as_role("owner")
    make_staff(container, email="kim@staff.example", role="viewer", program="shop")
    kim = _id(container, "kim@staff.example")
    assert sign_in(web, "kim@staff.example").status_code == 303
    assert web.get("/console/programs/shop/audit").status_code == 200
    page = owner.get(f"{STAFF}/{kim}")
    assert "2 sessions" in page.text  # setting the password signed in, then the sign-in
    out = owner.post(
        f"{STAFF}/{kim}/end-sessions", data={"token": form_token(page.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    assert web.get("/console/programs/shop/audit", follow_redirects=False).status_code == 303
    assert sign_in(web, "kim@staff.example", PASSWORD).status_code == 303
    page = owner.get(f"{STAFF}/{kim}")  # a form token is used once
    gone = owner.post(
        f"{STAFF}/{kim}/remove", data={"token": form_token(page.text)}, follow_redirects=False
    )
    assert gone.status_code == 303
    assert "Removed kim@staff.example" in owner.get(gone.headers["location"]).text
    assert web.get("/console/programs/shop/audit").status_code == 404  # no role left
    assert owner.get(f"{STAFF}/{kim}").status_code == 404
    assert _trail(container, shop["id"], "staff.sessions_revoked")
    assert _trail(container, shop["id"], "staff.role_removed")


def test_owners_of_every_program_are_listed_but_not_changed_here(
    container: Container, shop: dict[str, str], as_role: Any
) -> None:
    owner = as_role("owner")
    make_staff(container, email="root@staff.example", role="owner", program=None)
    root = _id(container, "root@staff.example")
    listed = owner.get(STAFF).text
    assert "root@staff.example" in listed
    assert "(every program)" in listed
    page = owner.get(f"{STAFF}/{root}")
    refused = owner.post(
        f"{STAFF}/{root}/access", data={"role": "viewer", "token": form_token(page.text)}
    )
    assert refused.status_code == 409
    assert "holds every program" in refused.text


def test_another_programs_staff_stay_unseen(
    web: TestClient, container: Container, shop: dict[str, str], as_role: Any
) -> None:
    from tests.factories import create_program

    create_program(web, shop["platform"], slug="other")
    make_staff(container, email="far@staff.example", role="manager", program="other")
    far = _id(container, "far@staff.example")
    owner = as_role("owner")
    assert "far@staff.example" not in owner.get(STAFF).text
    assert owner.get(f"{STAFF}/{far}").status_code == 404
    page = owner.get(STAFF)
    refused = owner.post(f"{STAFF}/{far}/remove", data={"token": form_token(page.text)})
    assert refused.status_code == 404
