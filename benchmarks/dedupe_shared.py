"""Index shared by several workers: LSH band rows in SQL vs datasketch's Redis storage.

    python -m benchmarks.dedupe_shared [--articles N] [--trials T] [--json FILE]

Needs the PostgreSQL server (NEWSDEDUP_TEST_PG, default postgres@127.0.0.1:5432) and Redis
(NEWSDEDUP_REDIS, default 127.0.0.1:6379); uses a fresh database and its own Redis key prefix,
and removes both afterwards. Measured, per paragraph:

- speed: lookup + insert for articles of 25 paragraphs (SQL: ``SqlIndex`` in one transaction per
  article; Redis: ``MinHashLSH(storage_config=redis, prepickle=False)``, query then insert);
- storage: PostgreSQL table + index bytes (disk) vs Redis ``used_memory`` growth (RAM);
- correctness: two workers released together ingest copies of one story; a trial is missed
  when neither sees the other (both become first places).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.corpus_bodies import Corpus
from benchmarks.synthetic import BigramChain

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
PG_ADMIN = os.environ.get("NEWSDEDUP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("NEWSDEDUP_REDIS", "redis://127.0.0.1:6379/0")
ARTICLE = 25


def _database() -> tuple[str, Any]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"nd_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), (admin, name)


def _drop(handle: Any) -> None:
    from sqlalchemy import text

    admin, name = handle
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def sql_mode(url: str, articles: list[list[str]]) -> dict[str, Any]:
    from sqlalchemy import text

    from config import load_settings
    from ingest import migrations
    from ingest.app import App
    from ingest.index_backends import PARAGRAPH, SqlIndex, pack_ref
    from store import repository as repo
    from store.records import NewArticle

    app = App(load_settings(environ={"NEWSDEDUP_DEDUPE__INDEX_BACKEND": "sql"}, database_url=url))
    migrations.upgrade(app.engine)
    backend = app.deduper.backend
    assert isinstance(backend, SqlIndex)
    with app.sessions.begin() as session:
        source = repo.get_or_create_source(session, "bench").id
        ids = [
            repo.create_article(session, NewArticle(source_id=source, entry_key=f"a{i}", content_hash="x")).id
            for i in range(len(articles))
        ]
    matrices = [app.signer.signatures(paragraphs) for paragraphs in articles]
    started = time.perf_counter()
    for article_id, matrix in zip(ids, matrices, strict=True):
        with app.sessions.begin() as session:
            backend.candidates(session, PARAGRAPH, matrix, 0, 0.2)
            backend.add(session, PARAGRAPH, matrix, [pack_ref(article_id, p) for p in range(len(matrix))], 0)
    seconds = time.perf_counter() - started
    with app.engine.connect() as connection:
        size = connection.execute(text("SELECT pg_total_relation_size('lsh_bands')")).scalar_one()
    app.close()
    paragraphs = sum(len(m) for m in matrices)
    return {"per_s": round(paragraphs / seconds), "bytes_per_paragraph": round(size / paragraphs), "storage": "disk"}


def redis_mode(articles: list[list[str]], prefix: bytes) -> dict[str, Any]:
    import redis
    from datasketch import MinHashLSH

    from dedupe.lsh import LshParams
    from dedupe.signatures import Signer

    signer = Signer()
    params = LshParams.for_threshold(0.45, signer.num_perm)
    client = redis.Redis.from_url(REDIS)
    before = int(client.info("memory")["used_memory"])
    lsh = MinHashLSH(
        num_perm=signer.num_perm,
        params=(params.bands, params.rows),
        storage_config={"type": "redis", "basename": prefix, "redis": {"host": "127.0.0.1", "port": 6379}},
        prepickle=False,
    )
    matrices = [signer.signatures(paragraphs) for paragraphs in articles]
    started = time.perf_counter()
    for number, matrix in enumerate(matrices):
        lean = [signer.lean(row) for row in matrix]
        for minhash in lean:
            lsh.query(minhash)
        with lsh.insertion_session() as session:
            for position, minhash in enumerate(lean):
                session.insert(f"{number}:{position}".encode(), minhash)
    seconds = time.perf_counter() - started
    used = int(client.info("memory")["used_memory"]) - before
    paragraphs = sum(len(m) for m in matrices)
    return {"per_s": round(paragraphs / seconds), "bytes_per_paragraph": round(used / paragraphs), "storage": "RAM"}


def _clear_redis(prefix: bytes) -> None:
    import redis

    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(match=prefix + b"*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


def redis_race(stories: Sequence[list[str]], prefix: bytes) -> int:
    """Two workers query, then insert, copies of one story at once; returns the trials missed."""
    from datasketch import MinHashLSH

    from dedupe.lsh import LshParams
    from dedupe.signatures import Signer

    signer = Signer()
    params = LshParams.for_threshold(0.45, signer.num_perm)
    missed = 0
    for trial, paragraphs in enumerate(stories):
        lean = [signer.lean(row) for row in signer.signatures(paragraphs)]
        barrier = threading.Barrier(2)
        seen: list[bool] = []

        def worker(
            number: int,
            barrier: threading.Barrier = barrier,
            lean: list[Any] = lean,
            trial: int = trial,
            seen: list[bool] = seen,
        ) -> None:
            storage = {"type": "redis", "basename": prefix + b"race", "redis": {"host": "127.0.0.1", "port": 6379}}
            lsh = MinHashLSH(
                num_perm=signer.num_perm, params=(params.bands, params.rows), storage_config=storage, prepickle=False
            )
            barrier.wait(timeout=30)
            found = any(lsh.query(m) for m in lean)
            for position, minhash in enumerate(lean):
                lsh.insert(f"{trial}:{number}:{position}".encode(), minhash)
            seen.append(found)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        missed += not any(seen)
    return missed


def sql_race(url: str, stories: Sequence[list[str]]) -> int:
    from config import load_settings
    from ingest.app import App
    from ingest.documents import BlockKind, ParsedBlock, ParsedDocument
    from ingest.pipeline import Input, Pipeline
    from store import repository as repo

    apps = [App(load_settings(environ={"NEWSDEDUP_DEDUPE__INDEX_BACKEND": "sql"}, database_url=url)) for _ in range(2)]
    missed = 0
    try:
        for trial, paragraphs in enumerate(stories):
            barrier = threading.Barrier(2)
            ids: list[int] = []

            def worker(
                number: int,
                barrier: threading.Barrier = barrier,
                paragraphs: list[str] = paragraphs,
                trial: int = trial,
                ids: list[int] = ids,
            ) -> None:
                app = apps[number]
                pipeline = Pipeline(app.sessions, app.cleaner, app.signer, deduper=app.deduper)
                app.deduper.ensure_ready()
                blocks = [ParsedBlock(BlockKind.BODY, p) for p in paragraphs]
                document = ParsedDocument(blocks=blocks, entry_key=f"race-{trial}-{number}", title="Race")
                barrier.wait(timeout=30)
                item = Input(body=document.entry_key.encode(), source=f"w{number}", location="race")
                result = pipeline.ingest(item, documents=[document])
                if result.articles[0].article_id is not None:
                    ids.append(result.articles[0].article_id)

            threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            with apps[0].sessions() as session:
                canonical = {repo.get_article(session, i).canonical_id for i in ids}
            missed += len(canonical) != 1
    finally:
        for app in apps:
            app.close()
    return missed


def run(corpus: Path, count: int, trials: int) -> dict[str, Any]:
    training = [p for s in Corpus(corpus).stories() if s.language in ("en", "id") for p in s.paragraphs]
    chain = BigramChain(training, seed=11)
    articles = [list(chain.paragraphs(ARTICLE)) for _ in range(count)]
    stories = [list(chain.paragraphs(12)) for _ in range(trials)]
    prefix = f"nd-bench-{uuid.uuid4().hex[:8]}-".encode()
    url, handle = _database()
    try:
        results = {
            "articles": count,
            "paragraphs": count * ARTICLE,
            "sql": sql_mode(url, articles),
            "redis": redis_mode(articles, prefix),
        }
        results["sql"]["race_missed"] = sql_race(url, stories)
        results["redis"]["race_missed"] = redis_race(stories, prefix)
        results["trials"] = trials
    finally:
        _clear_redis(prefix)
        _drop(handle)
    return results


def table(results: dict[str, Any]) -> str:
    lines = [
        f"{results['paragraphs']:,} paragraphs in articles of {ARTICLE}; {results['trials']} race trials",
        f"{'shared index':<26} {'per s':>8} {'bytes/para':>11} {'where':>6} {'races missed':>13}",
    ]
    for name, label in (("sql", "SQL band rows (PostgreSQL)"), ("redis", "datasketch Redis storage")):
        row = results[name]
        lines.append(
            f"{label:<26} {row['per_s']:>8,} {row['bytes_per_paragraph']:>11,} {row['storage']:>6} "
            f"{row['race_missed']:>6} of {results['trials']}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results = run(args.corpus, args.articles, args.trials)
    print(table(results))
    document = json.dumps(results, indent=2, sort_keys=True)
    print(document)
    if args.json:
        args.json.write_text(document + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
