"""The FastAPI application factory.

Routes are plain ``def`` functions: FastAPI runs them in its thread pool, where they call the
synchronous use cases (see docs/adr/0001 for why Patron's database access is synchronous).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from patron import __version__
from patron.api import home, inputs, openapi_docs, problems, unsubscribe, wallet_service
from patron.api.guards import BodyLimit
from patron.api.rendering import JsonResponse
from patron.api.routes import (
    analytics,
    audit,
    campaigns,
    cards,
    events,
    grants,
    health,
    ledger,
    members,
    messages,
    programs,
    purchases,
    referrals,
    rewards,
    segments,
    tiers,
    webhooks,
)
from patron.bootstrap import Container, build

DESCRIPTION = """
Patron's REST API. Authenticate with `Authorization: Bearer <key>`; every `POST` accepts an
`Idempotency-Key`; errors are RFC 9457 `application/problem+json` with a stable `code`;
lists are cursor-paginated (`?limit=&cursor=`, answer `{items, next_cursor}`).
"""


def create_app(container: Container | None = None) -> FastAPI:
    """Build the app; without a container, one is built from the environment at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = container is None
        app.state.container = container or build()
        try:
            yield
        finally:
            if owned:
                app.state.container.close()

    app = FastAPI(
        title="Patron",
        version=__version__,
        description=DESCRIPTION,
        default_response_class=JsonResponse,
        lifespan=lifespan,
        docs_url=None,  # served by home.install from the package's own files
        redoc_url=None,
        dependencies=[Depends(inputs.storable_input)],
    )
    if container is not None:
        app.state.container = container
    problems.install(app)
    app.add_middleware(BodyLimit, max_bytes=lambda: app.state.container.settings.max_body_bytes)
    problems.document(app)
    openapi_docs.document(app)
    home.install(app)
    app.include_router(health.router)
    app.include_router(programs.router)
    app.include_router(members.router)
    app.include_router(ledger.router)
    app.include_router(purchases.router)
    app.include_router(events.router)
    app.include_router(tiers.router)
    app.include_router(rewards.router)
    app.include_router(referrals.router)
    app.include_router(segments.router)
    app.include_router(grants.router)
    app.include_router(campaigns.router)
    app.include_router(webhooks.router)
    app.include_router(analytics.router)
    app.include_router(audit.router)
    app.include_router(messages.router)
    app.include_router(cards.router)
    app.include_router(wallet_service.router)
    app.include_router(unsubscribe.router)
    return app
