"""The program's dashboard (SPEC §9): the period's figures beside the previous period's, charts
over time, and the tables behind them, each downloadable as CSV.

Every number is read through ``services.analytics`` (``summary`` for the period and for the
previous one, ``series`` for the charts) and laid out by ``services.analytics_tables``: the same
figures ``GET .../analytics/summary`` and ``patron report`` give for the same window, and the
same rows in the HTML tables and their CSV. The period is whole days of the program's time zone
(``console/periods.py``).

A role without the dashboard (support) opening the program's home is sent to its members.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Depends, Request
from starlette.responses import Response

from patron.console import dashboard_view as view
from patron.console import periods
from patron.console.deps import Page, in_program, page
from patron.console.forms import redirect
from patron.console.routing import error_page
from patron.console.routing import router as make_router
from patron.services import analytics, analytics_rollups, analytics_spans, analytics_tables
from patron.services.analytics_tables import Cell, Table
from patron.services.ports import UnitOfWork
from patron.services.programs import load_config
from patron.services.transactions import run_in_transaction, run_read

router = make_router()

CSV_TABLES = ("figures", "series", *view.TABLES)


def _read(
    at: Page, period: periods.Period, *, previous: bool = True, series: bool = True
) -> dict[str, Table]:
    """The analytics tables of ``period`` (with the previous period's figures beside them).

    The period's summary, the previous period's and the series are three independent reads: they
    run at once, each in its own read transaction on its own connection (the database works on
    them in parallel; Python waits), so the page costs about the slowest of them, not the sum.
    Each is consistent in itself; a purchase committed between them can show in one and not yet
    in another, as it would a second later on any dashboard.
    """
    before = period.previous()
    # Days the jobs have not rolled up yet (a fresh install, a first read) are rolled up first,
    # so the reads below take them from the roll-ups (services/analytics_rollups.py).
    now = at.box.clock.now()
    run_in_transaction(at.uow, lambda uow: analytics_rollups.roll_up(uow, at.program, now))
    # And the buyer spans of long periods (services/analytics_spans.py): built once a day.
    for window in (period, before) if previous else (period,):
        analytics_spans.build(at.uow, at.program, window.start, window.end, now)
    if series:
        size = analytics.bucket_for(period.start, period.end)
        tiles = analytics.buckets(period.start, period.end, size, at.program.timezone)
        analytics_spans.build_buckets(at.uow, at.program, tiles, now)

    def summary_of(window: periods.Period) -> Callable[[UnitOfWork], Any]:
        def read(uow: UnitOfWork) -> Any:
            config = load_config(uow, at.program)
            return analytics.summary(uow, at.program, config, window.start, window.end)

        return read

    def series_of(uow: UnitOfWork) -> Any:
        config = load_config(uow, at.program)
        return analytics.series(uow, at.program, config, period.start, period.end)

    reads: list[Callable[[UnitOfWork], Any]] = [summary_of(period)]
    if previous:
        reads.append(summary_of(before))
    if series:
        reads.append(series_of)
    with ThreadPoolExecutor(max_workers=len(reads)) as pool:
        done = list(pool.map(lambda read: run_read(at.uow, read), reads))
    now = done.pop(0)
    earlier = done.pop(0) if previous else None
    over_time = done.pop(0) if series else None
    return analytics_tables.tables(now, over_time, earlier)


def _choose(request: Request, at: Page) -> periods.Period:
    query = dict(request.query_params)
    return periods.choose(query, at.box.clock.now(), at.program.timezone)


@router.get("/programs/{program}/")
def dashboard(request: Request, at: Page = Depends(in_program("members.read"))) -> Response:
    """The program's home: the dashboard, or the members for a role without it."""
    if not at.may("dashboard.read"):
        return redirect(request, f"{at.base}/members")
    query = dict(request.query_params)
    context: dict[str, Any] = {
        "title": "Dashboard",
        "presets": periods.PRESETS,
        "chosen": query.get("period", periods.DEFAULT),
        "errors": {},
        "custom": {"from": query.get("from", ""), "to": query.get("to", "")},
    }
    try:
        period = _choose(request, at)
    except periods.PeriodInvalid as error:
        context.update(errors=error.errors, period=None)
        return page(request, "dashboard.html", context, at=at, status=422)
    found = _read(at, period)
    config = run_read(at.uow, lambda uow: load_config(uow, at.program))
    size = analytics.bucket_for(period.start, period.end)
    orders = view.figure(found["figures"], "Orders")
    context.update(
        period=period,
        chosen=period.key,
        before=period.previous(),
        custom={"from": period.first.isoformat(), "to": period.last.isoformat()},
        groups=view.cards(found["figures"]),
        charts=view.charts(found["series"], size, at.program.timezone),
        bucket=size,
        tables=view.tables(found),
        tier_names={level.code: level.name for level in config.tiers.levels}
        if config.tiers
        else {},
        empty=not orders,
        csv=f"{at.base}/dashboard.csv?{period.query}&table=",
    )
    return page(request, "dashboard.html", context, at=at)


def _safe(cell: Cell) -> Cell:
    """A cell for a spreadsheet: text that a spreadsheet would run as a formula is quoted."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            Decimal(cell)
        except InvalidOperation:
            return "'" + cell
    return cell


def csv_text(table: Table) -> str:
    _, headers, rows = table
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if cell is None else _safe(cell) for cell in row])
    return buffer.getvalue()


@router.get("/programs/{program}/dashboard.csv")
def dashboard_csv(
    request: Request, table: str = "figures", at: Page = Depends(in_program("dashboard.read"))
) -> Response:
    """One of the dashboard's tables as CSV, for the same period as the page."""
    if table not in CSV_TABLES:
        known = ", ".join(CSV_TABLES)
        return error_page(404, "No such table", f"no dashboard table {table!r}; one of {known}")
    try:
        period = _choose(request, at)
    except periods.PeriodInvalid as error:
        detail = "; ".join(f"{name}: {message}" for name, message in error.errors.items())
        return error_page(400, "Choose another period", detail)
    found = _read(at, period, previous=table == "figures", series=table == "series")
    name = f"{at.program.slug}-{table.replace('_', '-')}-{period.slug}.csv"
    return Response(
        csv_text(found[table]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
