"""Dedupe quality floors on the labelled set built from the corpus (benchmarks/dedupe_quality.py).

The floors are pinned here: lowering one is a visible change to this file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.corpus_bodies import Corpus
from benchmarks.dedupe_quality import score
from benchmarks.labelled import build

REPO = Path(__file__).resolve().parent.parent
FLOORS = {"paragraph": (0.98, 0.95), "story": (0.98, 0.95)}


@pytest.mark.slow
def test_engine_meets_the_floors_and_beats_both_baselines(corpus: Path, tmp_path: Path) -> None:
    labelled = build(Corpus(corpus))
    results = score(labelled, f"sqlite:///{tmp_path / 'quality.sqlite3'}")
    assert results["set"]["duplicate_blocks"] > 500 and results["set"]["duplicate_stories"] > 25
    assert "id" in results["set"]["languages"]
    for level, (precision, recall) in FLOORS.items():
        ours = results["engine"][level]
        assert ours["precision"] >= precision, (level, ours)
        assert ours["recall"] >= recall, (level, ours)
        for baseline in ("exact_hash", "trafilatura"):
            theirs = results[baseline][level]
            assert ours["recall"] > theirs["recall"], (level, baseline, theirs)
            assert ours["f1"] > theirs["f1"], (level, baseline, theirs)
    # Every case of the set is handled, the negatives included.
    cases = results["engine"]["paragraph"]["by_category"]
    assert cases["template"].get("fn", 0) == 0 and cases["headline_repeat"].get("fn", 0) == 0
    assert cases["short_line"].get("fp", 0) == 0


def test_quality_benchmark_runs_from_the_command_line(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "quality.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.dedupe_quality",
            "--corpus",
            str(corpus),
            "--limit",
            "12",
            "--json",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "para P" in completed.stdout
    results = json.loads(out.read_text())
    assert set(results) >= {"engine", "exact_hash", "trafilatura", "set"}
