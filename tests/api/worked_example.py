"""The worked example (SPEC's small-org) projected into Redis by a real `relstream worker`.

The API tests read what the worker wrote, so that every endpoint is tested against the real projection
rather than against a fixture's idea of it.
"""

from __future__ import annotations

import time

import orjson
import redis

from relstream.settings import Settings
from tests.harness import WorkerProcess, documents_differences, redis_documents, small_org_expected

CONVERGE_TIMEOUT_S = 240.0  # generous: the worker shares two cores with other test sessions


def load_expected() -> dict:
    return small_org_expected()


def wait_until_projected(worker: WorkerProcess, expected: dict) -> None:
    """Until Redis holds exactly the expected documents; on failure, say what differs and why the worker stopped."""
    deadline = time.monotonic() + CONVERGE_TIMEOUT_S
    while differences := documents_differences(redis_documents(worker.prefix), expected["documents"]):
        if worker.process.poll() is not None:
            raise RuntimeError(f"worker exited with {worker.process.returncode}:\n{worker.log_tail()}")
        if time.monotonic() > deadline:
            shown = "\n".join(differences[:20])
            raise TimeoutError(f"after {CONVERGE_TIMEOUT_S:.0f} s Redis still differs from expected.json:\n{shown}")
        time.sleep(0.5)


def activity_lists(client: redis.Redis, settings: Settings, keys: list[str]) -> dict[str, list[dict]]:
    """`type:id` → the activity list the worker wrote beside each document."""
    lists = client.mget([settings.key("activities", *key.split(":", 1)) for key in keys])
    return {key: orjson.loads(raw) for key, raw in zip(keys, lists, strict=True) if raw is not None}
