"""`connectors`: both fakes loaded with the scenario and the environment for `relstream connect`
(real Kafka via the session `stack` fixture, a fresh topic prefix per test)."""
from __future__ import annotations

import pytest

from tests.connectors.harness import connector_stack


@pytest.fixture
async def connectors(stack, tmp_path):
    async with connector_stack(tmp_path) as started:
        yield started
