"""Connector state: journalled until commit, durable in a file (atomic replace) or in Redis."""
from __future__ import annotations

import os
import uuid

import orjson
import pytest
import redis.asyncio as redis

from relstream.connectors.checkpoints import FileStore, RedisStore, State, open_store
from tests.harness import track_prefix

REDIS_URL = os.environ.get("RELSTREAM_REDIS_URL", "redis://localhost:6379/0")


async def test_changes_are_visible_at_once_but_durable_only_after_commit(tmp_path):
    path = tmp_path / "state.json"
    state = await State.load(FileStore(str(path), "dynamics"))
    state.put("links", "emails", {"delta": "https://x/emails?$deltatoken=1", "next": None})
    assert state.claim_version("e-1", 10) == 10
    assert state.get("links", "emails")["delta"].endswith("=1") and not path.exists()
    await state.commit()
    reloaded = await State.load(FileStore(str(path), "dynamics"))
    assert reloaded.get("versions", "e-1") == 10
    assert reloaded.claim_version("e-1", 5) == 11  # never below what was published
    assert reloaded.claim_version("e-1", 0) == 12  # a delete, which carries no version of its own
    assert reloaded.claim_version("e-1", 99) == 99
    reloaded.drop("links", "emails")
    await reloaded.commit()
    assert orjson.loads(path.read_bytes()) == {"dynamics": {"links": {}, "versions": {"e-1": 99}}}


async def test_two_connectors_share_one_file_without_losing_each_others_state(tmp_path):
    path = str(tmp_path / "shared.json")
    dynamics = await State.load(FileStore(path, "dynamics"))
    exchange = await State.load(FileStore(path, "exchange"))
    dynamics.put("rows", "emails:1", "email-a")
    exchange.put("rows", "m:anna:inbox:1", "email-a")
    await dynamics.commit()
    await exchange.commit()
    assert orjson.loads((tmp_path / "shared.json").read_bytes()) == {
        "dynamics": {"rows": {"emails:1": "email-a"}}, "exchange": {"rows": {"m:anna:inbox:1": "email-a"}}}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.json", "shared.json.lock"]  # no temp files left


async def test_a_failed_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    state = await State.load(FileStore(str(path), "dynamics"))
    state.put("versions", "e-1", 1)
    await state.commit()
    before = path.read_bytes()

    def crash(*args):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", crash)
    state.put("versions", "e-1", 2)
    with pytest.raises(OSError):
        await state.commit()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "state.json.lock"]


def test_store_is_chosen_by_the_setting():
    assert isinstance(open_store("redis://localhost:6379/0", "p", "dynamics"), RedisStore)
    assert isinstance(open_store("/var/lib/relstream/state.json", "p", "dynamics"), FileStore)


@pytest.mark.integration
async def test_redis_store_round_trip(stack):
    prefix = track_prefix(f"t-conn-{uuid.uuid4().hex[:8]}")
    store = RedisStore(REDIS_URL, prefix, "exchange")
    try:
        state = await State.load(store)
        state.put("links", "events:anna", {"delta": "https://graph/delta?$deltatoken=a", "next": None})
        state.put("rows", "e:anna:1", "UID-1")
        state.put("rows", "e:anna:2", "UID-2")
        await state.commit()
        state.drop("rows", "e:anna:1")
        await state.commit()
        reloaded = await State.load(RedisStore(REDIS_URL, prefix, "exchange"))
        assert reloaded.section("rows") == {"e:anna:2": "UID-2"}
        assert reloaded.get("links", "events:anna")["delta"].endswith("=a")
    finally:
        client = redis.from_url(REDIS_URL)
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
        await store.close()
