"""Poison input for the validator: arbitrary bytes, and valid events broken the ways real producers break them.

One source for the hypothesis property test, the atheris harness (its seed corpus) and the integration test
that feeds poison to a real worker, so all three exercise the same failure modes.
"""
from __future__ import annotations

import copy
from functools import reduce
from operator import getitem

import orjson
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from relstream.demo import generate_organisation
from relstream.events import MAX_MESSAGE_BYTES, InvalidEvent, parse_message
from relstream.timeutil import parse_timestamp
from tests.harness import FROZEN_NOW

NOW = parse_timestamp(FROZEN_NOW)  # the clock the worker under test is frozen at
VALID = generate_organisation(seed=1, accounts=2, days=10, end=NOW)
STREAMS = ("activities", "records")
OVERSIZE = MAX_MESSAGE_BYTES + 200 * 1024  # ~1.2 MiB: over the validator's limit, under the broker's 4 MiB
TIMESTAMP_FIELDS = ("occurred_at", "at", "created_at", "closed_at")
_HOLE = "@@relstream-fuzz-hole@@"  # stands for a raw JSON literal that orjson.dumps cannot produce

# Literal text where a JSON value belongs: non-standard numbers, integers past 64 bits, nesting past any
# parser's recursion limit, strings that are not UTF-8 or hold lone surrogates, and plain syntax errors.
RAW_LITERALS = (
    b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999", b"1e-400",
    str(10**30).encode(), str(-(10**30)).encode(), str(2**64).encode(), str(-(2**63) - 1).encode(),
    b"[" * 2000 + b"]" * 2000, b'{"a":' * 2000 + b"1" + b"}" * 2000, b"[" * 1000 + b"]" * 1000,
    b'"\xff\xfe"', b'"\xc0\xaf"', b'"\xed\xa0\x80"', b'"caf\xe9"', b'"\\ud800"', b'"\\udc00x"',
    b"'single quoted'", b"undefined", b"", b"01", b"+1", b"0x10", b'"unterminated',
)
EDGE_TIMESTAMPS = (
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
    "2200-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-20T24:00:00Z", "2026-11-20T12:00:60Z",
    "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2026-11-20T12:00:00+24:00",
    "2026-11-20", "2026-11-20T12:00:00", "2026-11-20T12:00:00." + "9" * 60 + "Z", "2099-01-01T00:00:00Z",
)


# ----- mutations: plain functions, so edge cases and strategies break events the same way ---------------
def paths(value, prefix: tuple = ()) -> list[tuple]:
    """Every place in a decoded JSON value, the root included."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += paths(item, prefix + (index,))
    return out


def replace_at(obj, path: tuple, value):
    if not path:
        return value
    changed = copy.deepcopy(obj)
    reduce(getitem, path[:-1], changed)[path[-1]] = value
    return changed


def drop_at(obj, path: tuple):
    changed = copy.deepcopy(obj)
    del reduce(getitem, path[:-1], changed)[path[-1]]
    return changed


def with_literal(obj, path: tuple, literal: bytes) -> bytes:
    """`obj` as JSON with `literal` spliced in verbatim at `path`."""
    return orjson.dumps(replace_at(obj, path, _HOLE)).replace(orjson.dumps(_HOLE), literal, 1)


def valid_event(stream: str) -> dict:
    return orjson.loads(next(m.value for m in VALID if m.topic == stream))


def edge_cases() -> list[tuple[str, bytes | None]]:
    """Each named failure mode once per stream: what the issue lists must be covered on every run."""
    cases: list[tuple[str, bytes | None]] = [(stream, None) for stream in STREAMS]
    for stream in STREAMS:
        event = valid_event(stream)
        timestamp_field = "occurred_at" if stream == "activities" else "created_at"
        cases += [(stream, with_literal(event, ("version",), literal)) for literal in RAW_LITERALS]
        cases += [(stream, orjson.dumps(replace_at(event, (timestamp_field,), text))) for text in EDGE_TIMESTAMPS]
        cases += [(stream, orjson.dumps(drop_at(event, (name,)))) for name in ("schema", "id", "version", "op")]
        cases += [
            (stream, orjson.dumps(replace_at(event, ("name" if stream == "records" else "subject",), "x" * OVERSIZE))),
            (stream, orjson.dumps(replace_at(event, ("version",), str(event["version"])))),
            (stream, orjson.dumps(replace_at(event, ("id",), 12345))),
            (stream, orjson.dumps([event])),
            (STREAMS[1 - STREAMS.index(stream)], orjson.dumps(event)),  # a valid event on the wrong topic
            (stream, b"\xff" + orjson.dumps(event)),
            (stream, orjson.dumps(event)[:-1]),
        ]
    return cases


def is_poison(stream: str, raw: bytes | None) -> bool:
    """What the worker, frozen at FROZEN_NOW, must dead-letter."""
    try:
        parse_message(raw, stream, NOW)
    except InvalidEvent:
        return True
    return False


# ----- hypothesis strategies ---------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
timestamps = st.sampled_from(EDGE_TIMESTAMPS) | st.builds(
    lambda moment, offset: moment.isoformat() + offset,
    st.datetimes(), st.sampled_from(("Z", "z", "+00:00", "-23:59", "+14:00", "")),
)


@st.composite
def _mutated_object(draw, obj):
    """One object-level mutation: drop a field, retype a value, bend a timestamp or blow up the size."""
    places = paths(obj)
    mutation = draw(st.sampled_from(("drop", "retype", "timestamp", "oversize")))
    if mutation == "drop" and len(places) > 1:
        return drop_at(obj, draw(st.sampled_from(places[1:])))
    if mutation == "timestamp" and isinstance(obj, dict):
        return replace_at(obj, (draw(st.sampled_from(TIMESTAMP_FIELDS)),), draw(timestamps))
    if mutation == "oversize":
        size = draw(st.sampled_from((OVERSIZE, MAX_MESSAGE_BYTES - 1024)))  # over, and just under, the limit
        return replace_at(obj, draw(st.sampled_from(places)), "x" * size)
    return replace_at(obj, draw(st.sampled_from(places)), draw(json_values))


@st.composite
def _mutated_bytes(draw, raw: bytes) -> bytes:
    """One byte-level mutation: truncation or overwritten bytes (invalid UTF-8 and broken syntax)."""
    if draw(st.booleans()):
        return raw[:draw(st.integers(0, len(raw)))]
    data = bytearray(raw)
    for position, byte in draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)), max_size=4)):
        data[position] = byte
    return bytes(data)


@st.composite
def broken_events(draw) -> tuple[str, bytes]:
    """A valid demo event after 0-3 object mutations, maybe a raw literal, maybe byte damage; sometimes on
    the wrong topic. Unmutated events stay in the mix: the property holds for valid input too."""
    message = draw(st.sampled_from(VALID))
    stream = draw(st.sampled_from(STREAMS)) if draw(st.integers(0, 9)) == 0 else message.topic
    obj = orjson.loads(message.value)
    for _ in range(draw(st.integers(0, 3))):
        obj = draw(_mutated_object(obj))
    if draw(st.integers(0, 2)) == 0:
        raw = with_literal(obj, draw(st.sampled_from(paths(obj))), draw(st.sampled_from(RAW_LITERALS)))
    else:
        raw = orjson.dumps(obj)
    if raw and draw(st.integers(0, 3)) == 0:
        raw = draw(_mutated_bytes(raw))
    return stream, raw


arbitrary_messages = st.tuples(st.sampled_from(STREAMS), st.binary(max_size=2048))
poison_messages = (arbitrary_messages | broken_events()).filter(lambda message: is_poison(*message))


def sample(strategy, count: int) -> list:
    """`count` distinct values drawn by hypothesis itself (derandomised: the same list on every run).
    Twice as many draws as wanted, as hypothesis repeats itself; fewer only if a strategy is that small."""
    found: dict = {}  # insertion-ordered set

    @settings(max_examples=2 * count, database=None, derandomize=True, phases=[Phase.generate], deadline=None,
              suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(strategy)
    def collect(value):
        found[value] = None

    collect()
    return list(found)[:count]
