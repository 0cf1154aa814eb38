"""The web server's app: the API with the console mounted beside it.

``patron serve`` runs this app. It is its own module, above the entrypoints, because the
entrypoints do not import each other (import-linter): ``patron.api`` knows nothing of the console,
and the console nothing of the API; both call the same services.
"""

from __future__ import annotations

from fastapi import FastAPI

from patron.api.app import create_app as create_api
from patron.bootstrap import Container
from patron.console.app import install as install_console


def create_app(container: Container | None = None) -> FastAPI:
    """The API app with the console at ``/console/``."""
    app = create_api(container)
    install_console(app)
    return app
