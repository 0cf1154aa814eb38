"""Apple's PassKit web service (SPEC §10): where Wallet on a member's device registers a pass
for updates and fetches it again. ``webServiceURL`` in each pass is
``{public_url}/wallet/apple/{program id}``; Apple appends the paths below.

No API key is involved: a device proves it holds the pass with ``Authorization: ApplePass
<authenticationToken>`` (an HMAC of the serial number, ``patron.services.wallet_passes``),
which every route but the list of changed serials and the log requires (401 otherwise, as
Apple's protocol says). The serial number is the member's id. None of these is an API
operation, so none is in the OpenAPI document; docs/wallet.md describes them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated

from fastapi import APIRouter, Body, Header, Request
from fastapi.responses import Response

from patron.api.deps import container, scoped_to
from patron.api.rendering import JsonResponse
from patron.domain.errors import ProgramNotFound, Unauthenticated
from patron.domain.programs import Program
from patron.services import wallet_updates
from patron.services.ports import UnitOfWork
from patron.services.programs import get_program
from patron.services.transactions import run_in_transaction, run_read

log = logging.getLogger(__name__)

router = APIRouter(prefix="/wallet/apple/{program}/v1", include_in_schema=False)


def _token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme != "ApplePass" or not token:
        raise Unauthenticated("send Authorization: ApplePass <authenticationToken>")
    return token.strip()


def _program(uow: UnitOfWork, ref: str) -> Program:
    found = get_program(uow, ref)
    if found.id != ref:  # the URL names programs by id, never by a slug that may change
        raise ProgramNotFound(f"no program {ref!r}")
    return found


def web_service_url(request: Request, program_id: str) -> str:
    return f"{container(request).settings.base_url()}/wallet/apple/{program_id}"


@router.post("/devices/{device}/registrations/{pass_type}/{serial}")
def register(
    program: str,
    device: str,
    pass_type: str,
    serial: str,
    request: Request,
    push_token: Annotated[str, Body(embed=True, alias="pushToken", max_length=200)],
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    token = _token(authorization)
    box = container(request)

    def action(uow: UnitOfWork) -> bool:
        return wallet_updates.register(
            uow,
            _program(uow, program),
            box.wallet_keys(),
            box.clock.now(),
            device_id=device[:100],
            pass_type_id=pass_type,
            serial=serial,
            token=token,
            push_token=push_token,
        )

    created = run_in_transaction(scoped_to(request, program), action)
    return Response(status_code=201 if created else 200)


@router.delete("/devices/{device}/registrations/{pass_type}/{serial}")
def unregister(
    program: str,
    device: str,
    pass_type: str,
    serial: str,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    token = _token(authorization)
    box = container(request)

    def action(uow: UnitOfWork) -> bool:
        return wallet_updates.unregister(
            uow,
            _program(uow, program),
            box.wallet_keys(),
            device_id=device[:100],
            pass_type_id=pass_type,
            serial=serial,
            token=token,
        )

    run_in_transaction(scoped_to(request, program), action)
    return Response(status_code=200)


@router.get("/devices/{device}/registrations/{pass_type}")
def changed(
    program: str,
    device: str,
    pass_type: str,
    request: Request,
    passesUpdatedSince: str | None = None,  # noqa: N803 (Apple's name)
) -> Response:
    def read(uow: UnitOfWork) -> tuple[list[str], str | None]:
        return wallet_updates.changed_serials(
            uow, _program(uow, program), device[:100], pass_type, passesUpdatedSince
        )

    serials, tag = run_read(scoped_to(request, program), read)
    if not serials:
        return Response(status_code=204)
    return JsonResponse({"serialNumbers": serials, "lastUpdated": tag})


@router.get("/passes/{pass_type}/{serial}")
def latest(
    program: str,
    pass_type: str,
    serial: str,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    if_modified_since: Annotated[str | None, Header()] = None,
) -> Response:
    token = _token(authorization)
    box = container(request)
    url = web_service_url(request, program)

    def read(uow: UnitOfWork) -> tuple[bytes, datetime]:
        return wallet_updates.latest_pass(
            uow,
            _program(uow, program),
            box.wallet_keys(),
            box.clock.now(),
            url,
            pass_type_id=pass_type,
            serial=serial,
            token=token,
        )

    body, changed_at = run_read(scoped_to(request, program), read)
    modified = format_datetime(changed_at.astimezone(UTC), usegmt=True)
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            since = None
        if since is not None and int(changed_at.timestamp()) <= int(since.timestamp()):
            return Response(status_code=304, headers={"Last-Modified": modified})
    return Response(
        body,
        media_type="application/vnd.apple.pkpass",
        headers={"Last-Modified": modified, "Cache-Control": "no-cache"},
    )


@router.post("/log")
def device_log(
    request: Request, program: str, logs: Annotated[list[str], Body(embed=True)]
) -> Response:
    """Wallet reports problems with a pass here (a bad signature, an unreachable service)."""
    for line in logs[:20]:
        log.warning("Apple Wallet (program %s): %s", program, line[:500])
    return Response(status_code=200)
