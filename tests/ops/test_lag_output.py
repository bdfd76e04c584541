"""`relstream lag` formatting and group selection, without Kafka."""
from __future__ import annotations

import json

from rich.console import Console

from relstream.ops import LagRow, is_ours, to_json, to_table

ROWS = [
    LagRow("relstream-worker", "relstream.activities", 0, 90, 100, 10),
    LagRow("relstream-worker", "relstream.activities", 1, None, 4, 4),  # nothing committed yet
    LagRow("relstream-worker", "relstream.by-record", 1, 7, 7, 0),
    LagRow("relstream.connector", "relstream.records", 0, 5, 5, 0),
]


def test_only_groups_of_our_prefix():
    assert is_ours("relstream-worker", "relstream") and is_ours("relstream.connector", "relstream")
    assert not is_ours("relstream2-worker", "relstream") and not is_ours("other-worker", "relstream")
    assert not is_ours("relstream", "relstream")


def test_json_has_rows_and_totals_per_group():
    groups = json.loads(to_json(ROWS))["groups"]
    assert [(g["group"], g["lag"]) for g in groups] == [("relstream-worker", 14), ("relstream.connector", 0)]
    assert groups[0]["partitions"][0] == {"group": "relstream-worker", "topic": "relstream.activities",
                                          "partition": 0, "committed": 90, "end": 100, "lag": 10}


def test_table_marks_missing_commits_and_totals_each_group():
    console = Console(width=200, record=True)
    console.print(to_table(ROWS))
    lines = [line.split() for line in console.export_text().splitlines()]
    assert ["relstream.activities", "1", "-", "4", "4"] in lines
    assert [line for line in lines if line[0] == "total"] == [["total", "14"], ["total", "0"]]


def test_table_keeps_long_names_whole():
    rows = [LagRow("t-" + "x" * 70 + "-worker", "t-" + "x" * 70 + ".by-activity", 3, 1, 2, 1)]
    console = Console(width=80, record=True)
    console.print(to_table(rows))
    text = console.export_text()
    assert text.count("x") == 140 and "-worker" in text and ".by-activity" in text  # folded, never cut
    assert "…" not in text
