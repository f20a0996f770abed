"""Parallel ingest (worker processes prepare, this process writes) stores what the serial run stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from clitools import export_lines, run_cli
from fetchkit import FeedServer, FetchEnv
from sqlalchemy import select

from benchmarks.workload import Workload
from ingest import parallel
from ingest.app import App
from ingest.parallel import ParallelIngest, PooledPipeline, Prepared
from ingest.pipeline import Input, Pipeline
from store.models import Article, ArticleChange, ArticleParagraph, Fetch, RawDocument, Removal
from tests.conftest import make_app

REPO = Path(__file__).resolve().parent.parent

POISON = bytes(range(256)) * 64  # no format reads this: detected as text, refused as binary


def corpus_inputs(corpus: Path) -> list[Input]:
    """Every corpus feed (edge cases too), a slice of the pages, a synthetic feed of corpus stories
    with republished copies, the first feeds again (unchanged entries), and one poisoned input."""
    feeds = sorted(
        p
        for folder in (corpus / "feeds", corpus / "feeds" / "edge")
        for p in folder.iterdir()
        if p.is_file() and not p.name.endswith(".json")
    )
    pages = sorted(p for p in (corpus / "pages").glob("*.html") if ".expected" not in p.name)[:20]

    def from_file(path: Path) -> Input:
        return Input(body=path.read_bytes(), source="corpus", location=str(path), entry_key=path.resolve().as_uri())

    inputs = [from_file(p) for p in feeds[:20]]
    inputs.append(Input(body=POISON, source="corpus", location="poison.bin"))
    inputs += [from_file(p) for p in feeds[20:] + pages]
    for item in Workload(corpus).feed_items(60, per_feed=30):
        inputs.append(Input(body=item.body, source=item.source, location=item.url, url=item.url, format="feed"))
    inputs += [from_file(p) for p in feeds[:3]]
    return inputs


def snapshot(app: App) -> dict[str, list[tuple[Any, ...]]]:
    """What a consumer can see, without timestamps."""
    with app.sessions() as session:
        return {
            "articles": [
                (a.id, a.source_id, a.entry_key, a.canonical_id, a.text_from_id, a.title, a.content_hash, a.version,
                 a.raw_document_id, a.document_signature)
                for a in session.scalars(select(Article).order_by(Article.id))
            ],
            "paragraphs": [
                (p.article_id, p.position, p.kind, p.text, p.norm_hash, p.duplicate_of_article_id,
                 p.duplicate_of_position, p.duplicate_tier, p.similarity, p.estimated)
                for p in session.scalars(select(ArticleParagraph).order_by(ArticleParagraph.id))
            ],
            "removals": [
                (r.article_id, r.block_index, r.reason, r.text, r.duplicate_of_article_id, r.duplicate_tier)
                for r in session.scalars(select(Removal).order_by(Removal.id))
            ],
            "changes": [
                (c.seq, c.article_id, c.change, c.version)
                for c in session.scalars(select(ArticleChange).order_by(ArticleChange.seq))
            ],
            "fetches": [
                (f.url, f.outcome, f.error, f.warning, f.raw_document_id, f.articles_created, f.articles_updated)
                for f in session.scalars(select(Fetch).order_by(Fetch.id))
            ],
            "raw": [
                (r.id, r.content_hash, r.format)
                for r in session.scalars(select(RawDocument).order_by(RawDocument.id))
            ],
        }


def run(app: App, inputs: list[Input], workers: int, **options: Any) -> list[Any]:
    pipeline = Pipeline(app.sessions, app.cleaner, app.signer, deduper=app.deduper)
    if workers == 1:
        return [pipeline.ingest(item) for item in inputs]
    with ParallelIngest(pipeline, app.settings, workers, **options) as ingest:
        results = list(ingest.ingest(inputs))
    assert ingest.worker_cpu_seconds > 0
    return results


def test_parallel_ingest_stores_exactly_what_the_serial_run_stores(
    database_url: str, corpus: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    inputs = corpus_inputs(corpus)
    urls = [database_url, _another(database_url, tmp_path, request)]
    serial_app, parallel_app = make_app(urls[0]), make_app(urls[1])
    try:
        serial = run(serial_app, inputs, workers=1)
        parallel_results = run(parallel_app, inputs, workers=2, in_flight=3)
        expected = snapshot(serial_app)
        got = snapshot(parallel_app)
    finally:
        serial_app.close()
        parallel_app.close()
    assert [r.location for r in parallel_results] == [i.location for i in inputs]
    assert [[(a.status, a.entry_key, a.error) for a in r.articles] for r in parallel_results] == [
        [(a.status, a.entry_key, a.error) for a in r.articles] for r in serial
    ]
    assert [(r.error, r.warnings) for r in parallel_results] == [(r.error, r.warnings) for r in serial]
    # The workload has something to compare: stories, links of both tiers, merges, unchanged entries.
    assert len(expected["articles"]) > 500
    assert {p[7] for p in expected["paragraphs"]} >= {"exact", "near"}
    assert {c[2] for c in expected["changes"]} >= {"created", "merged"}
    assert any(a.status == "unchanged" for r in serial[-3:] for a in r.articles)
    for table in expected:
        assert got[table] == expected[table], table


def test_a_poisoned_input_is_an_error_row_naming_it_and_the_rest_is_stored(app: App, corpus: Path) -> None:
    inputs = corpus_inputs(corpus)[15:30]
    poison_at = [i.location for i in inputs].index("poison.bin")
    results = run(app, inputs, workers=2)
    poisoned = results[poison_at]
    assert poisoned.error is not None and poisoned.error.startswith("poison.bin")
    assert not poisoned.articles
    assert all(r.fetch_id is not None for r in results)
    with app.sessions() as session:
        fetches = {f.id: f for f in session.scalars(select(Fetch))}
        raw = session.get(RawDocument, poisoned.raw_document_id)
        stored = len(session.scalars(select(Article)).all())
    assert fetches[poisoned.fetch_id].outcome == "error" and "poison.bin" in (fetches[poisoned.fetch_id].error or "")
    assert raw is not None and zlib.decompress(raw.body) == POISON  # the input is kept
    assert stored == sum(r.created for r in results) > 100


# --- workers that die or hang (the task is module-level: the worker processes import it) ----------


def crashing_task(item: Input) -> Prepared:
    if item.location.endswith("crash.html"):
        os._exit(3)  # the worker process dies as on a segfault or an out-of-memory kill
    if item.location.endswith("hang.html"):
        time.sleep(3600)
    return parallel.prepare(item)


def test_a_worker_that_dies_or_hangs_is_that_input_error_and_the_others_are_stored(
    sqlite_app: App, corpus: Path
) -> None:
    pages = sorted(p for p in (corpus / "pages").glob("*.html") if ".expected" not in p.name)[:8]
    inputs = [Input(body=p.read_bytes(), source="corpus", location=str(p)) for p in pages]
    inputs.insert(2, Input(body=pages[0].read_bytes(), source="corpus", location="crash.html"))
    inputs.insert(6, Input(body=pages[1].read_bytes(), source="corpus", location="hang.html"))
    pipeline = Pipeline(sqlite_app.sessions, sqlite_app.cleaner, sqlite_app.signer, deduper=sqlite_app.deduper)
    with ParallelIngest(pipeline, sqlite_app.settings, 2, timeout=5, task=crashing_task) as ingest:
        results = list(ingest.ingest(inputs))
    assert [r.location for r in results] == [i.location for i in inputs]
    crashed, hung = results[2], results[6]
    assert crashed.error == "crash.html: not prepared: the worker process died while preparing it"
    assert hung.error is not None and hung.error.startswith("hang.html: not prepared within 5 s")
    others = [r for r in results if r not in (crashed, hung)]
    assert all(r.error is None for r in others), [r.error for r in others]
    with sqlite_app.sessions() as session:
        titles = {a.title for a in session.scalars(select(Article))}
        outcomes = [f.outcome for f in session.scalars(select(Fetch).order_by(Fetch.id))]
    assert len(titles) == sum(r.created for r in others) == len(others)
    assert outcomes == ["ok" if r.error is None else "error" for r in results]


def _another(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'parallel.sqlite3'}"
    factory = request.getfixturevalue("pg_database_factory")
    return str(factory())


def test_cli_ingest_with_workers_prints_and_stores_what_the_serial_command_does(
    capsys: pytest.CaptureFixture[str], corpus: Path, tmp_path: Path
) -> None:
    pages = sorted(p for p in (corpus / "pages").glob("*.html") if ".expected" not in p.name)[40:52]
    poison = tmp_path / "poison.bin"
    poison.write_bytes(POISON)
    paths = [str(p) for p in pages[:6]] + [str(poison)] + [str(p) for p in pages[6:]]
    outputs = []
    for name, workers in (("serial", "1"), ("parallel", "2")):
        url = f"sqlite:///{tmp_path / name}.sqlite3"
        make_app(url).close()
        code, out, err = run_cli(capsys, "--database-url", url, "ingest", *paths, "--workers", workers)
        assert code == 1  # the poisoned file
        assert f"newsdedup: error: {poison}: cannot decode text" in err
        outputs.append((out, [_timeless(line) for line in export_lines(capsys, url)]))
    assert outputs[0][0].count("created article") == len(pages)
    assert outputs[1] == outputs[0]


@pytest.mark.parametrize("bad", ["0", "-1", "x", "65"])
def test_cli_refuses_a_bad_worker_count(capsys: pytest.CaptureFixture[str], tmp_path: Path, bad: str) -> None:
    code, _, err = run_cli(capsys, "--database-url", f"sqlite:///{tmp_path}/x.sqlite3", "ingest", "a", "--workers", bad)
    assert code == 2 and "--workers" in err


def _timeless(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in TIMES}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


TIMES = {"change_at", "created_at", "modified_at"}


def test_fetch_with_prepare_processes_stores_what_the_serial_fetch_does(
    sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    routes = {"npr": feed_server.static("/npr.xml", (corpus / "feeds/fastfeedparser__npr-world.xml").read_bytes())}
    for index, item in enumerate(Workload(corpus).feed_items(60, per_feed=30)):
        routes[f"wire-{index}"] = feed_server.static(f"/wire-{index}.xml", item.body)
    routes["poison"] = feed_server.static("/poison.xml", POISON)
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other_url = f"sqlite:///{other_dir / 'newsdedup.sqlite3'}"
    make_app(other_url).close()
    envs = [sqlite_fetch_env, FetchEnv(other_url, other_dir, capsys)]
    seen = []
    for env, processes in zip(envs, ("1", "2"), strict=True):
        env.configure(max_pages_per_feed=0)
        for name, url in routes.items():
            env.add(url, name)
        results = {}
        for name in routes:  # one at a time: the order of articles is the order of the feeds
            code, result = env.fetch("--feed", name, "--prepare-processes", processes)
            assert code == (1 if name == "poison" else 0)
            results.update(result)
        assert "not a readable feed" in results["poison"]["error"]
        statuses = {name: (r["status"], r["created"], r["updated"], r["unchanged"]) for name, r in results.items()}
        seen.append((statuses, [_timeless(line) for line in export_lines(capsys, env.database_url)]))
    assert sum(1 for line in seen[0][1] if line.get("change") == "created") >= 60
    assert seen[1][0] == seen[0][0]
    for a, b in zip(seen[0][1], seen[1][1], strict=True):
        assert a == b


def test_pooled_pipeline_shared_by_threads_records_a_dying_worker_as_that_input_error(
    sqlite_app: App, corpus: Path
) -> None:
    pages = sorted(p for p in (corpus / "pages").glob("*.html") if ".expected" not in p.name)[8:14]
    inputs = [Input(body=p.read_bytes(), source="corpus", location=str(p)) for p in pages]
    inputs.insert(3, Input(body=pages[0].read_bytes(), source="corpus", location="crash.html"))
    pipeline = PooledPipeline(
        sqlite_app.sessions, sqlite_app.cleaner, sqlite_app.signer, settings=sqlite_app.settings, workers=2,
        deduper=sqlite_app.deduper, task=crashing_task,
    )
    try:
        with ThreadPoolExecutor(3) as threads:
            results = list(threads.map(pipeline.ingest, inputs))
    finally:
        pipeline.close()
    assert results[3].error == "crash.html: not prepared: the worker process died while preparing it"
    assert [r.error for i, r in enumerate(results) if i != 3] == [None] * len(pages)
    assert sum(r.created for r in results) == len(pages)
    assert pipeline.ingest(inputs[0]).error == f"{inputs[0].location}: not prepared: the pipeline was closed"


WORKER_LOGGING_SCRIPT = """
import logging, sys
from pathlib import Path

from ingest import parallel
from ingest.observability import configure_logging
from ingest.parallel import ParallelIngest, Prepared
from ingest.pipeline import Input, Pipeline
from tests.conftest import make_app


def noisy_task(item: Input) -> Prepared:
    logging.getLogger("newsdedup.worker-check").warning("preparing %s in a worker", item.location)
    return parallel.prepare(item)


if __name__ == "__main__":
    configure_logging("INFO", json_output=True)
    app = make_app(sys.argv[1])
    page = Path(sys.argv[2])
    pipeline = Pipeline(app.sessions, app.cleaner, app.signer, deduper=app.deduper)
    with ParallelIngest(pipeline, app.settings, 2, task=noisy_task) as ingest:
        results = list(ingest.ingest([Input(body=page.read_bytes(), source="corpus", location=str(page))]))
    assert results[0].created == 1, results
    app.close()
"""


def test_worker_processes_log_in_the_writing_process_format(corpus: Path, tmp_path: Path) -> None:
    script = tmp_path / "worker_logging.py"
    script.write_text(WORKER_LOGGING_SCRIPT, encoding="utf-8")
    page = sorted(p for p in (corpus / "pages").glob("*.html") if ".expected" not in p.name)[0]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    done = subprocess.run(
        [sys.executable, str(script), f"sqlite:///{tmp_path / 'db.sqlite3'}", str(page)],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    worker_lines = [line for line in done.stderr.splitlines() if "in a worker" in line]
    assert worker_lines, done.stderr
    for line in worker_lines:
        record = json.loads(line)  # one JSON object a line, as the writing process writes
        assert record["event"] == f"preparing {page} in a worker"
        assert record["level"] == "warning" and record["logger"] == "newsdedup.worker-check"
        assert "timestamp" in record
