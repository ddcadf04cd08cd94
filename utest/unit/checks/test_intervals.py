"""``utest/intervals.py``: the union length the performance checks compare delays with."""

from __future__ import annotations

from utest.intervals import union_length


def test_union_length_counts_overlaps_once() -> None:
    assert union_length([(0, 2), (1, 3), (5, 6)]) == 4


def test_union_length_clips_to_the_window() -> None:
    assert union_length([(0, 2), (1, 3), (5, 6)], 0.5, 5.5) == 3.0
