"""Where the growth is: each dedupe and store step timed over a large store and over an empty one.

    python -m benchmarks.growth_steps --size 100000 [--count 1000] [--store PATH] [--json OUT]
        [--vocabulary-period ITEMS]

Builds a SQLite store of the growth workload's first ``--size`` articles (or reuses ``--store``,
written by an earlier run of this command with the same ``--vocabulary-period``: the workload is
deterministic), then ingests the
workload's next ``--count`` articles into a copy of it, and ``--count`` baseline articles (unseen,
of the late slices' mix, as ``pipeline growth`` takes them) into an empty store. Both first take
the same 300 warm-up articles. Every step below is wrapped in a CPU timer, so the table shows which
of them costs more with the store's size; the stages are timed as in ``pipeline run``. The two
runs meet the machine at different moments: parse and clean, which touch no store, show how far
its speed moved between them.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine.default import DefaultDialect

from benchmarks.pipeline import (
    DEFAULT_CORPUS,
    baseline_items,
    db_size,
    ingest_item,
    instrument,
    open_app,
    stage_cpu,
    stage_ms,
    timed_ingest,
)
from benchmarks.reporting import emit
from benchmarks.workload import PER_FEED, WorkItem, Workload, add_vocabulary_option
from ingest.corpus_dedupe import CorpusDeduper
from ingest.index_backends import MemoryIndex
from store import dedupe_repo
from store import repository as repo

WARM_UP = 300
# (owner, attribute, label): the steps an article's dedupe and store go through.
STEPS: tuple[tuple[Any, str, str], ...] = (
    (CorpusDeduper, "prepare", "signing (prepare)"),
    (MemoryIndex, "candidates", "index lookups (paragraphs and bodies)"),
    (CorpusDeduper, "_near_matches", "near matching, all of it"),
    (dedupe_repo, "blocks_at", "  near candidates read"),
    (CorpusDeduper, "_near_block", "  near candidates' tokens"),
    (CorpusDeduper, "_story_match", "story matching, all of it"),
    (dedupe_repo, "story_candidate_rows", "  story candidates' rows"),
    (CorpusDeduper, "_shingles", "  stored bodies re-shingled"),
    (dedupe_repo, "earliest_by_hash", "exact copies by hash"),
    (dedupe_repo, "source_story_counts", "template counts"),
    (CorpusDeduper, "after_save", "after save (story text, index entries)"),
    (repo, "create_article", "article and block inserts"),
    (DefaultDialect, "do_commit", "commits"),
)


@contextmanager
def timed_steps() -> Iterator[tuple[Counter[str], Counter[str]]]:
    """Every step of ``STEPS`` wrapped in a CPU timer while inside; put back on the way out."""
    spent: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in STEPS]

    def wrapped(function: Callable[..., Any], label: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - started
                calls[label] += 1

        return timed

    for (owner, name, label), (_, _, original) in zip(STEPS, originals, strict=True):
        setattr(owner, name, wrapped(original, label))
    try:
        yield spent, calls
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def renamed(items: list[WorkItem], tag: str) -> list[WorkItem]:
    """The items with URLs and guids of their own, so that none is taken for a stored entry."""
    return [
        dataclasses.replace(
            item,
            body=item.body.replace(b".example/story/", f".example/{tag}/".encode()).replace(
                b"<guid>", f"<guid>{tag}-".encode()
            ),
        )
        for item in items
    ]


def build_store(corpus: Path, size: int, path: Path, vocabulary_period: int | None) -> float:
    """The workload's first ``size`` articles into a SQLite file; CPU seconds it took."""
    app, pipeline = open_app(f"sqlite:///{path}", freeze=False)
    started = time.process_time()
    try:
        pipeline.deduper.ensure_ready()
        for item in Workload(corpus, vocabulary_period=vocabulary_period).feed_items(size):
            ingest_item(pipeline, item)
        db_size(app)  # folds the WAL into the file, which is then copied
    finally:
        app.close()
    return time.process_time() - started


def measure(database: Path, warm: list[WorkItem], items: list[WorkItem]) -> dict[str, Any]:
    # The steps are wrapped before the pipeline is built: ``instrument`` binds the deduper's
    # methods as they are then.
    with timed_steps() as (spent, calls):
        app, pipeline = open_app(f"sqlite:///{database}", freeze=False)
        timers = instrument(pipeline)
        try:
            pipeline.deduper.ensure_ready()
            for item in warm:
                ingest_item(pipeline, item)
            before = stage_cpu(timers)
            spent.clear()
            calls.clear()
            cpu = 0.0
            created = 0
            for item in items:
                result, _, spent_cpu = timed_ingest(pipeline, item)
                cpu += spent_cpu
                created += result.created
        finally:
            app.close()
    count = max(1, created)
    return {
        "articles": created,
        "ms_per_article_cpu": round(1000 * cpu / count, 3),
        "stages_ms_cpu": stage_ms(before, stage_cpu(timers), count),
        "steps_ms_cpu": {label: round(1000 * spent[label] / count, 3) for _, _, label in STEPS},
        "steps_per_article": {label: round(calls[label] / count, 2) for _, _, label in STEPS},
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    corpus = Path(args.corpus)
    if args.size % PER_FEED or args.count % PER_FEED:
        raise SystemExit(f"--size and --count must be multiples of {PER_FEED} (a feed's entries)")
    period = args.vocabulary_period or None
    warm = renamed(baseline_items(corpus, 4242, WARM_UP, vocabulary_period=period), "warm")
    baseline = renamed(baseline_items(corpus, 4343, args.count, vocabulary_period=period), "baseline")
    workload = Workload(corpus, vocabulary_period=period)
    following = list(itertools.islice(workload.feed_items(args.size + args.count), args.size // PER_FEED, None))
    with tempfile.TemporaryDirectory(prefix="nd-steps-") as directory:
        work = Path(directory)
        store = Path(args.store) if args.store else work / "store.sqlite3"
        build_seconds = None
        if not store.exists():
            build_seconds = round(build_store(corpus, args.size, store, period), 1)
        large = work / "large.sqlite3"
        shutil.copy(store, large)
        at_size = measure(large, warm, following)
        empty = measure(work / "empty.sqlite3", warm, baseline)
    return {
        "size": args.size,
        "count": args.count,
        "vocabulary_period": period,
        "build_cpu_s": build_seconds,
        "empty": empty,
        "large": at_size,
    }


def print_report(report: dict[str, Any]) -> None:
    empty, large = report["empty"], report["large"]
    print(f"CPU ms per article: {report['count']:,} articles into an empty store and after {report['size']:,}")
    print(f"  {'':42s} {'empty':>8s} {'large':>8s} {'grows':>8s}   calls/article")
    stages = empty["stages_ms_cpu"]
    rows = [(name, stages[name], large["stages_ms_cpu"][name], None, None) for name in stages]
    rows.append(("whole ingest", empty["ms_per_article_cpu"], large["ms_per_article_cpu"], None, None))
    for _, _, label in STEPS:
        rows.append(
            (
                label,
                empty["steps_ms_cpu"][label],
                large["steps_ms_cpu"][label],
                empty["steps_per_article"][label],
                large["steps_per_article"][label],
            )
        )
    for label, small, big, small_calls, big_calls in rows:
        per_article = "" if small_calls is None else f"{small_calls:6.2f} {big_calls:6.2f}"
        print(f"  {label:42s} {small:8.3f} {big:8.3f} {big - small:+8.3f}   {per_article}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--size", type=int, default=100_000, help="articles in the large store")
    parser.add_argument("--count", type=int, default=1_000, help="articles timed at each size")
    parser.add_argument("--store", help="the large store's file: reused when it exists, else written")
    parser.add_argument("--json", help="write the figures here too")
    add_vocabulary_option(parser)
    args = parser.parse_args(argv)
    return emit(run(args), print_report, args.json)


if __name__ == "__main__":
    sys.exit(main())
