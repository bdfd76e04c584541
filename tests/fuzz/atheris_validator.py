"""Coverage-guided fuzzing of the validator with atheris (libFuzzer), for longer runs than the test suite's.

    .venv/bin/pip install atheris
    .venv/bin/python tests/fuzz/atheris_validator.py -max_total_time=60 [CORPUS_DIR ...]

The first input byte picks the topic, the rest is the message. Without a corpus directory the demo events
and the named edge cases of poison.py seed a new temporary folder (under $TMPDIR; libFuzzer adds what it
finds there), so mutation starts from realistic events.
A crash is any exception other than InvalidEvent, or a reason the DLQ header could not carry.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: make `tests.` importable

with atheris.instrument_imports():
    from relstream.events import InvalidEvent, parse_message

from tests.fuzz.poison import NOW, STREAMS, VALID, edge_cases  # noqa: E402

MAX_SEED_BYTES = 64 * 1024  # larger seeds would raise libFuzzer's -max_len and slow every run


def one_input(data: bytes) -> None:
    stream = STREAMS[data[0] % len(STREAMS)] if data else STREAMS[0]
    try:
        result = parse_message(data[1:], stream, NOW)
    except InvalidEvent as exc:
        if not exc.reason.strip():
            raise AssertionError("InvalidEvent without a reason") from exc
        exc.reason.encode()
        return
    if not isinstance(result, dict):
        raise AssertionError(f"parse_message returned {type(result).__name__}")


def seed_corpus() -> str:
    folder = Path(tempfile.mkdtemp(prefix="relstream-fuzz-corpus-"))
    seeds = [(m.topic, m.value) for m in VALID] + [(s, raw) for s, raw in edge_cases() if raw is not None]
    for index, (stream, raw) in enumerate(seeds):
        if len(raw) < MAX_SEED_BYTES:
            (folder / f"seed-{index:04d}").write_bytes(bytes([STREAMS.index(stream)]) + raw)
    return str(folder)


def main() -> None:
    argv = list(sys.argv)
    if not any(not arg.startswith("-") for arg in argv[1:]):
        argv.append(seed_corpus())
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
