"""`relstream projection rebuild`: re-project every record from the workers' state into Redis.

For when Redis lost or garbled our keys. Nothing is replayed from the input topics: the command deletes
the per-partition markers, each worker notices within ~10 s that the markers of its partitions are gone and
rewrites all of its records, then sets them again; the command waits for that.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time

from redis.exceptions import RedisError

from relstream.projection import RedisProjection
from relstream.settings import Settings

POLL_S = 0.5
DEFAULT_WAIT_S = 120.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    rebuild = actions.add_parser("rebuild", help="rewrite every KPI document in Redis from the workers' state")
    rebuild.add_argument("--wait", type=float, default=DEFAULT_WAIT_S, metavar="S",
                         help=f"seconds to wait for the workers to finish (default {DEFAULT_WAIT_S:g})")


async def rebuild(settings: Settings, wait_s: float) -> tuple[float, set[int]]:
    """Request the rebuild and wait for it: (seconds taken, partitions still missing when the wait ended)."""
    projection = RedisProjection(settings)
    partitions = set(range(settings.partitions))
    started = time.monotonic()
    try:
        await projection.request_rebuild(settings.partitions)
        missing = partitions
        while missing and time.monotonic() - started < wait_s:
            await asyncio.sleep(POLL_S)
            missing = await projection.lost(partitions)
        return time.monotonic() - started, missing
    finally:
        await projection.close()


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    redis = settings.redis_address
    print(f"relstream projection rebuild: asking the workers of prefix {settings.topic_prefix!r} to re-project "
          f"partitions 0..{settings.partitions - 1} into Redis at {redis}", file=sys.stderr)
    try:
        elapsed, missing = asyncio.run(rebuild(settings, args.wait))
    except RedisError as exc:
        print(f"relstream projection rebuild: Redis at {redis} failed ({exc}); "
              "is it up? `relstream stack status`", file=sys.stderr)
        return 1
    if missing:
        print(f"relstream projection rebuild: timed out after {elapsed:.0f} s; partitions {sorted(missing)} were "
              f"not re-projected. Is a worker running for prefix {settings.topic_prefix!r}, and is it caught up? "
              "Check `relstream lag` and the worker log; the rebuild request stays in place, so a worker that "
              "starts later completes it.", file=sys.stderr)
        return 1
    print(f"projection rebuilt: {settings.partitions} partitions re-projected in {elapsed:.1f} s")
    return 0
