"""Every console page and action, with what each role gets (SPEC §9's table, docs/console.md).

``test_page_roles.py`` walks the app's console routes: a route without a row here fails the test,
and each row is requested as every role. Statuses: 200 a page, 303 a redirect (a form's answer,
or the program home of a role without the dashboard), 403 not allowed, 404 not seen.
Actions (POST) are requested with a valid form token and the ``FORMS`` body (if any).
"""

from __future__ import annotations

ROLES = ("owner", "manager", "marketer", "support", "viewer")

EVERYONE = dict.fromkeys(ROLES, 200)

# Pages and actions outside any program: every signed-in staff user may use them.
ACCOUNT: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/console/"): dict.fromkeys(ROLES, 303),  # one program: straight to it
    ("GET", "/console/switch"): dict.fromkeys(ROLES, 303),
    ("GET", "/console/account"): EVERYONE,
    ("GET", "/console/account/two-step"): EVERYONE,
    ("POST", "/console/account/two-step/off"): dict.fromkeys(ROLES, 303),
}


def _only(allowed: tuple[str, ...], status: int) -> dict[str, int]:
    return {role: status if role in allowed else 403 for role in ROLES}


MEMBER = "/console/programs/{program}/members/{member}"
OWNER_ONLY = {"owner": 200, "manager": 403, "marketer": 403, "support": 403, "viewer": 403}
OWNER_ACTION = {**OWNER_ONLY, "owner": 303}
STAFF = "/console/programs/{program}/staff"
TEMPLATES = "/console/programs/{program}/messages"
TEMPLATE = TEMPLATES + "/{event}/{channel}"

# Pages of the program "shop" ({program} is filled in by the test).
PAGES: dict[tuple[str, str], dict[str, int]] = {
    # the program's home: the dashboard, or its members for a role without it
    ("GET", "/console/programs/{program}/"): {**EVERYONE, "support": 303},
    ("GET", "/console/programs/{program}/dashboard.csv"): {**EVERYONE, "support": 403},
    ("GET", "/console/programs/{program}/members"): EVERYONE,
    ("GET", MEMBER): EVERYONE,
    ("GET", MEMBER + "/lots"): EVERYONE,
    ("POST", MEMBER + "/adjust"): _only(("owner", "manager", "support"), 303),
    ("POST", MEMBER + "/status"): _only(("owner", "manager", "support"), 303),
    ("POST", MEMBER + "/tier"): _only(("owner", "manager"), 303),
    ("POST", MEMBER + "/portal-link"): _only(("owner", "manager", "support"), 303),
    ("GET", MEMBER + "/export"): _only(("owner", "manager"), 200),
    ("GET", MEMBER + "/erase"): _only(("owner",), 200),
    # the matrix types the wrong id: the owner gets the form back with the error, nothing erased
    ("POST", MEMBER + "/erase"): _only(("owner",), 422),
    ("GET", MEMBER + "/messages"): EVERYONE,
    ("POST", MEMBER + "/messages/{message}/resend"): _only(("owner", "manager", "support"), 303),
    # templates: read by every role but support (no configuration); saved and tested by owner,
    # manager and marketer. The matrix has no transport: a test send says so (409).
    ("GET", TEMPLATES): {**EVERYONE, "support": 403},
    ("GET", TEMPLATE): {**EVERYONE, "support": 403},
    ("POST", TEMPLATE + "/preview"): {**EVERYONE, "support": 403},
    ("POST", TEMPLATE): _only(("owner", "manager", "marketer"), 303),
    ("POST", TEMPLATE + "/test"): _only(("owner", "manager", "marketer"), 409),
    ("GET", "/console/programs/{program}/audit"): {**EVERYONE, "support": 403},
    ("GET", STAFF): OWNER_ONLY,
    ("POST", STAFF): OWNER_ACTION,
    ("GET", STAFF + "/{staff_id}"): OWNER_ONLY,
    # In this order for the owner (the walk is sorted): change, sign out, then remove.
    ("POST", STAFF + "/{staff_id}/access"): OWNER_ACTION,
    ("POST", STAFF + "/{staff_id}/end-sessions"): OWNER_ACTION,
    ("POST", STAFF + "/{staff_id}/remove"): OWNER_ACTION,
}

# Routes anyone may reach before signing in (no role applies).
ANONYMOUS = {
    ("GET", "/console/login"),
    ("POST", "/console/login"),
    ("GET", "/console/login/code"),
    ("POST", "/console/login/code"),
    ("POST", "/console/logout"),
    ("GET", "/console/set-password/{token}"),
    ("POST", "/console/set-password/{token}"),
    # needs a session id of the user's own; tested in test_sign_in.py
    ("POST", "/console/account/two-step"),
    ("POST", "/console/account/sessions/{session_id}/revoke"),
}

# Bodies of the actions in PAGES (besides the token), and what fills their path parameters.
FORMS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", MEMBER + "/adjust"): {"wallet": "points", "amount": "5", "reason": "matrix"},
    ("POST", MEMBER + "/status"): {"status": "active"},
    ("POST", MEMBER + "/tier"): {"code": "vib", "until": "2026-12-31", "tier_reason": "matrix"},
    ("POST", MEMBER + "/erase"): {"confirm": "not the id"},
    ("POST", STAFF): {"email": "invited@staff.example", "role": "viewer"},
    ("POST", TEMPLATE + "/preview"): {"subject": "Hi {{ first_name }}", "body": "{{ points }}"},
    ("POST", TEMPLATE): {
        "subject": "Hi {{ first_name }}",
        "body": "You earned {{ points }} points.",
        "category": "marketing",
        "active": "on",
    },
    ("POST", TEMPLATE + "/test"): {"to": "test@example.com", "body": "{{ points }}"},
    ("POST", STAFF + "/{staff_id}/access"): {"role": "support", "support_limit": "100"},
}
