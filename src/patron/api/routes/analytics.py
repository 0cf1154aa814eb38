"""The analytics summary: members, points flows, liability, sales and buying behaviour."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from patron.api.deps import ProgramCaller, in_program
from patron.api.rendering import JsonResponse
from patron.api.responses import AnalyticsSummary
from patron.domain.errors import FieldError, ValidationFailed
from patron.services import analytics
from patron.services.ports import UnitOfWork
from patron.services.programs import load_config
from patron.services.transactions import run_read

router = APIRouter(prefix="/v1/programs/{program}/analytics", tags=["analytics"])

DEFAULT_DAYS = 30


def window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """``[from, to)``: by default the 30 days up to now. Raises ValidationFailed."""
    for name, value in (("from", start), ("to", end)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed([FieldError(name, "needs a UTC offset, e.g. ...T00:00:00Z")])
    end = end or now
    start = start or end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise ValidationFailed([FieldError("from", "must come before to")])
    return start, end


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
