"""The `relstream` command: one entry point, one sub-command per job, each implemented in its own module."""
from __future__ import annotations

import argparse
import importlib
import sys

# sub-command -> (module, help). Each module exposes `add_arguments(parser)` and `run(args) -> int`.
COMMANDS: dict[str, tuple[str, str]] = {
    "stack": ("relstream.stack", "start, stop or inspect the local Kafka (KRaft) and Redis"),
    "worker": ("agents.app", "run the stream processor (any number of instances)"),
    "demo-data": ("relstream.demo", "publish a synthetic organisation's activities to Kafka"),
    "api": ("relstream.api.server", "serve the HTTP read API and the web dashboard"),
    "connect": ("relstream.connectors.cli", "sync Dynamics 365 or Exchange Online into Kafka"),
    "lag": ("relstream.ops", "show consumer lag per topic/partition for relstream's consumer groups"),
    "projection": ("relstream.rebuild", "projection maintenance (rebuild Redis from the worker's state)"),
    "demo": ("relstream.demo_run", "one command: stack, worker, API and a live demo organisation"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="relstream", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = argv[0] if argv and not argv[0].startswith("-") else None
    for name, (module_name, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text)
        if name == wanted:  # import only what runs: keeps `relstream stack` free of Faust's start-up cost
            module = importlib.import_module(module_name)
            module.add_arguments(command)
            command.set_defaults(_run=module.run)
    args = parser.parse_args(argv)
    return int(args._run(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
