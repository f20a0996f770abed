"""The fetching benchmark runs (tiny sizes) and its figures are what they claim to be."""

from __future__ import annotations

from pathlib import Path

from benchmarks import fetching as bench


def test_fetching_benchmark_smoke(corpus: Path) -> None:
    cycles = bench.cycles(corpus, feeds=2, delay_ms=20)
    assert cycles["feeds"] == 2
    assert cycles["statuses"] == {
        "first": {"new": 2},
        "304": {"not_modified": 2},
        "same": {"unchanged": 2},
        "forced": {"unchanged": 2},
    }
    bomb = bench.bomb(8)
    # Memory, not time: the bounded decoder never holds more than the cap and a chunk's worth.
    assert bomb["ours_peak"] < 4 * 1024 * 1024 < bomb["httpx_peak"]
    text = bench.report({"cycles": cycles, "bomb": bomb})
    assert "every feed 304" in text and "bounded decoder" in text
