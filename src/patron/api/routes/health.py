"""Liveness and readiness."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel

from patron import __version__
from patron.api.deps import container
from patron.api.rendering import JsonResponse
from patron.bootstrap import Container

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: str
    version: str | None = None


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database does not answer"}},
)
def healthz(box: Container = Depends(container)) -> Response:
    """200 when the process and its database answer, 503 otherwise."""
    try:
        with box.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JsonResponse(
        {"status": "ok", "database": box.engine.dialect.name, "version": __version__}
    )
