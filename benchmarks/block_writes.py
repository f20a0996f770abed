"""What writing an article's blocks costs as the store grows, with and without the hash index.

    python -m benchmarks.block_writes [--sizes 1000 100000] [--commits 100] [--json OUT]

The store stage's growth, isolated from dedupe: a SQLite store with the real schema and settings
(migrated, the engine's pragmas) is filled with ``size`` articles of 16 blocks each (random text
of paragraph length, a 512-byte signature, three in ten linked to an earlier article), then
``--commits`` transactions of 50 more articles are written and timed: the inserts, and the
commits with the checkpoints they trigger, in this process's user and kernel CPU time. The same
is done once more without the ``(norm_hash, article_id, position)`` index. A block's hash is
random, so each insert lands in a random leaf of that index: once it has more leaves than a
transaction has blocks, every block dirties its own page, which the WAL and then the checkpoint
write out. The other indexes grow at their end (ids and positions only rise). The two variants
side by side show how much of the store's growth is that one index.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from benchmarks.reporting import emit
from benchmarks.workload import PER_FEED
from ingest import migrations
from store.engine import make_engine

BLOCKS_PER_ARTICLE = 16
ARTICLES_PER_COMMIT = PER_FEED  # one feed file of the growth workload
LOAD_BATCH = 5_000  # articles per transaction while filling
LINKED_SHARE = 0.3
SIGNATURE_BYTES = 512  # 128 permutations of 32 bits
HASH_INDEX = "ix_article_paragraphs_norm_hash_place"
VOCABULARY = (
    "the government said on monday that talks would resume after officials from both sides met in "
    "jakarta pemerintah mengatakan bahwa pembicaraan akan dilanjutkan setelah pejabat kedua pihak "
    "bertemu minggu lalu according to reports from the associated press and reuters news agency"
)
STAMP = "2026-01-01 00:00:00.000000"

ARTICLE_SQL = (
    "INSERT INTO articles (id, source_id, entry_key, content_hash, agencies, version, extra, created_at, modified_at)"
    " VALUES (?, 1, ?, ?, '[]', 1, '{}', ?, ?)"
)
BLOCK_SQL = (
    "INSERT INTO article_paragraphs (article_id, position, kind, text, norm_hash, signature,"
    " duplicate_of_article_id, duplicate_of_position, duplicate_tier, similarity)"
    " VALUES (?, ?, 'paragraph', ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass
class Cost:
    """CPU seconds (user, kernel) and wall-clock seconds."""

    user: float = 0.0
    system: float = 0.0
    wall: float = 0.0

    def per_article(self, articles: int) -> dict[str, float]:
        return {
            "user_ms": round(1000 * self.user / articles, 3),
            "system_ms": round(1000 * self.system / articles, 3),
            "cpu_ms": round(1000 * (self.user + self.system) / articles, 3),
            "wall_ms": round(1000 * self.wall / articles, 3),
        }


@contextmanager
def charged(cost: Cost) -> Iterator[None]:
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    try:
        yield
    finally:
        after = resource.getrusage(resource.RUSAGE_SELF)
        cost.user += after.ru_utime - before.ru_utime
        cost.system += after.ru_stime - before.ru_stime
        cost.wall += time.perf_counter() - started


class Blocks:
    """Seeded article and block rows; ids continue from one call to the next."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._signature = self._random.randbytes(SIGNATURE_BYTES)
        self._words = VOCABULARY.split()
        self.next_id = 1

    def rows(self, articles: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        article_rows: list[tuple[Any, ...]] = []
        block_rows: list[tuple[Any, ...]] = []
        for article_id in range(self.next_id, self.next_id + articles):
            article_rows.append((article_id, f"entry-{article_id}", f"{article_id:064x}", STAMP, STAMP))
            for position in range(BLOCKS_PER_ARTICLE):
                words = self._random.choices(self._words, k=self._random.randint(25, 60))
                text = " ".join(words)
                norm_hash = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
                link: tuple[Any, ...] = (None, None, None, None)
                if article_id > 1 and self._random.random() < LINKED_SHARE:
                    link = (self._random.randrange(1, article_id), position, "near", 0.8)
                block_rows.append((article_id, position, text, norm_hash, self._signature, *link))
        self.next_id += articles
        return article_rows, block_rows


def _write(connection: Connection, blocks: Blocks, articles: int, inserts: Cost, commits: Cost) -> None:
    article_rows, block_rows = blocks.rows(articles)
    with charged(inserts):
        transaction = connection.begin()
        connection.exec_driver_sql(ARTICLE_SQL, article_rows)
        connection.exec_driver_sql(BLOCK_SQL, block_rows)
    with charged(commits):
        transaction.commit()


def _fresh_store(path: Path, with_hash_index: bool) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO sources (id, name, created_at) VALUES (1, 'bench', ?)", (STAMP,))
        if not with_hash_index:
            connection.exec_driver_sql(f"DROP INDEX {HASH_INDEX}")
    return engine


def measure(size: int, commits: int, with_hash_index: bool, directory: Path) -> dict[str, Any]:
    path = directory / f"blocks-{size}-{int(with_hash_index)}.sqlite3"
    engine = _fresh_store(path, with_hash_index)
    blocks = Blocks(seed=size)
    unused = Cost()
    try:
        with engine.connect() as connection:
            for _ in range(size // LOAD_BATCH):
                _write(connection, blocks, LOAD_BATCH, unused, unused)
            if size % LOAD_BATCH:
                _write(connection, blocks, size % LOAD_BATCH, unused, unused)
            # Outside any transaction (``exec_driver_sql`` would begin one): the timed writes start
            # from an empty WAL.
            connection.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            inserts, committed = Cost(), Cost()
            for _ in range(commits):
                _write(connection, blocks, ARTICLES_PER_COMMIT, inserts, committed)
            stored, linked = connection.exec_driver_sql(
                "SELECT count(*), count(duplicate_of_article_id) FROM article_paragraphs"
            ).one()
            indexes = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'article_paragraphs'"
            ).scalars().all()
        timed = commits * ARTICLES_PER_COMMIT
        return {
            "size": size,
            "hash_index": with_hash_index,
            "articles_timed": timed,
            "blocks_stored": stored,
            "blocks_linked": linked,
            "indexes": sorted(indexes),
            "inserts": inserts.per_article(timed),
            "commits": committed.per_article(timed),
            "both_cpu_ms": round(1000 * (inserts.user + inserts.system + committed.user + committed.system) / timed, 3),
            "db_bytes": path.stat().st_size,
        }
    finally:
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def run(sizes: list[int], commits: int, directory: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="nd-blocks-", dir=directory) as work:
        results = [
            measure(size, commits, with_hash_index, Path(work))
            for with_hash_index in (True, False)
            for size in sizes
        ]
    growth: dict[str, float] = {}
    for with_hash_index in (True, False):
        both = [r["both_cpu_ms"] for r in results if r["hash_index"] is with_hash_index]
        growth["with_hash_index" if with_hash_index else "without_hash_index"] = round(both[-1] - both[0], 3)
    return {"sizes": sizes, "commits": commits, "results": results, "growth_cpu_ms": growth}


def print_report(report: dict[str, Any]) -> None:
    print(f"CPU ms per article ({BLOCKS_PER_ARTICLE} blocks), {report['commits']} commits of {ARTICLES_PER_COMMIT}")
    print(f"  {'hash index':10s} {'stored':>9s} {'inserts':>16s} {'commits':>16s} {'both':>7s}")
    print(f"  {'':10s} {'':>9s} {'user':>7s} {'kernel':>8s} {'user':>7s} {'kernel':>8s}")
    for r in report["results"]:
        print(
            f"  {'yes' if r['hash_index'] else 'no':10s} {r['size']:9,d}"
            f" {r['inserts']['user_ms']:7.3f} {r['inserts']['system_ms']:8.3f}"
            f" {r['commits']['user_ms']:7.3f} {r['commits']['system_ms']:8.3f} {r['both_cpu_ms']:7.3f}"
        )
    growth = report["growth_cpu_ms"]
    print(
        f"  growth from the smallest to the largest store: {growth['with_hash_index']:+.3f} ms with the hash index,"
        f" {growth['without_hash_index']:+.3f} without"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000], help="articles stored first")
    parser.add_argument("--commits", type=int, default=100, help="timed transactions at each size")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args(argv)
    if any(size < 1 for size in args.sizes) or args.commits < 1:
        parser.error("--sizes and --commits must be positive")
    return emit(run(sorted(args.sizes), args.commits), print_report, args.json)


if __name__ == "__main__":
    sys.exit(main())
