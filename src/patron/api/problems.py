"""RFC 9457 problem+json for every error the API can return.

One table maps the domain error families of ``patron.domain.errors`` to HTTP statuses; request
validation errors, unknown routes, wrong methods, malformed JSON and unexpected exceptions are
rendered in the same shape, each with a stable ``code``. No handler lets a traceback out.

:func:`document` declares these answers in the OpenAPI document, once for every operation
(``Problem`` under ``application/problem+json``), in place of FastAPI's default 422 schema, which
Patron never sends: a client generated from the document knows every status it can get.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from patron.adapters.ratelimit import RateLimited
from patron.api.field_paths import field_errors
from patron.api.rendering import dumps
from patron.domain import errors as e
from patron.services.ports import RetryableError
from patron.services.transactions import StorageBusy

log = logging.getLogger("patron.api")

PROBLEM_JSON = "application/problem+json"

# Most specific first: the first family an error belongs to decides its status.
STATUS_BY_FAMILY: tuple[tuple[type[e.PatronError], int], ...] = (
    (StorageBusy, 503),
    (RateLimited, 429),
    (e.InvalidInput, 422),
    (e.Unauthenticated, 401),
    (e.Forbidden, 403),
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.BusinessRuleViolation, 422),
)

_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthenticated", "Missing or invalid API key"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    413: ("payload_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    429: ("rate_limited", "Too many requests"),
}


class FieldProblem(BaseModel):
    path: str
    message: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details; some codes add members (``errors``, ``reason``, ``fields``...)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] | None = None


# What each status means on any operation (the codes are in docs/api.md).
_PROBLEM_STATUSES = {
    400: "Malformed JSON or a bad request",
    401: "Missing or invalid API key",
    403: "The key's role may not do this",
    404: "The program or object does not exist (or belongs to another program)",
    409: "A conflict: a taken identifier or business key, an idempotency key reused",
    422: "Invalid input, or a request the business rules refuse",
    429: "Too many requests",
    503: "Storage stayed busy through every retry (with Retry-After)",
}
_WRITES = ("post", "put", "patch", "delete")


def document(app: FastAPI) -> None:
    """Declare the problem answers in ``app``'s OpenAPI document (built once, on first use)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _declare_problems(build())
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def _declare_problems(doc: dict[str, Any]) -> None:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    model = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(model.pop("$defs", {}))
    schemas["Problem"] = model
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in doc.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # FastAPI's HTTPValidationError: never sent
            if operation.get("security"):
                statuses = set(_PROBLEM_STATUSES)
            else:  # /healthz: declares its own answers
                statuses = (
                    {422} if operation.get("parameters") or "requestBody" in operation else set()
                )
            if method not in _WRITES:
                statuses.discard(409)
            for status in sorted(statuses):
                responses.setdefault(
                    str(status), {"description": _PROBLEM_STATUSES[status], "content": content}
                )


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    /,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """The problem document. An extra member never replaces a standard one (an error that
    carries, say, a ``status`` of its own cannot change the answer's)."""
    body: dict[str, Any] = {
        "type": f"urn:patron:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update((name, value) for name, value in extra.items() if name not in body)
    return Response(dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_for(error: e.PatronError) -> int:
    for family, status in STATUS_BY_FAMILY:
        if isinstance(error, family):
            return status
    return 400


def domain_problem(error: e.PatronError) -> Response:
    extra: dict[str, Any] = dict(error.extra)
    if isinstance(error, e.ValidationFailed):
        extra["errors"] = [fe.as_dict() for fe in error.errors]
    headers: dict[str, str] = {}
    status = status_for(error)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 503:
        headers["Retry-After"] = "1"
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    return problem(status, error.code, error.title, error.detail, headers=headers, **extra)


def request_validation_problem(error: RequestValidationError) -> Response:
    items = list(error.errors())
    if any(item.get("type") == "json_invalid" for item in items):
        return problem(
            400, "malformed_json", "Malformed JSON", "the request body is not valid JSON"
        )
    fields = field_errors(items, getattr(error, "body", None))
    detail = "; ".join(f"{f['path']}: {f['message']}" for f in fields[:5])
    return problem(422, "validation_error", "Invalid input", detail, errors=fields)


_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers at the request's path. (Starlette's 405 names
    only the methods of the first route that matched the path, and FastAPI has one route per
    method.) Each method is tried against the routes' own matching, as the router would."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHOD_ORDER
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in routes
            if not isinstance(route, Mount)  # static files: GET on anything below them
        )
    ]


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into problem+json."""

    @app.exception_handler(e.PatronError)
    async def _domain(_: Request, exc: e.PatronError) -> Response:
        return domain_problem(exc)

    @app.exception_handler(RetryableError)
    async def _transient(_: Request, exc: RetryableError) -> Response:
        # A transient storage failure outside the transaction runner: retryable, never a 500.
        return domain_problem(StorageBusy("the database connection failed; please retry"))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        return request_validation_problem(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such route"
        if exc.status_code == 405:
            allowed = allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            detail = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
        return problem(exc.status_code, code, title, detail, headers=headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "internal_error", "Internal error", "an unexpected error occurred")
