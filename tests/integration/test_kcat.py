"""A Kafka client relstream did not write (kcat) publishes SPEC-conformant, bad and repeated events."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.harness import BOOTSTRAP, batch_recompute, documents_differences, read_topic, redis_documents, small_org_messages, unique_prefix, wait_until

pytestmark = pytest.mark.integration


def kcat_produce(topic: str, lines: list[bytes]) -> None:
    """One message per line, `key<TAB>value` (kcat -K), exactly the bytes given."""
    kcat = shutil.which("kcat")
    assert kcat, "kcat is installed by scripts/system-deps.sh (make test)"
    subprocess.run([kcat, "-P", "-b", BOOTSTRAP, "-t", topic, "-K", "\t"], input=b"\n".join(lines) + b"\n",
                   check=True, timeout=120)


def test_events_from_kcat_equal_a_batch_recompute(worker):
    prefix = unique_prefix("kcat")
    worker(prefix)
    usable = [(t, k, v) for t, k, v in small_org_messages() if b"\n" not in v and b"\t" not in v and k]
    garbage = [("activities", b"bad-1", b"{not json"), ("activities", b"bad-2", b'{"schema":"relstream.activity.v1"}')]
    log = usable + garbage + usable[:200]  # bad ones and a replayed head
    for topic in ("records", "activities"):
        kcat_produce(f"{prefix}.{topic}", [k + b"\t" + v for t, k, v in log if t == topic])
    expected = batch_recompute(log)
    assert len(expected) > 10
    wait_until(lambda: not documents_differences(redis_documents(prefix), expected), 180, "documents from kcat's events")
    reasons = [dict(m.headers)["relstream.reason"] for m in read_topic(f"{prefix}.dlq")]
    assert any(b"JSON" in r for r in reasons) and any(b"'op'" in r or b"required" in r for r in reasons)
