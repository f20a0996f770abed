"""The speed/memory benchmark runs (tiny size): figures come from the benchmark, not from tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_speed_benchmark_runs_at_a_tiny_size(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "speed.json"
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks.dedupe_speed", "--corpus", str(corpus), "--paragraphs", "1500"),
            *("--naive-sample", "100", "--rebuild", "--json", str(out)),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "speed-up vs naive" in completed.stdout
    results = json.loads(out.read_text())
    assert results["rebuild_from_sql"]["paragraphs"] == 1500
    assert results["ours_index_bytes_per_paragraph"] > 0 and results["naive_per_s"] > 0
