"""Liveness and readiness: ``/healthz`` answers 200 only when the database answers **and** its
schema is the one this Patron needs; otherwise 503 with a problem that says why
(``database_unavailable``, or ``schema_not_migrated`` naming the revisions missing and what to
run). A load balancer or an orchestrator can use it as the readiness probe."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel

from patron import __version__
from patron.adapters.db import migrate
from patron.api.deps import container
from patron.api.problems import PROBLEM_JSON, problem
from patron.api.rendering import JsonResponse
from patron.bootstrap import Container

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]
    database: str
    version: str
    schema_revision: str


NOT_READY = {
    "description": "Not ready: the database does not answer (`database_unavailable`), or its "
    "schema is not the one this Patron needs (`schema_not_migrated`, with `current_revision`, "
    "`head_revision` and `missing_migrations`: run `patron db upgrade`)",
    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


@router.get("/healthz", response_model=Health, responses={503: NOT_READY})
def healthz(box: Container = Depends(container)) -> Response:
    """200 when the process and its database answer and the schema is migrated, 503 otherwise."""
    try:
        state = migrate.schema_state(box.engine)
    except sa.exc.SQLAlchemyError:
        return problem(
            503,
            "database_unavailable",
            "Database unavailable",
            "the database does not answer",
            headers={"Retry-After": "5"},
        )
    if not state.ready:
        return problem(
            503,
            "schema_not_migrated",
            "Database not migrated",
            state.message,
            current_revision=state.current,
            head_revision=state.head,
            missing_migrations=list(state.missing),
        )
    return JsonResponse(
        {
            "status": "ok",
            "database": box.engine.dialect.name,
            "version": __version__,
            "schema_revision": state.head,
        }
    )
