"""The change log is the downstream contract: ``export --since-seq N`` never skips or repeats an
event, even while other processes create, update and delete articles."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from clitools import REPO, cli_command, cli_env, export_lines, rules_without_chrome_line, run_cli
from sqlalchemy import func, select

from ingest.app import App
from store.models import ArticleChange

FEEDS = [
    "fastfeedparser__npr-world.xml",
    "fastfeedparser__bbc-news-world.xml",
    "fastfeedparser__dawn-world.xml",
    "fastfeedparser__japantoday-world.xml",
]


def writer(url: str, script: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["bash", "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=cli_env(), cwd=REPO,
    )


def test_export_since_seq_is_gapless_while_others_write(
    app: App, corpus: Path, seed_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = app.database_url
    copies = []
    for index in range(12):
        copy = tmp_path / f"copy-{index:02d}.txt"
        copy.write_bytes(seed_file.read_bytes())
        copies.append(str(copy))
    old_rules = rules_without_chrome_line(tmp_path)

    def cli(*args: str) -> str:
        return " ".join(f"'{part}'" for part in cli_command(url, *args))

    feeds = [str(corpus / "feeds" / name) for name in FEEDS]
    # Creates from feeds; creates then updates (reingest under new rules, plus many rolled-back
    # no-op transactions that reserve and release sequence numbers); a delete.
    writers = [
        writer(url, cli("ingest", *feeds, "--source", "wire")),
        writer(url, " && ".join([
            cli("--config", str(old_rules), "ingest", *copies, "--format", "text", "--source", "copies"),
            cli("reingest", "--all"),
            cli("articles", "delete", "1"),
        ])),
    ]
    seen: list[int] = []
    rounds_with_news = 0
    deadline = time.monotonic() + 240
    while True:
        running = any(w.poll() is None for w in writers)
        batch = export_lines(capsys, url, since=seen[-1] if seen else 0)
        seqs = [line["seq"] for line in batch]
        assert seqs == list(range((seen[-1] if seen else 0) + 1, (seen[-1] if seen else 0) + 1 + len(seqs))), (
            f"export after seq {seen[-1] if seen else 0} skipped or repeated: {seqs[:10]}..."
        )
        seen.extend(seqs)
        if seqs and running:
            rounds_with_news += 1
        if not running:
            break
        assert time.monotonic() < deadline, "writers did not finish"
        time.sleep(0.25)
    for w in writers:
        _, err = w.communicate()
        assert w.returncode == 0, err
    seen.extend(line["seq"] for line in export_lines(capsys, url, since=seen[-1]))

    with app.sessions() as session:
        total = int(session.scalar(select(func.count()).select_from(ArticleChange)) or 0)
    assert seen == list(range(1, total + 1))
    assert rounds_with_news >= 3, "the reader never overlapped the writers; the test proved nothing"
    changes = {line["change"] for line in export_lines(capsys, url)}
    assert changes >= {"created", "updated", "deleted"}


def test_export_batches_limit_and_bad_arguments(app: App, corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = app.database_url
    assert run_cli(capsys, "--database-url", url, "ingest", str(corpus / "feeds" / FEEDS[0]), "--source", "npr")[0] == 0
    with app.sessions() as session:
        total = int(session.scalar(select(func.count()).select_from(ArticleChange)) or 0)
    assert total >= 5
    everything = export_lines(capsys, url)
    assert [line["seq"] for line in everything] == list(range(1, total + 1))
    for line in everything:
        assert line["change"] in ("created", "updated", "merged")
        assert 1 <= line["change_version"] <= line["version"]
        assert line["change_at"] and line["id"] >= 1
    code, out, _ = run_cli(capsys, "--database-url", url, "export", "--since-seq", "1", "--limit", "2")
    assert code == 0 and [json.loads(line)["seq"] for line in out.splitlines()] == [2, 3]
    assert export_lines(capsys, url, since=total) == []
    code, out, err = run_cli(capsys, "--database-url", url, "export", "--since-seq", "-1")
    assert (code, out) == (1, "") and err == "newsdedup: error: --since-seq must be 0 or more, got -1\n"
