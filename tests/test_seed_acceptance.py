"""The seed story, through the real CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.cli import main

SEED_FIRST = "Pasukan Korea Utara menderita banyak korban di garis depan"
SEED_LAST = "VOA tidak dapat memverifikasi laporan Rusia tersebut."
TITLE = "Pasukan Korea Utara menderita banyak korban di front Ukraina"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def seed_story_paragraphs(seed_file: Path) -> list[str]:
    """The seed's story paragraphs, read from the seed itself: everything between the second
    headline and the credit line that is not a caption."""
    blocks = [b.strip() for b in seed_file.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    start = blocks.index(next(b for b in blocks if b.startswith(SEED_FIRST)))
    end = blocks.index(SEED_LAST)
    captions = {b for b in blocks if b.startswith("FILE –") or ", kanan," in b}
    return [b for b in blocks[start : end + 1] if b not in captions]


def test_seed_comes_out_clean(database_url: str, seed_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--database-url", database_url, "db", "upgrade")
    assert code == 0, out
    code, out, err = run_cli(
        capsys, "--database-url", database_url, "ingest", str(seed_file), "--format", "text", "--source", "voa-id"
    )
    assert code == 0, err
    assert out.startswith("created article "), out
    article_id = int(out.split()[2].rstrip(":"))

    code, out, err = run_cli(capsys, "--database-url", database_url, "articles", "show", str(article_id), "--json")
    assert code == 0, err
    article = json.loads(out)

    assert article["title"] == TITLE
    assert article["source"] == "voa-id"
    assert article["canonical_id"] == article["id"] == article_id
    body = article["body"]
    assert len(body) == 23
    assert body[0].startswith(SEED_FIRST)
    assert body[-1] == SEED_LAST
    assert body == seed_story_paragraphs(seed_file)
    assert TITLE not in body

    assert len(article["captions"]) == 2
    assert article["captions"][0].startswith("FILE – Menteri Luar Negeri Slovakia dan Eropa Juraj Blanar")
    assert article["captions"][1].startswith("Presiden Rusia Vladimir Putin, kanan, dan Perdana Menteri Slovakia")

    assert article["credit"].startswith("Beberapa informasi untuk laporan ini berasal dari The Associated Press")
    assert article["agencies"] == ["AP", "AFP", "Reuters"]
    assert not any(p.startswith("Beberapa informasi") for p in article["body"])

    removed = {(r["text"], r["reason"]) for r in article["removed"]}
    assert ("Breaking News", "site_chrome") in removed
    assert (TITLE, "repeated_title") in removed
    assert ("Sumber", "dangling_label") in removed
    putin = "Presiden Rusia Vladimir Putin, kanan"
    assert any(reason == "repeated_caption" and text.startswith(putin) for text, reason in removed)
    assert all(r["reason"] for r in article["removed"])

    # Paragraph records: kinds in document order, captions where they stood in the story.
    kinds = [p["kind"] for p in article["paragraphs"]]
    assert kinds.count("body") == 23 and kinds.count("caption") == 2
    assert kinds.index("caption") == 11  # the Blanar file photo, after the 11th story paragraph
    assert all(p["duplicate_of"] is None for p in article["paragraphs"])

    # The same file again: nothing new.
    code, out, _ = run_cli(
        capsys, "--database-url", database_url, "ingest", str(seed_file), "--format", "text", "--source", "voa-id"
    )
    assert code == 0
    assert out.startswith(f"unchanged article {article_id}:"), out
    code, out, _ = run_cli(capsys, "--database-url", database_url, "export")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["seq"] for line in lines] == [1]
    assert lines[0]["id"] == article_id and lines[0]["body"] == body


def test_second_copy_links_its_paragraphs_to_the_first(
    database_url: str, seed_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(capsys, "--database-url", database_url, "db", "upgrade")[0] == 0
    copy = tmp_path / "republished.txt"
    copy.write_bytes(seed_file.read_bytes())
    run_cli(capsys, "--database-url", database_url, "ingest", str(seed_file), "--format", "text", "--source", "voa-id")
    code, out, _ = run_cli(
        capsys, "--database-url", database_url, "ingest", str(copy), "--format", "text", "--source", "other"
    )
    assert code == 0 and out.startswith("created article 2"), out
    code, out, _ = run_cli(capsys, "--database-url", database_url, "articles", "show", "2", "--json")
    second = json.loads(out)
    links = [p["duplicate_of"] for p in second["paragraphs"]]
    assert links == [{"article_id": 1, "position": i} for i in range(25)]
