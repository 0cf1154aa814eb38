"""Every stored ledger entry sums to zero with its stored postings, read back with plain SQL.

An entry's ``amount`` is what the member's side gained (available plus pending; available alone
for a release); its postings move that amount against the program's accounts (issued, redeemed,
expired, refunds, ...). So for each entry, ``amount`` plus the postings' legs on every account
but the member's must be zero, and each posting must belong to the entry's program, member and
wallet. The query below reads only the stored rows, so a row that was written wrong, or added
later, shows up; the test proves it by adding such rows.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.services import jobs
from patron.services.demo import EXAMPLE_CONFIG
from tests.factories import MutableClock, auth, buy, change_config, enrol
from tests.ledger_support import audit

UNBALANCED = sa.text(
    """
    WITH legs AS (
        SELECT entry_id, program_id, member_id, wallet, destination AS account, amount
        FROM ledger_postings
        UNION ALL
        SELECT entry_id, program_id, member_id, wallet, source AS account, -amount
        FROM ledger_postings
    )
    SELECT e.id
    FROM ledger_entries e LEFT JOIN legs l ON l.entry_id = e.id
    GROUP BY e.id, e.type, e.amount
    HAVING COUNT(l.entry_id) = 0
        OR e.amount + SUM(
            CASE
                WHEN l.account = 'member:available' THEN 0
                WHEN l.account = 'member:pending' AND e.type <> 'release' THEN 0
                ELSE l.amount
            END
        ) <> 0
        OR SUM(
            CASE
                WHEN l.program_id <> e.program_id OR l.member_id <> e.member_id
                    OR l.wallet <> e.wallet THEN 1
                ELSE 0
            END
        ) > 0
    ORDER BY e.id
    """
)


def unbalanced(container: Container) -> list[str]:
    with container.engine.connect() as conn:
        return [row.id for row in conn.execute(UNBALANCED)]


def entry_of(
    container: Container, entry_type: str, wallet: str = "points"
) -> sa.Row[tuple[str, str, str, str]]:
    with container.engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT id, program_id, member_id, wallet FROM ledger_entries"
                " WHERE type = :type AND wallet = :wallet ORDER BY id LIMIT 1"
            ),
            {"type": entry_type, "wallet": wallet},
        ).one()


def test_every_stored_entry_sums_to_zero_with_its_postings(
    client: TestClient, shop: dict[str, str], clock: MutableClock, container: Container
) -> None:
    pos, admin = shop["pos"], shop["admin"]
    points = {**EXAMPLE_CONFIG["wallets"]["points"], "pending_days": 14}
    change_config(
        client, admin, program="shop", wallets={**EXAMPLE_CONFIG["wallets"], "points": points}
    )
    reward = {"code": "gift", "name": "Gift", "kind": "free_item", "value": "GIFT"}
    made = client.post(
        "/v1/programs/shop/rewards",
        json={**reward, "cost": {"wallet": "points", "amount": 100}},
        headers=auth(admin),
    )
    assert made.status_code == 201, made.text
    clock.at = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)  # enrolled before the purchases
    ada = enrol(client, pos, program="shop", email="ada@example.com")["id"]
    bo = enrol(client, pos, program="shop", email="bo@example.com")["id"]
    clock.at = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
    for n, member in enumerate((ada, bo, ada)):
        buy(client, pos, program="shop", member=member, external_id=f"P-{n}", amount="120.00")
    clock.advance(days=15)
    jobs.run_due(container.uow, clock.now())  # the purchases' points are released

    def post(path: str, body: dict[str, object], status: int = 201) -> dict[str, object]:
        answer = client.post(f"/v1/programs/shop{path}", json=body, headers=auth(admin))
        assert answer.status_code == status, answer.text
        result: dict[str, object] = answer.json()
        return result

    given = post(f"/members/{ada}/redemptions", {"reward": "gift"})
    post(f"/redemptions/{given['id']}/cancel", {}, status=200)
    post(f"/members/{ada}/redemptions", {"reward": "gift"})
    post(f"/members/{bo}/redemptions", {"wallet": "credit", "amount": "1.00"})
    post(f"/members/{bo}/adjustments", {"wallet": "points", "amount": 40, "reason": "goodwill"})
    post(f"/members/{bo}/adjustments", {"wallet": "points", "amount": -15, "reason": "fix"})
    post("/purchases/P-1/refunds", {"external_id": "R-1"})  # Bo's points clawed back
    clock.advance(days=500)
    jobs.run_due(container.uow, clock.now())  # what is left expires

    with container.engine.connect() as conn:
        kinds = {
            row[0] for row in conn.execute(sa.text("SELECT DISTINCT type FROM ledger_entries"))
        }
    assert {"earn", "release", "redeem", "redemption_cancel", "adjust", "refund", "expire"} <= kinds
    assert unbalanced(container) == []
    assert audit(container) == []

    # A posting added to an earn afterwards: the earn no longer sums to zero.
    earn = entry_of(container, "earn")
    posting = sa.text(
        "INSERT INTO ledger_postings"
        " (entry_id, program_id, member_id, wallet, source, destination, amount)"
        " VALUES (:entry, :program, :member, :wallet, :source, :destination, 5)"
    )
    with container.engine.begin() as conn:
        conn.execute(
            posting,
            {
                "entry": earn.id,
                "program": earn.program_id,
                "member": earn.member_id,
                "wallet": earn.wallet,
                "source": "program:issued",
                "destination": "member:available",
            },
        )
    assert unbalanced(container) == [earn.id]
    # A posting between program accounts in another wallet: it nets to zero, but it is not the
    # entry's.
    redeem = entry_of(container, "redeem")
    with container.engine.begin() as conn:
        conn.execute(
            posting,
            {
                "entry": redeem.id,
                "program": redeem.program_id,
                "member": redeem.member_id,
                "wallet": "credit",
                "source": "program:adjustments",
                "destination": "program:issued",
            },
        )
    assert unbalanced(container) == sorted([earn.id, redeem.id])
    assert {v.subject for v in audit(container) if v.check == "entry_postings"} >= {
        f"entry {earn.id}"
    }
