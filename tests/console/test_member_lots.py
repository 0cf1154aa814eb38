"""The lots behind a balance: the member's page shows those that expire first and says how many
there are; the lots page lists every one, paged (a member with many purchases stays fast)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from patron.services import member_profile
from tests.factories import buy, enrol


def test_the_page_shows_the_first_lots_and_the_lots_page_every_one(
    as_role: Any, web: TestClient, shop: dict[str, str], monkeypatch: Any
) -> None:
    monkeypatch.setattr(member_profile, "LOTS_SHOWN", 3)
    member = enrol(web, shop["admin"], program="shop", external_id="L-1", first_name="Lot")
    for n in range(5):
        buy(
            web,
            shop["admin"],
            program="shop",
            member=member["id"],
            external_id=f"L-{n}",
            amount=f"{10 + n}.00",
        )
    support = as_role("support")
    page = support.get(f"/console/programs/shop/members/{member['id']}")
    assert page.status_code == 200
    sentences = re.findall(
        r"The (\d+) lots that expire first, of (\d+) open lots\. <a href=\"[^\"]+wallet=(\w+)\"",
        page.text,
    )
    totals = {wallet: int(total) for shown, total, wallet in sentences if shown == "3"}
    assert totals.get("points", 0) >= 5, page.text
    every = support.get(f"/console/programs/shop/members/{member['id']}/lots?wallet=points")
    assert every.status_code == 200
    assert every.text.count('<tr><td class="num">') == totals["points"]
    assert f"of {totals['points']}" in every.text
    wrong = support.get(f"/console/programs/shop/members/{member['id']}/lots?wallet=nope")
    assert wrong.status_code == 404
