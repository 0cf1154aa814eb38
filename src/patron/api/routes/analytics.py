"""The analytics summary (members, points flows, liability, sales, buying behaviour and the
dashboard's figures) and the same figures over time buckets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from patron.api.deps import ProgramCaller, in_program
from patron.api.rendering import JsonResponse
from patron.api.responses import AnalyticsSeries, AnalyticsSummary
from patron.schemas.analytics import window
from patron.services import analytics
from patron.services.ports import UnitOfWork
from patron.services.programs import load_config
from patron.services.transactions import run_read

router = APIRouter(prefix="/v1/programs/{program}/analytics", tags=["analytics"])


@router.get("/summary", response_model=AnalyticsSummary)
def summary(
    who: ProgramCaller = Depends(in_program("analytics.read")),
    start: datetime | None = Query(None, alias="from", description="start (default: to - 30 days)"),
    end: datetime | None = Query(None, alias="to", description="end, exclusive (default: now)"),
) -> Response:
    """Every figure of the window ``[from, to)``; definitions in docs/analytics.md."""
    begin, finish = window(start, end, who.container.clock.now())

    def read(uow: UnitOfWork) -> dict[str, Any]:
        config = load_config(uow, who.program)
        return analytics.summary(uow, who.program, config, begin, finish)

    return JsonResponse(run_read(who.uow, read))


@router.get("/series", response_model=AnalyticsSeries)
def series(
    who: ProgramCaller = Depends(in_program("analytics.read")),
    start: datetime | None = Query(None, alias="from", description="start (default: to - 30 days)"),
    end: datetime | None = Query(None, alias="to", description="end, exclusive (default: now)"),
    bucket: str | None = Query(
        None,
        description="day, week or month (program time zone; a week starts on Monday). Default: "
        "by day up to 31 days, by week up to 184 days, else by month",
    ),
) -> Response:
    """Points issued, redeemed and expired, new and active members, and the liability at each
    bucket's end, for every bucket of ``[from, to)``; definitions in docs/analytics.md."""
    begin, finish = window(start, end, who.container.clock.now())

    def read(uow: UnitOfWork) -> dict[str, Any]:
        config = load_config(uow, who.program)
        return analytics.series(uow, who.program, config, begin, finish, bucket)

    return JsonResponse(run_read(who.uow, read))
