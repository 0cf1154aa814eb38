"""Programs, their versioned configuration, and their API keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import Response

from patron.api.deps import Caller, ProgramCaller, in_program, platform
from patron.api.pagination import decode_cursor, limit_param, page
from patron.api.rendering import JsonResponse
from patron.api.schemas import (
    ApiKeyCreate,
    ApiKeyInfo,
    ApiKeyOut,
    ApiKeyPage,
    ConfigOut,
    ConfigValidation,
    ProgramCreate,
    ProgramOut,
    ProgramPage,
)
from patron.api.writes import answer, respond
from patron.domain.config import config_errors
from patron.services import api_keys, programs
from patron.services.ports import UnitOfWork
from patron.services.transactions import run_in_transaction, run_read

router = APIRouter(prefix="/v1/programs", tags=["programs"])


@router.post("", status_code=201, response_model=ProgramOut)
def create_program(
    body: ProgramCreate, request: Request, who: Caller = Depends(platform("programs.create"))
) -> Response:
    cmd = programs.NewProgram(
        slug=body.slug,
        name=body.name,
        currency=body.currency,
        timezone=body.timezone,
        country=body.country,
        config=body.config,
    )

    def action(uow: UnitOfWork) -> programs.ProgramWithConfig:
        return programs.create_program(uow, who.container.clock, who.actor, cmd)

    return respond(
        request,
        who,
        action,
        lambda r: ProgramOut.of(r.program),
        status=201,
        body=body.model_dump(mode="json"),
    )


@router.get("", response_model=ProgramPage)
def list_programs(
    who: Caller = Depends(platform("programs.list")),
    limit: int = Depends(limit_param),
    cursor: str | None = None,
) -> Response:
    """Every program of the installation, by slug (platform keys only)."""
    after = decode_cursor(cursor)
    found = run_read(who.uow, lambda uow: uow.programs.page(after=after, limit=limit + 1))
    return JsonResponse(page(found, limit=limit, position=lambda p: p.slug, render=ProgramOut.of))


@router.get("/{program}", response_model=ProgramOut)
def get_program(who: ProgramCaller = Depends(in_program("program.read"))) -> Response:
    return JsonResponse(ProgramOut.of(who.program))


@router.get("/{program}/config", response_model=ConfigOut)
def get_config(who: ProgramCaller = Depends(in_program("config.read"))) -> Response:
    current = run_read(who.uow, lambda uow: programs.current_config(uow, who.program))
    return JsonResponse({"version": current.version, "config": current.document})


@router.put("/{program}/config", response_model=ConfigOut)
def replace_config(
    request: Request,
    document: dict[str, Any] = Body(..., description="the whole configuration document"),
    who: ProgramCaller = Depends(in_program("config.write")),
) -> Response:
    def action(uow: UnitOfWork) -> programs.VersionedConfig:
        return programs.replace_config(uow, who.container.clock, who.actor, who.program, document)

    return respond(
        request,
        who,
        action,
        lambda r: {"version": r.version, "config": r.document},
        status=200,
        body=document,
    )


@router.post("/{program}/config/validate", response_model=ConfigValidation)
def validate_config(
    request: Request,
    document: dict[str, Any] = Body(..., description="a configuration document to check"),
    who: ProgramCaller = Depends(in_program("config.read")),
) -> Response:
    def check(uow: UnitOfWork) -> dict[str, Any]:
        errors = [error.as_dict() for error in config_errors(document)]
        return {"valid": not errors, "errors": errors}

    return answer(request, who, check, lambda checked: checked, body=document)


@router.post("/{program}/api-keys", status_code=201, response_model=ApiKeyOut)
def create_api_key(
    body: ApiKeyCreate, request: Request, who: ProgramCaller = Depends(in_program("keys.create"))
) -> Response:
    def action(uow: UnitOfWork) -> api_keys.IssuedKey:
        return api_keys.issue_key(
            uow,
            who.container.clock,
            who.actor,
            program=who.program,
            name=body.name,
            role=body.role,
        )

    return respond(request, who, action, ApiKeyOut.of, status=201, body=body.model_dump())


@router.get("/{program}/api-keys", response_model=ApiKeyPage)
def list_api_keys(
    who: ProgramCaller = Depends(in_program("keys.manage")),
    limit: int = Depends(limit_param),
    cursor: str | None = None,
) -> Response:
    """The program's keys, oldest first, revoked ones included: name, role, prefix, when it was
    created, last used (to the minute) and revoked. Never the key itself."""
    after = decode_cursor(cursor)

    def read(uow: UnitOfWork) -> list[Any]:
        return list(api_keys.list_keys(uow, who.program, after=after, limit=limit + 1))

    found = run_read(who.uow, read)
    return JsonResponse(page(found, limit=limit, position=lambda k: k.id, render=ApiKeyInfo.of))


@router.delete("/{program}/api-keys/{key_id}", status_code=204, response_class=Response)
def revoke_api_key(
    key_id: str, who: ProgramCaller = Depends(in_program("keys.manage"))
) -> Response:
    """Revoke a key of the program: it answers 401 from the next request on (revoking it again
    changes nothing)."""

    def action(uow: UnitOfWork) -> None:
        api_keys.revoke_key(uow, who.container.clock, who.actor, key_id, program=who.program)

    run_in_transaction(who.uow, action)
    return Response(status_code=204)
