"""Liveness and readiness."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from fastapi.responses import Response

from patron import __version__
from patron.api.deps import container
from patron.api.rendering import JsonResponse
from patron.bootstrap import Container

router = APIRouter(tags=["health"])


@router.get("/healthz")
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
