"""The extraction benchmark: pinned floors on every page with an expected output, and a smoke run.

The floors are the figures of ``python -m benchmarks.extraction`` rounded down; a change that
lowers one fails here (raise a floor when the extractor gets better, never lower it quietly).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import extraction as bench

FLOORS = {
    "all": {"f1": 0.96, "precision": 0.96, "recall": 0.97},
    "en": {"f1": 0.965},
    "id": {"f1": 0.935},
    "others": {"f1": 0.97},
}
CAPTION_RECALL_FLOOR = 0.95
WITH_SNIPPETS_FLOOR = 0.95
WITHOUT_SNIPPETS_FLOOR = 0.87


@pytest.fixture(scope="module")
def scores(corpus: Path) -> list[bench.CaseScore]:
    cases = bench.load_cases(corpus)
    assert len(cases) >= 120, "the corpus lost pages with expected outputs"
    ours = bench.newsdedup_extractor()
    return [bench.score(case, bench.timed(ours, case)) for case in cases]


def test_body_f1_floors(scores: list[bench.CaseScore]) -> None:
    rows = {"all": scores, **{g: [s for s in scores if s.group == g] for g in ("en", "id", "others")}}
    for name, floors in FLOORS.items():
        summary = bench.summarise(rows[name])
        for metric, floor in floors.items():
            value = getattr(summary, metric)
            assert value >= floor, f"{name} body {metric} {value:.3f} fell below its floor {floor}"


def test_captions_found_once_each(scores: list[bench.CaseScore]) -> None:
    summary = bench.summarise(scores)
    assert summary.captions_total >= 50
    assert summary.caption_recall is not None and summary.caption_recall >= CAPTION_RECALL_FLOOR
    duplicated = [s.name for s in scores if s.duplicates]
    assert duplicated == [], f"blocks repeated within one output: {duplicated}"


def test_trafilatura_evaluation_snippets(scores: list[bench.CaseScore]) -> None:
    summary = bench.summarise([s for s in scores if s.family == "trafilatura"])
    assert summary.snippet_pages >= 20
    assert summary.with_found >= WITH_SNIPPETS_FLOOR
    assert summary.without_absent >= WITHOUT_SNIPPETS_FLOOR


def test_no_page_fails(scores: list[bench.CaseScore]) -> None:
    assert [(s.name, s.error) for s in scores if s.error] == []


def test_benchmark_runs_and_prints_table_and_json(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    code = bench.main(["--corpus", str(corpus), "--only", "fundus__us__VoiceOfAmerica", "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "ours P" in printed and "traf P" in printed
    summary = json.loads(printed.strip().splitlines()[-1])
    assert summary["ours"]["all"]["pages"] == 1 and summary["trafilatura"]["all"]["pages"] == 1
    assert summary["ours"]["all"]["caption_recall"] == 1.0
    assert "ours / traf" in printed and "load average" in printed
    speed = summary["speed"]
    assert speed["pages"] == 1 and len(speed["load_average"]) == 3
    for key in ("ours_seconds", "ours_cpu_seconds", "trafilatura_seconds", "trafilatura_cpu_seconds"):
        assert speed[key] > 0, key
    assert speed["ratio_cpu"] == speed["ours_cpu_seconds"] / speed["trafilatura_cpu_seconds"]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["pages"][0]["ours"]["name"] == "fundus__us__VoiceOfAmerica_2024_04_28"


def test_scoring_is_token_level() -> None:
    precision, recall, f1 = bench.prf("the cat sat on the mat", "the cat sat")
    assert (round(precision, 3), recall) == (0.5, 1.0) and round(f1, 3) == 0.667
    # Scripts without spaces are scored per character.
    assert bench.tokens("武汉的声音") == ["武", "汉", "的", "声", "音"]
    assert bench.duplicated_blocks(["A paragraph.", "a   PARAGRAPH", "Another."]) == 1
