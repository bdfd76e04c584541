"""`python -m tests.faulty_worker worker`: the real worker, whose record stage raises once.

What a bug in a handler does to a running worker (test_faults.py): the first record-stage message for an
account raises; a marker file (RELSTREAM_TEST_FAULT_MARKER) makes it happen only once across restarts.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import agents.app
from relstream.cli import main

MARKER = Path(os.environ["RELSTREAM_TEST_FAULT_MARKER"])
handle_record_stage = agents.app.handle_record_stage


def failing_once(store, key: str, message: dict):
    if key.startswith("account:") and not MARKER.exists():
        MARKER.write_text(key)
        raise RuntimeError(f"injected fault on {key}")
    return handle_record_stage(store, key, message)


agents.app.handle_record_stage = failing_once
if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
