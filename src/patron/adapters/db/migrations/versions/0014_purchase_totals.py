"""purchase running totals: subtotal, refunded amount, eligible amount left

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22 23:10:00

Existing purchases are backfilled from their stored request and their refunds.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op
from babel.numbers import get_currency_precision

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        for name in ("amount", "refunded", "eligible_left"):
            batch_op.add_column(
                sa.Column(name, sa.BigInteger(), server_default="0", nullable=False)
            )
        batch_op.create_index(
            "ix_purchases_program_id_occurred_at", ["program_id", "occurred_at"], unique=False
        )
    _backfill()


def _backfill() -> None:
    conn = op.get_bind()
    exponents = {
        row.id: int(get_currency_precision(row.currency))
        for row in conn.execute(sa.text("SELECT id, currency FROM programs"))
    }
    refunds = sa.table(
        "refunds", sa.column("purchase_id", sa.String()), sa.column("result", sa.JSON())
    )
    back: dict[str, tuple[int, Decimal]] = {}
    for refund in conn.execute(sa.select(refunds.c.purchase_id, refunds.c.result)):
        eligible, amount = back.get(refund.purchase_id, (0, Decimal(0)))
        back[refund.purchase_id] = (
            eligible + int(refund.result["eligible_refunded"]),
            amount + Decimal(str(refund.result["refunded_amount"])),
        )
    purchases = sa.table(
        "purchases",
        sa.column("id", sa.String()),
        sa.column("program_id", sa.String()),
        sa.column("eligible_amount", sa.BigInteger()),
        sa.column("document", sa.JSON()),
        sa.column("amount", sa.BigInteger()),
        sa.column("refunded", sa.BigInteger()),
        sa.column("eligible_left", sa.BigInteger()),
    )
    rows = conn.execute(
        sa.select(
            purchases.c.id,
            purchases.c.program_id,
            purchases.c.eligible_amount,
            purchases.c.document,
        )
    ).all()
    for row in rows:
        exponent = exponents[row.program_id]
        subtotal = sum(
            (
                Decimal(str(line["quantity"])) * Decimal(str(line["unit_price"]))
                - Decimal(str(line.get("discount", "0")))
                for line in row.document.get("lines", [])
            ),
            Decimal(0),
        )
        eligible_back, amount_back = back.get(row.id, (0, Decimal(0)))
        conn.execute(
            purchases.update()
            .where(purchases.c.id == row.id)
            .values(
                amount=int(subtotal.scaleb(exponent).to_integral_value()),
                refunded=int(amount_back.scaleb(exponent).to_integral_value()),
                eligible_left=row.eligible_amount - eligible_back,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_index("ix_purchases_program_id_occurred_at")
        for name in ("eligible_left", "refunded", "amount"):
            batch_op.drop_column(name)
