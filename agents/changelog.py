"""Table writes at batch cost: the local store directly, the changelog in one record batch per partition.

Why: `table[key] = value` costs Faust a FutureMessage, a producer-buffer round trip and two sensor
calls per key; with several writes per input event that alone capped a worker at a few hundred
events/s. Here a write sets the table's local store (what `Table.__setitem__` does besides the
changelog) and queues the changelog record; `flush()` appends the queued records to aiokafka record
batches of Faust's own producer. The records are exactly what Faust would write (JSON key and value,
the table's changelog topic, the partition of the event being processed), so Faust's recovery and
standbys read them as usual, and because they go through Faust's producer, the producer flush Faust
does before every offset commit covers them: no offset is committed before its state changes are.
"""
from __future__ import annotations

from collections import defaultdict

import orjson


class ChangelogWriter:
    def __init__(self, app):
        self.app = app
        self._pending: dict[tuple[str, int], list[tuple[bytes, bytes]]] = defaultdict(list)

    def set(self, table, key: str, value, partition: int) -> None:
        table.data[key] = value
        topic = table.changelog_topic.get_topic_name()
        self._pending[(topic, partition)].append((orjson.dumps(key), orjson.dumps(value)))

    async def flush(self) -> None:
        """Hand every queued record to the producer (Faust flushes it before committing offsets)."""
        if not self._pending:
            return
        # Faust's aiokafka producer (faust-streaming and aiokafka are pinned in pyproject.toml).
        producer = self.app.producer._ensure_producer()
        pending, self._pending = self._pending, defaultdict(list)
        for (topic, partition), records in pending.items():
            batch = producer.create_batch()
            for key, value in records:
                if batch.append(timestamp=None, key=key, value=value) is None:  # batch full
                    await producer.send_batch(batch, topic, partition=partition)
                    batch = producer.create_batch()
                    batch.append(timestamp=None, key=key, value=value)
            await producer.send_batch(batch, topic, partition=partition)
