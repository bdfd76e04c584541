"""Poison input (issue 3): whatever bytes arrive, the validator returns an event or an InvalidEvent.

Anything else (a TypeError, a RecursionError, an OverflowError, a reason the DLQ header cannot carry)
would crash the ingest agent instead of dead-lettering one message.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings

from relstream.events import InvalidEvent, parse_message
from tests.fuzz.poison import NOW, arbitrary_messages, broken_events, edge_cases


def assert_event_or_reason(stream: str, raw: bytes | None) -> None:
    try:
        result = parse_message(raw, stream, NOW)
    except InvalidEvent as exc:
        assert isinstance(exc.reason, str) and exc.reason.strip(), f"empty reason for {raw[:80]!r}"
        exc.reason.encode()  # the worker sends it as the relstream.reason header
    else:
        assert isinstance(result, dict)


@pytest.mark.parametrize("stream, raw", edge_cases(), ids=lambda v: v if isinstance(v, str) else None)
def test_named_failure_modes(stream, raw):
    assert_event_or_reason(stream, raw)


@settings(max_examples=600, deadline=None)
@given(arbitrary_messages)
def test_arbitrary_bytes(message):
    assert_event_or_reason(*message)


@settings(max_examples=1500, deadline=None)
@given(broken_events())
def test_mutated_valid_events(message):
    assert_event_or_reason(*message)
