"""The example configuration document of API.md, verbatim, shared by tests."""

from __future__ import annotations

from patron.services.demo import EXAMPLE_CONFIG

__all__ = ["EXAMPLE_CONFIG"]
