"""The example incremental consumer in ``examples/consumer.py``, run as documented, against the
change log; its result agrees with the ``canonical_articles`` view."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from clitools import REPO, cli_env, ingest_copies, run_cli
from sqlalchemy import text

from ingest.app import App

NPR = "feeds/fastfeedparser__npr-world.xml"


def consume(url: str, tmp_path: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "consumer.py"), "--state", str(tmp_path / "consumer.seq"),
         "--out", str(tmp_path / "articles"), "--database-url", url,
         "--newsdedup", shlex.join([sys.executable, "-m", "ingest"])],
        capture_output=True, text=True, timeout=120, env=cli_env(), cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def files(tmp_path: Path) -> dict[int, dict[str, object]]:
    return {int(p.stem): json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "articles").glob("*.json")}


def view(app: App) -> dict[int, str]:
    with app.engine.connect() as connection:
        return {int(r.id): str(r.body) for r in connection.execute(text("SELECT id, body FROM canonical_articles"))}


def test_example_consumer_follows_the_change_log(
    app: App, corpus: Path, seed_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = app.database_url
    ingest_copies(capsys, url, seed_file, tmp_path, ["voa-id", "mirror"])

    first = last_seq(app)
    assert consume(url, tmp_path) == f"applied {first} events, now at seq {first}\n"
    # The copy joined the seed's story: the consumer keeps one file for the story.
    assert sorted(files(tmp_path)) == [1]
    assert files(tmp_path)[1]["body"] == run_json(capsys, url, 1)["body"]
    assert {i: "\n\n".join(a["body"]) for i, a in files(tmp_path).items()} == view(app)  # type: ignore[arg-type]

    # Later: a feed arrives, then the seed's article is deleted and its copy takes over the story.
    assert run_cli(capsys, "--database-url", url, "ingest", str(corpus / NPR), "--source", "npr")[0] == 0
    assert run_cli(capsys, "--database-url", url, "articles", "delete", "1")[0] == 0
    last = last_seq(app)

    out = consume(url, tmp_path)
    assert out == f"applied {last - first} events, now at seq {last}\n"
    assert (tmp_path / "consumer.seq").read_text() == f"{last}\n"
    current = files(tmp_path)
    assert 1 not in current and 2 in current  # the copy took over as canonical
    assert {i: "\n\n".join(a["body"]) for i, a in current.items()} == view(app)  # type: ignore[arg-type]

    assert consume(url, tmp_path) == f"applied 0 events, now at seq {last}\n"


def last_seq(app: App) -> int:
    with app.engine.connect() as connection:
        return int(connection.execute(text("SELECT max(seq) FROM article_changes")).scalar_one())


def run_json(capsys: pytest.CaptureFixture[str], url: str, article_id: int) -> dict[str, object]:
    code, out, err = run_cli(capsys, "--database-url", url, "articles", "show", str(article_id), "--json")
    assert code == 0, err
    return dict(json.loads(out))
