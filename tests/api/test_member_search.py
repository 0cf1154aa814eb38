"""Member search (``services.member_search`` and ``GET .../members?q=``): every identifier, name
prefixes whatever their case and accents, paging without gaps or repeats, and name keys kept
right by updates, imports and erasure."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.adapters.db import member_reads
from patron.bootstrap import Container
from patron.cli import transfer
from patron.domain.members import full_name_key, name_key
from patron.domain.programs import Program
from patron.services import member_search
from patron.services.transactions import run_read
from tests.factories import auth, enrol

# The ways of reading a name query (adapters/db/member_reads.py ``_named``): FEW and
# FEW_PAIRED as each way needs them.
WAYS: dict[str, tuple[int, int]] = {
    "ranges": (member_reads.FEW, member_reads.FEW_PAIRED),
    "pair": (0, member_reads.FEW_PAIRED),
    "name-order": (0, 0),
}


def program_of(container: Container, slug: str = "shop") -> Program:
    found = run_read(container.uow, lambda uow: uow.programs.get(slug))
    assert found is not None
    return found


def search(
    container: Container, q: str | None, *, limit: int = 20, after: str | None = None
) -> member_search.SearchPage:
    program = program_of(container)
    return run_read(
        container.uow,
        lambda uow: member_search.search(
            uow, program, q, limit=limit, after=after, now=container.clock.now()
        ),
    )


def names(page: member_search.SearchPage) -> list[str]:
    return [f"{m.first_name} {m.last_name}" for m in page.items]


@pytest.fixture
def people(client: TestClient, shop: dict[str, str]) -> dict[str, dict[str, Any]]:
    key, program = shop["admin"], shop["slug"]
    grace = enrol(
        client,
        key,
        program=program,
        external_id="C-100",
        email="Grace.Hopper@Example.com",
        phone="+33612345678",
        first_name="Grâce",
        last_name="Hopper",
    )
    ada = enrol(client, key, program=program, first_name="Ada", last_name="Lovelace")
    alan = enrol(client, key, program=program, first_name="Alan", last_name="Turing")
    vdb = enrol(client, key, program=program, first_name="Ann", last_name="van der Berg")
    return {"grace": grace, "ada": ada, "alan": alan, "vdb": vdb}


def test_name_key_folds_case_accents_and_spaces() -> None:
    assert name_key("  Grâce\tHOPPER ") == "grace hopper"
    assert name_key("Straße") == "strasse"
    assert name_key("İstanbul") == "istanbul"
    assert name_key("   ") is None
    assert full_name_key("Émile", None) == "emile"
    assert full_name_key(None, None) is None


@pytest.mark.parametrize(
    "query",
    [
        "grace.hopper@example.com",
        "+33612345678",
        "06 12 34 56 78",  # the national form, read in the program's country (FR)
        "C-100",
        "card",
        "member id",
        "referral",
    ],
)
def test_every_identifier_finds_its_member(
    container: Container, people: dict[str, dict[str, Any]], query: str
) -> None:
    grace = people["grace"]
    text = {
        "card": grace["card_number"][:4] + " " + grace["card_number"][4:],
        "member id": grace["id"].upper(),
        "referral": grace["referral_code"].lower(),
    }.get(query, query)
    page = search(container, text)
    assert [m.id for m in page.items] == [grace["id"]]
    assert (page.by, page.total, page.next) == ("identifier", 1, None)


def test_an_email_nobody_holds_finds_nobody(
    container: Container, people: dict[str, dict[str, Any]]
) -> None:
    page = search(container, "nobody@example.com")
    assert (page.items, page.total) == ([], 0)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("gra hop", ["Grâce Hopper"]),
        ("hopper", ["Grâce Hopper"]),
        ("GRÂCE", ["Grâce Hopper"]),
        ("grace", ["Grâce Hopper"]),
        ("hop gra", ["Grâce Hopper"]),
        ("a", ["Ada Lovelace", "Alan Turing", "Ann van der Berg"]),
        ("al tur", ["Alan Turing"]),
        ("a al", ["Alan Turing"]),  # nested words: no pair, each way still finds it
        ("al a tur", ["Alan Turing"]),  # a pair beside a nested word
        ("gra hop lov", []),  # three names: no member has them
        ("van der berg", ["Ann van der Berg"]),
        ("ann van der", ["Ann van der Berg"]),
        ("gra lov", []),
        ("race", []),  # a prefix, not a substring
    ],
)
@pytest.mark.parametrize("way", list(WAYS))
def test_words_are_name_prefixes(
    container: Container,
    people: dict[str, dict[str, Any]],
    query: str,
    expected: list[str],
    way: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The three ways of reading a name query (adapters/db/member_reads.py) find the same members.
    few, paired = WAYS[way]
    monkeypatch.setattr(member_reads, "FEW", few)
    monkeypatch.setattr(member_reads, "FEW_PAIRED", paired)
    page = search(container, query)
    assert names(page) == expected
    assert page.total == len(expected)
    if expected:
        assert page.by == "name"


def test_summary_shows_identifiers_tier_and_points(
    client: TestClient, container: Container, shop: dict[str, str], people: dict[str, Any]
) -> None:
    page = search(container, "hopper")
    grace = page.items[0]
    assert (grace.email, grace.phone, grace.external_id) == (
        "Grace.Hopper@example.com",
        "+33612345678",
        "C-100",
    )
    assert grace.card_number == people["grace"]["card_number"]
    welcome = people["grace"]["balances"]["points"]["available"]
    assert welcome > 0  # the example's welcome bonus
    assert (grace.status, grace.points) == ("active", welcome)
    assert grace.tier_code == people["grace"]["tier"]["code"]


@pytest.mark.parametrize("query", ["zo", "zo ng"])
@pytest.mark.parametrize("way", list(WAYS))
def test_pages_have_no_gaps_and_no_repeats(
    client: TestClient,
    container: Container,
    shop: dict[str, str],
    way: str,
    query: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    few, paired = WAYS[way]
    monkeypatch.setattr(member_reads, "FEW", few)
    monkeypatch.setattr(member_reads, "FEW_PAIRED", paired)
    enrolled = []
    for n in range(23):
        # Several members share a name: the id breaks the tie.
        first = ["Zoé", "zoe", "Zora"][n % 3]
        member = enrol(client, shop["admin"], program="shop", first_name=first, last_name="Ng")
        enrolled.append(member["id"])
    enrol(client, shop["admin"], program="shop", first_name="Bob", last_name="Smith")
    seen: list[str] = []
    after = None
    while True:
        page = search(container, query, limit=5, after=after)
        assert page.total == 23
        seen += [m.id for m in page.items]
        if page.next is None:
            break
        after = page.next
    assert sorted(seen) == sorted(enrolled)
    assert len(seen) == len(set(seen))
    shown = zip(_names(container, seen), seen, strict=True)
    keys = [(full_name_key(*n.split(" ")), i) for n, i in shown]
    assert keys == sorted(keys)  # by name, then id


def _names(container: Container, ids: list[str]) -> list[str]:
    program = program_of(container)

    def read(uow: Any) -> list[str]:
        return [
            f"{m.first_name} {m.last_name}" for m in (uow.members.get(program.id, i) for i in ids)
        ]

    return run_read(container.uow, read)


def test_no_query_lists_the_newest_first(
    container: Container, people: dict[str, dict[str, Any]]
) -> None:
    first = search(container, "", limit=3)
    assert (first.by, first.total) == ("newest", 4)
    rest = search(container, None, limit=3, after=first.next)
    ids = [m.id for m in first.items + rest.items]
    order = ["vdb", "alan", "ada", "grace"]
    assert ids == [people[who]["id"] for who in order]
    assert rest.next is None


def test_total_is_capped(
    container: Container, people: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(member_search, "TOTAL_CAP", 2)
    page = search(container, "a", limit=1)
    assert (page.total, page.total_capped) == (2, True)
    assert search(container, "al", limit=1).total_capped is False


def test_a_name_change_rekeys_and_erasure_hides(
    client: TestClient, container: Container, shop: dict[str, str], people: dict[str, Any]
) -> None:
    grace = people["grace"]
    url = f"/v1/programs/shop/members/{grace['id']}"
    response = client.patch(url, json={"last_name": "Murray"}, headers=auth(shop["admin"]))
    assert response.status_code == 200, response.text
    assert names(search(container, "hopper")) == []
    assert names(search(container, "gra mur")) == ["Grâce Murray"]
    response = client.post(f"{url}/erase", headers=auth(shop["admin"]))
    assert response.status_code == 200, response.text
    assert names(search(container, "gra")) == []
    assert search(container, "").total == 4  # still a member, with no name


def test_imported_members_are_found_by_name(
    container: Container, shop: dict[str, str], people: dict[str, Any]
) -> None:
    lines = [
        json.dumps({"external_id": f"IMP-{n}", "first_name": "Hélène", "last_name": f"Dùpont{n}"})
        for n in range(3)
    ]
    outcome = transfer.run_import(container.uow, container.clock, "shop", "members", "jsonl", lines)
    assert outcome.imported == 3
    page = search(container, "helene dupont")
    assert names(page) == ["Hélène Dùpont0", "Hélène Dùpont1", "Hélène Dùpont2"]


def test_the_api_searches_with_q(
    client: TestClient, shop: dict[str, str], people: dict[str, Any]
) -> None:
    url = "/v1/programs/shop/members"
    first = client.get(url, params={"q": "a", "limit": 2}, headers=auth(shop["admin"]))
    assert first.status_code == 200, first.text
    body = first.json()
    assert [m["first_name"] for m in body["items"]] == ["Ada", "Alan"]
    params = {"q": "a", "limit": 2, "cursor": body["next_cursor"]}
    more = client.get(url, params=params, headers=auth(shop["admin"])).json()
    assert [m["first_name"] for m in more["items"]] == ["Ann"]
    assert more["next_cursor"] is None
    found = client.get(url, params={"q": "GRACE.hopper@example.com"}, headers=auth(shop["read"]))
    assert [m["id"] for m in found.json()["items"]] == [people["grace"]["id"]]


def test_the_api_refuses_q_with_another_filter_or_without_the_list_permission(
    client: TestClient, shop: dict[str, str], people: dict[str, Any]
) -> None:
    url = "/v1/programs/shop/members"
    mixed = client.get(url, params={"q": "a", "tier": "gold"}, headers=auth(shop["admin"]))
    assert mixed.status_code == 422, mixed.text
    assert mixed.json()["errors"][0]["path"] == "q"
    pos = client.get(url, params={"q": "a"}, headers=auth(shop["pos"]))
    assert pos.status_code == 403, pos.text
