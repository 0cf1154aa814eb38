from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.factories import create_program, platform_key, program_key
from tests.support_example import EXAMPLE_CONFIG


@pytest.fixture
def platform(container: Container) -> str:
    return platform_key(container)


@pytest.fixture
def shop(client: TestClient, platform: str) -> dict[str, str]:
    """A program with the example configuration and one key of each role."""
    program = create_program(client, platform, slug="shop", config=EXAMPLE_CONFIG)
    keys = {
        role: program_key(client, platform, program="shop", role=role)
        for role in ("admin", "pos", "partner", "read")
    }
    return {"id": program["id"], "slug": "shop", **keys}
