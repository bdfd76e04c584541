"""`relstream api`: serve the API and dashboard with uvicorn, or hash a token for RELSTREAM_API_TOKENS."""

from __future__ import annotations

import argparse
import sys

from relstream.api.auth import hash_token


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--root-path", default="", help="path prefix when served behind a reverse proxy")
    parser.add_argument(
        "--hash-token",
        metavar="TOKEN",
        help="print the RELSTREAM_API_TOKENS entry for TOKEN ('-' reads it from stdin, keeping it out of `ps`)",
    )
    parser.add_argument("--name", default="dashboard", help="token name for --hash-token (default dashboard)")
    parser.add_argument("--scopes", default="read", help="scopes for --hash-token, '+'-separated (default read)")


def run(args: argparse.Namespace) -> int:
    if args.hash_token is not None:
        token = sys.stdin.readline().strip() if args.hash_token == "-" else args.hash_token
        if not token:
            print("relstream api --hash-token: empty token", file=sys.stderr)
            return 2
        print(f"{args.name}:{hash_token(token)}:{args.scopes}")
        return 0

    import uvicorn

    from relstream.api.app import create_app

    uvicorn.run(create_app(), host=args.host, port=args.port, root_path=args.root_path, log_level="info")
    return 0
