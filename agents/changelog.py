"""Table writes at batch cost: the local store directly, the changelog in one record batch per partition.

Why: `table[key] = value` costs Faust a FutureMessage, a producer-buffer round trip and two sensor
calls per key; with several writes per input event that alone capped a worker at a few hundred
events/s. Here a write sets the table's local store (what `Table.__setitem__` does besides the
changelog) and queues the changelog record; `flush()` hands the queued records to Faust's own aiokafka
producer, one record batch per changelog partition. The records are exactly what Faust would write (JSON key and value,
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
        """Hand every queued record to the producer (Faust flushes it before committing offsets).

        One record batch per changelog partition (`send_batch`): per-record `send` cost a future, a metadata
        check and a done-callback each, ~6 times per input. `send_batch` waits while that partition's previous
        batch is in flight: at most one produce round trip per stage batch."""
        if not self._pending:
            return
        # Faust's aiokafka producer (faust-streaming and aiokafka are pinned in pyproject.toml)
        producer = self.app.producer._ensure_producer()
        pending, self._pending = self._pending, defaultdict(list)
        for (topic, partition), records in pending.items():
            batch = producer.create_batch()
            for key, value in records:
                if batch.append(key=key, value=value, timestamp=None) is not None:
                    continue
                if batch.record_count():  # full: send it, start the next one with this record
                    await producer.send_batch(batch, topic, partition=partition)
                    batch = producer.create_batch()
                    if batch.append(key=key, value=value, timestamp=None) is not None:
                        continue
                await producer.send(topic, value, key=key, partition=partition)  # larger than any batch
            if batch.record_count():
                await producer.send_batch(batch, topic, partition=partition)
