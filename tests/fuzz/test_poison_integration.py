"""Poison input through a real worker: it survives, dead-letters every bad message, and the good ones still
produce exactly the worked example's documents."""
from __future__ import annotations

import random
import pytest

from tests.fuzz.poison import OVERSIZE, edge_cases, is_poison, poison_messages, sample
from tests.harness import (
    documents_differences, publish, read_topic, redis_documents, small_org_expected, small_org_messages,
    unique_prefix, wait_until,
)

pytestmark = pytest.mark.integration
GENERATED = 200


def interleave(valid: list, poison: list, seed: int = 3) -> list:
    """Poison scattered between the valid messages, which keep their relative order."""
    slots = [True] * len(valid) + [False] * len(poison)
    random.Random(seed).shuffle(slots)
    valid_iter, poison_iter = iter(valid), iter(poison)
    return [next(valid_iter) if is_valid else next(poison_iter) for is_valid in slots]


def test_poison_is_dead_lettered_and_the_rest_still_converges(worker):
    process = worker(unique_prefix("poison"))
    named = [message for message in edge_cases() if is_poison(*message)]
    poison = [(stream, f"poison-{index}".encode(), raw)  # a key: Kafka refuses a null key with a null value
              for index, (stream, raw) in enumerate(named + sample(poison_messages, GENERATED))]
    assert any(raw is not None and len(raw) > OVERSIZE - 1024 for _, _, raw in poison)
    expected = small_org_expected()
    publish(process.prefix, interleave(small_org_messages(), poison))

    wait_until(lambda: not documents_differences(redis_documents(process.prefix), expected["documents"]),
               180, "small-org documents despite the poison")
    dlq_size = len(poison) + expected["invalid_messages"]
    dead = []

    def all_dead_lettered() -> bool:
        dead[:] = read_topic(f"{process.prefix}.dlq", timeout=30)
        return len(dead) >= dlq_size

    wait_until(all_dead_lettered, 180, f"{dlq_size} messages in the DLQ", interval=2)
    assert len(dead) == dlq_size
    dead_poison = {m.key: m.value for m in dead if m.key and m.key.startswith(b"poison-")}
    assert dead_poison == {key: raw for _, key, raw in poison}  # each one, with its original bytes
    assert all(dict(m.headers).get("relstream.reason", b"").strip() for m in dead)
    assert process.process.poll() is None and process.ready()
    assert documents_differences(redis_documents(process.prefix), expected["documents"]) == []
