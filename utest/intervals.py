"""Lengths of time covered by intervals: how the performance checks (``utest/system/performance``,
``benchmarks/kit_overhead.py``) compare the simulator's deliberate delays with what a run drew."""

from __future__ import annotations

from collections.abc import Iterable


def union_length(
    intervals: Iterable[tuple[float, float]],
    start: float = float("-inf"),
    end: float = float("inf"),
) -> float:
    """Total length covered by ``intervals``, each clipped to ``[start, end]`` (overlaps once).

    >>> union_length([(0, 2), (1, 3), (5, 6)], 0.5, 5.5)
    3.0
    """
    clipped = sorted((max(a, start), min(b, end)) for a, b in intervals if b > start and a < end)
    total, reach = 0.0, start
    for low, high in clipped:
        begin = max(low, reach)
        if high > begin:
            total += high - begin
            reach = high
    return total
