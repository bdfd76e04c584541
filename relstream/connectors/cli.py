"""`relstream connect dynamics|exchange [--once] [--interval S]`.

Exit codes: 0 a `--once` sync completed (or polling stopped by a signal), 1 a `--once` sync failed,
2 configuration error. In polling mode a failed sync is logged and retried at the next interval.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import signal
import sys

from aiokafka.errors import KafkaError

from relstream.connectors.config import ConfigError, ConnectorConfig
from relstream.settings import Settings

log = logging.getLogger("relstream.connectors")
CONNECTORS = {"dynamics": "relstream.connectors.dynamics", "exchange": "relstream.connectors.exchange"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("connector", choices=sorted(CONNECTORS), help="the system to read")
    parser.add_argument("--once", action="store_true", help="run one incremental sync, then exit")
    parser.add_argument("--interval", type=float, default=60.0, metavar="S",
                        help="seconds between syncs when polling (default 60)")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    # The first send to a new topic auto-creates it; aiokafka reports that as an ERROR. It is not one.
    logging.getLogger("aiokafka.cluster").addFilter(lambda r: "not found in cluster metadata" not in r.getMessage())
    try:
        config = ConnectorConfig.from_env()
        settings = Settings.from_env()
        return asyncio.run(_main(args, config, settings))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except KafkaError as exc:
        print(f"kafka at {Settings.from_env().kafka_bootstrap}: {exc}", file=sys.stderr)
        return 1


async def _main(args: argparse.Namespace, config: ConnectorConfig, settings: Settings) -> int:
    module = importlib.import_module(CONNECTORS[args.connector])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with module.open_connector(config, settings) as sync_once:
        while True:
            task = asyncio.ensure_future(sync_once())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if stop.is_set():
                task.cancel()  # the page in flight is not checkpointed: the next run re-sends it
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                log.info("%s connector stopped", args.connector)
                return 0
            if task.exception() is not None:
                log.error("%s sync failed: %s", args.connector, task.exception(),
                          exc_info=task.exception() if args.once else None)
                if args.once:
                    return 1
            elif args.once:
                return 0
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=args.interval)
            if stop.is_set():
                return 0
