"""``newsdedup dupes explain``: every paragraph, caption and removal with its verdict, tier,
match and similarities, from what was stored at ingest."""

from __future__ import annotations

from pathlib import Path

import pytest
from clitools import cli_json, run_cli

from ingest.app import App

PUTIN_CAPTION = "Presiden Rusia Vladimir Putin, kanan, dan Perdana Menteri Slovakia Robert Fico"


def seed_with_near_repeat(seed_file: Path, tmp_path: Path) -> Path:
    """The seed with its repeated Putin caption given a credit at the end: a near, not exact, repeat."""
    lines = seed_file.read_text(encoding="utf-8").split("\n")
    repeats = [i for i, line in enumerate(lines) if line.startswith(PUTIN_CAPTION)]
    assert len(repeats) == 2
    lines[repeats[1]] += " (Sputnik)"
    path = tmp_path / "near-repeat.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_explain_kept_linked_and_dropped(
    app: App, seed_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = app.database_url
    copy = tmp_path / "republished.txt"
    copy.write_bytes(seed_file.read_bytes())
    near = seed_with_near_repeat(seed_file, tmp_path)
    for path, source in ((seed_file, "voa-id"), (copy, "other"), (near, "near")):
        code, _, err = run_cli(
            capsys, "--database-url", url, "ingest", str(path), "--format", "text", "--source", source
        )
        assert code == 0, err

    first = cli_json(capsys, url, "dupes", "explain", "1", "--json")
    header = first["article"]
    assert (header["id"], header["source"], header["deleted"]) == (1, "voa-id", False)
    # The two later copies joined the first one's story; it shows the most recent copy's text.
    assert (header["canonical_id"], header["is_canonical"], header["merged_here"]) == (1, True, [2, 3])
    assert header["text_from"] == 3 and header["story"] is None
    paragraphs = first["paragraphs"]
    assert len(paragraphs) == 25
    assert {p["verdict"] for p in paragraphs} == {"kept"}
    for paragraph in paragraphs:
        assert paragraph["tier"] is None and paragraph["match"] is None
        # The republished copy links every paragraph here; the near variant links all but the caption.
        assert {"article_id": 2, "position": paragraph["position"]} in paragraph["copies"]
    removed = {r["reason"]: r for r in first["removed"]}
    assert removed["site_chrome"]["tier"] == "boilerplate" and removed["site_chrome"]["text"] == "Breaking News"
    assert removed["dangling_label"]["tier"] == "boilerplate" and removed["dangling_label"]["text"] == "Sumber"
    assert removed["repeated_title"]["tier"] == "title"
    assert removed["repeated_title"]["similarity"]["exact_jaccard"] == 1.0
    caption = removed["repeated_caption"]
    putin_position = next(p["position"] for p in paragraphs if p["text"].startswith(PUTIN_CAPTION))
    assert caption["tier"] == "exact" and caption["verdict"] == "dropped"
    assert caption["match"]["article_id"] == 1 and caption["match"]["position"] == putin_position
    assert caption["similarity"]["exact_jaccard"] == 1.0 and caption["similarity"]["estimated_jaccard"] == 1.0

    second = cli_json(capsys, url, "dupes", "explain", "2", "--json")
    assert (second["article"]["canonical_id"], second["article"]["is_canonical"]) == (1, False)
    assert second["article"]["story"]["matched_article_id"] == 1
    assert second["article"]["story"]["jaccard"] == 1.0
    for paragraph in second["paragraphs"]:
        assert paragraph["verdict"] == "linked" and paragraph["tier"] == "exact"
        assert (paragraph["match"]["article_id"], paragraph["match"]["position"]) == (1, paragraph["position"])
        assert paragraph["match"]["text"] == paragraph["text"]
        assert paragraph["similarity"]["exact_jaccard"] == 1.0
        assert paragraph["similarity"]["estimated_jaccard"] == 1.0
        assert paragraph["similarity"]["recorded"] == 1.0

    third = cli_json(capsys, url, "dupes", "explain", "3", "--json")
    near_caption = next(r for r in third["removed"] if r["reason"] == "repeated_caption")
    assert near_caption["tier"] == "near"
    assert near_caption["text"].endswith("(Sputnik)")
    assert near_caption["match"]["text"].startswith(PUTIN_CAPTION)
    exact = near_caption["similarity"]["exact_jaccard"]
    estimate = near_caption["similarity"]["estimated_jaccard"]
    assert 0.8 <= exact < 1.0
    assert near_caption["similarity"]["recorded"] == pytest.approx(exact, abs=1e-4)
    assert abs(estimate - exact) < 0.15  # 128 permutations: standard error about 0.03

    code, out, err = run_cli(capsys, "--database-url", url, "dupes", "explain", "2")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("article 2: ")
    assert "canonical: article 1 (this article is a copy of its story)" in out
    assert "story match: article 1, body 5-gram Jaccard 1.00" in out
    row = next(line for line in lines if line.lstrip().startswith("0  body"))
    assert row.split()[:9] == ["0", "body", "linked", "exact", "article", "1", "#0", "1.000", "1.000"]
    code, out, _ = run_cli(capsys, "--database-url", url, "dupes", "explain", "3")
    near_row = next(line for line in out.splitlines() if "repeated_caption" in line)
    assert near_row.split()[2:6] == ["near", "this", "article", f"#{putin_position}"]


def test_explain_unknown_article_is_one_line_error(sqlite_app: App, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "--database-url", sqlite_app.database_url, "dupes", "explain", "42")
    assert code == 1 and out == ""
    assert err == "newsdedup: error: article 42 not found\n"
