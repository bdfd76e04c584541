"""Stage messages travel in envelopes: one Kafka message carries many (key, message) items of one partition.

Why: every input fans out to about eight stage messages; as single Kafka messages each paid Faust's
per-event cost (and the prometheus sensor's), which bounded a worker to a few hundred inputs/s. An
envelope holds the items of one destination partition in send order, so per-key order (all the
exactness argument needs) is exactly what single messages gave.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable, Iterator

import orjson

ENVELOPE_TARGET_BYTES = 512 * 1024  # well under the stage topics' max.message.bytes


def pack(items: Iterable[tuple[str, dict]], target_bytes: int = ENVELOPE_TARGET_BYTES) -> Iterator[bytes]:
    """JSON arrays of `[key, message]` of at most `target_bytes` each (one oversized item travels alone)."""
    parts: list[bytes] = []
    size = 0
    for key, message in items:
        part = orjson.dumps([key, message])
        if parts and size + len(part) + 1 > target_bytes:
            yield b"[" + b",".join(parts) + b"]"
            parts, size = [], 0
        parts.append(part)
        size += len(part) + 1
    if parts:
        yield b"[" + b",".join(parts) + b"]"


def unpack(value: bytes) -> list[list]:
    """The `[key, message]` pairs of an envelope, in send order."""
    return orjson.loads(value)


def by_partition(
    sends: Iterable[tuple[str, str, dict]], partition_of: Callable[[str], int],
) -> dict[tuple[str, int], list[tuple[str, dict]]]:
    """Group (stage, key, message) by (stage, destination partition), keeping the send order."""
    groups: dict[tuple[str, int], list[tuple[str, dict]]] = defaultdict(list)
    for stage, key, message in sends:
        groups[(stage, partition_of(key))].append((key, message))
    return groups
