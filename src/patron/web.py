"""The web server's app: the API with the console and the member portal mounted beside it.

``patron serve`` runs this app. It is its own module, above the entrypoints, because the
entrypoints do not import each other (import-linter): ``patron.api`` knows nothing of the console,
and the console nothing of the API; both call the same services.
"""

from __future__ import annotations

from fastapi import FastAPI

from patron.api.app import create_app as create_api
from patron.bootstrap import Container
from patron.console.app import install as install_console
from patron.portal.app import install as install_portal


def create_app(container: Container | None = None) -> FastAPI:
    """The API app with the console at ``/console/`` and the portal at ``/portal/``."""
    app = create_api(container)
    install_console(app)
    install_portal(app)
    return app
