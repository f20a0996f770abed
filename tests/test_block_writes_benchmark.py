"""The block-writes benchmark at a tiny size: both variants write what they say, with the schema they say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import block_writes


def test_block_writes_times_both_variants_on_the_real_schema(tmp_path: Path) -> None:
    report = block_writes.run([10, 60], commits=2, directory=tmp_path)
    results = report["results"]
    assert [(r["hash_index"], r["size"]) for r in results] == [(True, 10), (True, 60), (False, 10), (False, 60)]
    for result in results:
        articles = result["size"] + 2 * block_writes.ARTICLES_PER_COMMIT
        assert result["articles_timed"] == 2 * block_writes.ARTICLES_PER_COMMIT
        assert result["blocks_stored"] == articles * block_writes.BLOCKS_PER_ARTICLE
        # About three blocks in ten link to an earlier article, as the workload's copies do.
        assert 0.2 < result["blocks_linked"] / result["blocks_stored"] < 0.4
        # The migrated schema, less the hash index in the second variant and only there.
        assert (block_writes.HASH_INDEX in result["indexes"]) is result["hash_index"]
        assert "ix_article_paragraphs_duplicate_of_article_id" in result["indexes"]
        assert result["both_cpu_ms"] > 0 and result["commits"]["wall_ms"] > 0
    assert set(report["growth_cpu_ms"]) == {"with_hash_index", "without_hash_index"}
    assert list(tmp_path.iterdir()) == []  # the stores are removed


def test_block_writes_command_prints_and_keeps_its_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "blocks.json"
    assert block_writes.main(["--sizes", "5", "--commits", "1", "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [(r["hash_index"], r["blocks_stored"]) for r in report["results"]] == [(True, 55 * 16), (False, 55 * 16)]
    printed = capsys.readouterr().out
    assert "growth from the smallest to the largest store" in printed and "     5 " in printed
