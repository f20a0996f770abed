"""End-to-end benchmark: the workload of ``benchmarks.workload`` through the real pipeline.

The pipeline is ``ingest.pipeline.Pipeline`` built from ``ingest.app.App`` exactly as the CLI
builds it; the benchmark only wraps its stages with timers (wall clock and this process's CPU
time) and counts what goes through each:

- parse: decoding a page / parsing a feed into entries;
- extract: the HTML extractor (page -> blocks);
- clean: in-article cleaning (boilerplate, repeats, captions);
- dedupe: normalising, signing, template / exact / near / story verdicts and index updates;
- store: everything else inside ``Pipeline.ingest``: raw bytes, article rows, change log,
  commits, fetch rows.

With ``--workers N`` (N > 1) the inputs go through ``ingest.parallel``: N worker processes parse,
clean and prepare (normalise, sign) while this process links and stores. The stage columns are
then this process's alone (parse and clean read zero, dedupe is link + index updates only); the
workers' CPU time is reported on a line of its own, and articles/s wall is the figure to compare.

Two commands:

    python -m benchmarks.pipeline run [--pages N] [--feed N] [--backends sqlite,postgresql] [--workers N] [--json FILE]
    python -m benchmarks.pipeline growth --size N [--slices K] [--baseline-every K] [--paired N]
                                         [--vocabulary-period ITEMS] [--articles-per-day N]
                                         [--backend sqlite] [--json FILE] [--plot FILE]

``run`` prints a table per backend (pages and full-content feed entries) and trafilatura's
``extract()`` alone on the same pages, with the ratio; serially, that reference is timed between
our pages, chunk by chunk. ``growth`` ingests ``N`` full-content feed entries and measures the
cost per article of each successive slice as the store grows; every ``--baseline-every`` slices it
times the first slice's articles into a fresh, empty store in the same process, and reports each
stretch of slices against the baselines around it; at the end, ``--paired`` more articles go into the
grown store and as many into an empty one, a feed on each side in turn. By default every article
arrives on one day, inside the dedupe window (an aggregator's worst case); ``--articles-per-day``
replays them as days of news, so the window slides over the run. Results of several sizes
accumulate in one JSON file and are plotted together (matplotlib, Agg).
"""

from __future__ import annotations

import argparse
import functools
import gc
import itertools
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.workload import (
    PER_FEED,
    RECENT_STORIES,
    ReplayClock,
    WorkItem,
    Workload,
    add_pace_option,
    add_vocabulary_option,
)
from config import load_settings
from ingest import migrations
from ingest.app import App
from ingest.index_backends import MemoryIndex
from ingest.parallel import ParallelIngest
from ingest.pipeline import IngestResult, Input, Pipeline
from store import database_size_bytes
from store import repository as repo
from store.models import Article, ArticleParagraph, utcnow

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = Path(os.environ.get("NEWSDEDUP_CORPUS", REPO.parent / "shared" / "corpus"))
DEFAULT_PG = os.environ.get("NEWSDEDUP_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DEFAULT_GROWTH_JSON = REPO / "benchmarks" / "plots" / "growth.json"
DEFAULT_GROWTH_PLOT = REPO / "benchmarks" / "plots" / "growth.png"
STAGES = ("parse", "extract", "clean", "dedupe", "store")
T = TypeVar("T")


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Stage:
    wall: float = 0.0
    cpu: float = 0.0
    calls: int = 0
    articles: int = 0
    paragraphs: int = 0

    def rates(self) -> dict[str, float | None]:
        def per(count: int, seconds: float) -> float | None:
            return round(count / seconds, 1) if seconds > 0 else None

        return {
            "articles_per_s_wall": per(self.articles, self.wall),
            "articles_per_s_cpu": per(self.articles, self.cpu),
            "paragraphs_per_s_wall": per(self.paragraphs, self.wall),
            "paragraphs_per_s_cpu": per(self.paragraphs, self.cpu),
        }


@dataclass
class Timers:
    stages: dict[str, Stage] = field(default_factory=lambda: {name: Stage() for name in (*STAGES, "total")})

    @contextmanager
    def measure(self, name: str) -> Iterator[Stage]:
        stage = self.stages[name]
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield stage
        finally:
            stage.wall += time.perf_counter() - wall
            stage.cpu += time.process_time() - cpu
            stage.calls += 1


def _timed(
    timers: Timers, name: str, count: Callable[[Any, Stage], None]
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            with timers.measure(name) as stage:
                result = function(*args, **kwargs)
            count(result, stage)
            return result

        return wrapper

    return decorate


def instrument(pipeline: Pipeline) -> Timers:
    """Wrap the pipeline's stages (on this instance only) with timers and counters.

    ``Pipeline.parse`` includes the extractor for HTML and the dedupe calls sit inside
    ``Pipeline.ingest``; the report subtracts nested times so the five stages add up to the total.
    """
    timers = Timers()
    parse_total = Timers().stages["total"]
    timers.stages["_parse_total"] = parse_total

    def count_documents(result: Any, stage: Stage) -> None:
        documents, _ = result
        stage.articles += len(documents)
        stage.paragraphs += sum(len(d.blocks) for d in documents)

    def count_document(result: Any, stage: Stage) -> None:
        stage.articles += 1
        stage.paragraphs += len(result.blocks)

    def count_prepared(result: Any, stage: Stage) -> None:
        stage.articles += 1
        stage.paragraphs += len(result.blocks)

    def count_nothing(_result: Any, _stage: Stage) -> None:
        return None

    def count_stored(result: IngestResult, stage: Stage) -> None:
        stored = [a for a in result.articles if a.status in ("created", "updated")]
        stage.articles += len(stored)

    pipeline.parse = _timed(timers, "_parse_total", count_documents)(pipeline.parse)  # type: ignore[method-assign]
    extractor = pipeline.extractor
    extractor.parse = _timed(timers, "extract", count_document)(extractor.parse)  # type: ignore[method-assign]
    cleaner = pipeline.cleaner
    cleaner.clean = _timed(timers, "clean", count_document)(cleaner.clean)  # type: ignore[method-assign]
    deduper = pipeline.deduper
    deduper.prepare = _timed(timers, "dedupe", count_prepared)(deduper.prepare)  # type: ignore[method-assign]
    deduper.link = _timed(timers, "dedupe", count_nothing)(deduper.link)  # type: ignore[method-assign]
    deduper.after_save = _timed(timers, "dedupe", count_nothing)(deduper.after_save)  # type: ignore[method-assign]
    pipeline.ingest = _timed(timers, "total", count_stored)(pipeline.ingest)  # type: ignore[method-assign]
    # What this process does per input when workers prepare it (``ingest`` does not call it).
    pipeline.save = _timed(timers, "total", count_stored)(pipeline.save)  # type: ignore[method-assign]
    return timers


def settle(timers: Timers, stored_paragraphs: int) -> dict[str, Stage]:
    """The five stages as exclusive times (nested calls subtracted) plus the total."""
    stages = timers.stages
    parse_total = stages["_parse_total"]
    extract, clean, dedupe, total = stages["extract"], stages["clean"], stages["dedupe"], stages["total"]
    parse = Stage(
        parse_total.wall - extract.wall, parse_total.cpu - extract.cpu, parse_total.calls,
        parse_total.articles, parse_total.paragraphs,
    )
    # prepare/link/after_save each count a call; prepare alone counts articles and blocks.
    dedupe = Stage(dedupe.wall, dedupe.cpu, dedupe.articles, dedupe.articles, dedupe.paragraphs)
    store = Stage(
        total.wall - parse_total.wall - clean.wall - dedupe.wall,
        total.cpu - parse_total.cpu - clean.cpu - dedupe.cpu,
        total.calls, total.articles, stored_paragraphs,
    )
    total = Stage(total.wall, total.cpu, total.calls, total.articles, stored_paragraphs)
    return {"parse": parse, "extract": extract, "clean": clean, "dedupe": dedupe, "store": store, "total": total}


def rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- databases ---------------------------------------------------------------------------------


@contextmanager
def database(backend: str, pg_url: str = DEFAULT_PG) -> Iterator[str]:
    """An empty database of the backend for one run, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="nd-bench-") as directory:
            yield f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}: sqlite or postgresql")
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    name = f"nd_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def open_app(url: str, freeze: bool = True) -> tuple[App, Pipeline]:
    app = App(load_settings(environ={}, database_url=url))
    if freeze:
        gc.freeze()  # as ``newsdedup`` does once its app is built
    migrations.upgrade(app.engine)
    return app, Pipeline(app.sessions, app.cleaner, app.signer, deduper=app.deduper)


def db_size(app: App) -> int:
    if app.engine.dialect.name == "sqlite":
        # Outside any transaction (the engine's connections begin IMMEDIATE), so the WAL is
        # folded into the main file and its pages are counted.
        raw = app.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    return database_size_bytes(app.engine) or 0


def work_input(item: WorkItem) -> Input:
    return Input(body=item.body, source=item.source, location=item.url, url=item.url, format=item.format)


def ingest_item(pipeline: Pipeline, item: WorkItem) -> IngestResult:
    return pipeline.ingest(work_input(item))


# --- run: the table ----------------------------------------------------------------------------


class TrafilaturaReference:
    """trafilatura's ``extract()`` on the same pages: all at once (``time_pages``), or, iterated,
    timed between our pages as a serial run takes them.

    The machine's speed can drift by a third within one run, so a reference timed before or after
    all of ours compares two different machines. Pages go in chunks of ``CHUNK``: the reference
    runs on a chunk just before ours on even chunks and just after on odd ones, so neither side
    always meets the page first (cache-warm) and both see the same machine, chunk by chunk.
    """

    CHUNK = 8

    def __init__(self, items: list[WorkItem]) -> None:
        import trafilatura

        self._extract = trafilatura.extract
        self.items = items
        self.wall = self.cpu = 0.0
        self.extracted = 0
        self.interleaved = False

    def time_pages(self, part: list[WorkItem]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        for item in part:
            if self._extract(item.body) is not None:
                self.extracted += 1
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu

    def __iter__(self) -> Iterator[WorkItem]:
        self.interleaved = True
        for number, first in enumerate(range(0, len(self.items), self.CHUNK)):
            part = self.items[first : first + self.CHUNK]
            if number % 2 == 0:
                self.time_pages(part)
            yield from part  # the serial consumer ingests each page before asking for the next
            if number % 2 == 1:
                self.time_pages(part)

    def report(self) -> dict[str, Any]:
        pages = len(self.items)
        return {
            "pages": pages,
            "extracted": self.extracted,
            "wall_s": round(self.wall, 3),
            "cpu_s": round(self.cpu, 3),
            "ms_per_page_wall": round(1000 * self.wall / pages, 3) if pages else None,
            "ms_per_page_cpu": round(1000 * self.cpu / pages, 3) if pages else None,
            "interleaved": self.interleaved,
        }


def run_phase(
    app: App,
    pipeline: Pipeline,
    items: Iterable[WorkItem],
    workers: int = 1,
    reference: TrafilaturaReference | None = None,
) -> dict[str, Any]:
    """Ingest ``items``; the stages, counts and sizes of this phase alone.

    ``reference``, when given, is ``items`` with trafilatura timed between them: its time is
    taken out of the phase's totals (the stage times never include it).
    """
    with app.sessions.begin() as session:
        before_articles = repo.count_rows(session, Article)
        before_paragraphs = repo.count_rows(session, ArticleParagraph)
    size_before = db_size(app)
    timers = instrument(pipeline)
    expected = created = errors = items_count = 0

    def counted() -> Iterator[WorkItem]:
        nonlocal items_count, expected
        for item in items:
            items_count += 1
            expected += item.articles
            yield item

    parallel = ParallelIngest(pipeline, app.settings, workers) if workers > 1 else None
    if parallel is not None:
        parallel.start()  # worker start-up is not part of the phase
    wall, cpu = time.perf_counter(), time.process_time()
    if parallel is None:
        results: Iterable[IngestResult] = (ingest_item(pipeline, item) for item in counted())
    else:
        results = parallel.ingest(work_input(item) for item in counted())
    for result in results:
        created += result.created
        errors += sum(1 for a in result.articles if a.status == "error")
        errors += 1 if result.error and not result.articles else 0
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if reference is not None:
        wall, cpu = wall - reference.wall, cpu - reference.cpu
    workers_cpu = 0.0
    if parallel is not None:
        workers_cpu = parallel.worker_cpu_seconds
        parallel.close()
    uninstrument(pipeline)
    with app.sessions.begin() as session:
        articles = repo.count_rows(session, Article) - before_articles
        paragraphs = repo.count_rows(session, ArticleParagraph) - before_paragraphs
    size = db_size(app) - size_before
    stages = settle(timers, paragraphs)
    return {
        "items": items_count,
        "articles_expected": expected,
        "articles_created": created,
        "articles_stored": articles,
        "paragraphs_stored": paragraphs,
        "errors": errors,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "articles_per_s_wall": round(articles / wall, 1) if wall else None,
        "articles_per_s_cpu": round(articles / cpu, 1) if cpu else None,
        "workers": workers,
        # Parse, clean and prepare in the worker processes (0 without workers: in the stages).
        "workers_cpu_s": round(workers_cpu, 3),
        "workers_ms_per_article_cpu": round(1000 * workers_cpu / articles, 3) if articles else None,
        "db_bytes": size,
        "db_bytes_per_article": round(size / articles) if articles else None,
        "stages": {name: {**asdict(stage), **stage.rates()} for name, stage in stages.items()},
    }


def uninstrument(pipeline: Pipeline) -> None:
    for owner, names in (
        (pipeline, ("parse", "ingest", "save")),
        (pipeline.extractor, ("parse",)),
        (pipeline.cleaner, ("clean",)),
        (pipeline.deduper, ("prepare", "link", "after_save")),
    ):
        for name in names:
            owner.__dict__.pop(name, None)


def trafilatura_reference(items: list[WorkItem]) -> dict[str, Any]:
    """trafilatura's default ``extract()`` on the same page bytes, in this process, all at once."""
    reference = TrafilaturaReference(items)
    reference.time_pages(items)
    return reference.report()


def ours_per_page(phase: dict[str, Any], clock: str) -> dict[str, float]:
    stages = phase["stages"]
    pages = max(1, phase["items"])
    key = "wall" if clock == "wall" else "cpu"
    pipeline_ms = 1000 * sum(stages[s][key] for s in ("extract", "clean", "dedupe", "store")) / pages
    total_ms = 1000 * stages["total"][key] / pages
    return {"extract_clean_dedupe_store_ms": round(pipeline_ms, 3), "total_ms": round(total_ms, 3)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    workload = Workload(Path(args.corpus))
    pages = list(workload.pages_items(args.pages))
    report: dict[str, Any] = {
        "workload": {"pages": args.pages, "feed_articles": args.feed, "seed": workload.seed, "workers": args.workers},
        "machine": {"cpus": os.cpu_count(), "load_average_start": load_average()},
        "backends": {},
    }
    report["trafilatura"] = trafilatura_reference(pages)
    for backend in args.backends.split(","):
        with database(backend, args.pg) as url:
            app, pipeline = open_app(url)
            try:
                # Serially, the reference is timed between our pages; with workers, our extraction
                # runs in other processes, and the reference stays the one timed before the run.
                interleaved = TrafilaturaReference(pages) if args.workers == 1 else None
                page_phase = run_phase(app, pipeline, interleaved or pages, args.workers, interleaved)
                # Made before the phase: writing the synthetic feeds is not the pipeline's work.
                feed_phase = run_phase(app, pipeline, list(workload.feed_items(args.feed)), args.workers)
            finally:
                app.close()
        traf = interleaved.report() if interleaved is not None else report["trafilatura"]
        ratios = {}
        for clock in ("wall", "cpu"):
            ours = ours_per_page(page_phase, clock)
            reference = traf[f"ms_per_page_{clock}"]
            ratios[clock] = {
                **ours,
                "trafilatura_ms": reference,
                "ratio": round(ours["extract_clean_dedupe_store_ms"] / reference, 2) if reference else None,
                "ratio_total": round(ours["total_ms"] / reference, 2) if reference else None,
            }
        report["backends"][backend] = {
            "pages": page_phase, "feed": feed_phase, "vs_trafilatura": ratios, "trafilatura": traf
        }
    report["machine"]["load_average_end"] = load_average()
    report["peak_rss_bytes"] = peak_rss_bytes()
    return report


def print_run(report: dict[str, Any]) -> None:
    traf = report["trafilatura"]
    print(
        f"workload: {report['workload']['pages']} pages, {report['workload']['feed_articles']} feed entries, "
        f"{report['workload'].get('workers', 1)} worker process(es); "
        f"load average {report['machine']['load_average_start']} -> {report['machine']['load_average_end']}; "
        f"peak RSS {report['peak_rss_bytes'] / 2**20:.0f} MiB"
    )
    for backend, result in report["backends"].items():
        for phase_name in ("pages", "feed"):
            phase = result[phase_name]
            print(
                f"\n{backend}, {phase_name}: {phase['articles_stored']} articles "
                f"({phase['articles_expected']} expected, {phase['errors']} errors), "
                f"{phase['paragraphs_stored']} paragraphs stored, "
                f"{phase['articles_per_s_wall']} articles/s wall, {phase['articles_per_s_cpu']} per CPU-s, "
                f"{phase['db_bytes_per_article']} DB bytes/article"
            )
            header = ("stage", "articles/s", "(CPU)", "paragraphs/s", "(CPU)", "ms/article CPU")
            print("  {:<8} {:>11} {:>9} {:>13} {:>10} {:>15}".format(*header))
            for name in (*STAGES, "total"):
                stage = phase["stages"][name]
                if not stage["articles"] and name == "extract":
                    continue
                ms = 1000 * stage["cpu"] / max(1, phase["articles_stored"])
                print(
                    f"  {name:<8} {_num(stage['articles_per_s_wall']):>11} {_num(stage['articles_per_s_cpu']):>9} "
                    f"{_num(stage['paragraphs_per_s_wall']):>13} {_num(stage['paragraphs_per_s_cpu']):>10} {ms:>15.2f}"
                )
            if phase.get("workers", 1) > 1:
                print(
                    f"  workers  {phase['workers']} processes: parse+clean+prepare "
                    f"{phase['workers_ms_per_article_cpu']} ms/article CPU there, not in the rows above"
                )
        if report["workload"].get("workers", 1) > 1:
            print("  vs trafilatura: not shown with workers (their extraction CPU is not in this process's)")
            continue
        when = "timed between our pages" if result.get("trafilatura", {}).get("interleaved") else "timed before"
        for clock, ratio in result["vs_trafilatura"].items():
            print(
                f"  vs trafilatura ({clock}): ours extract+clean+dedupe+store "
                f"{ratio['extract_clean_dedupe_store_ms']} ms/page, "
                f"trafilatura extract() {ratio['trafilatura_ms']} ms/page ({when}): {ratio['ratio']}x "
                f"(whole ingest {ratio['ratio_total']}x)"
            )
    print(
        f"\ntrafilatura extract() alone, before the run: {traf['pages']} pages, {traf['ms_per_page_cpu']} ms/page CPU"
    )


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


# --- growth: cost per article as the store grows -----------------------------------------------


def timed_ingest(pipeline: Pipeline, item: WorkItem) -> tuple[IngestResult, float, float]:
    """``item`` ingested; with the wall and CPU seconds spent inside the pipeline."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = ingest_item(pipeline, item)
    return result, time.perf_counter() - wall, time.process_time() - cpu


GROWTH_STAGES = ("parse", "clean", "dedupe", "store")


def indexed_blocks(pipeline: Pipeline) -> int | None:
    backend = pipeline.deduper.backend
    return len(backend.paragraphs) if isinstance(backend, MemoryIndex) else None


def stage_cpu(timers: Timers) -> dict[str, float]:
    """CPU seconds so far of the stages a feed entry goes through (exclusive, as in ``run``)."""
    settled = settle(timers, 0)
    return {name: settled[name].cpu for name in GROWTH_STAGES}


def stage_ms(before: dict[str, float], after: dict[str, float], articles: int) -> dict[str, float]:
    return {name: round(1000 * (after[name] - before[name]) / max(1, articles), 3) for name in GROWTH_STAGES}


def baseline_items(
    corpus: Path, seed: int, count: int, per_feed: int = PER_FEED, vocabulary_period: int | None = None
) -> list[WorkItem]:
    """``count`` entries like the growth run's late ones, and unlike any it ingests.

    From a workload of another seed, past its opening stretch: the corpus bodies it starts with
    (the growth run ingests those too) and the stories republished from them, whose originals a
    baseline would not hold. What is left is the same mix the run's later slices get (new
    stories, edited republications, wire paragraphs, template lines), in texts it never sees.
    """
    workload = Workload(corpus, seed=seed, vocabulary_period=vocabulary_period)
    skip = -(-(len(workload.bodies) + RECENT_STORIES) // per_feed)  # whole feed files
    items = list(workload.feed_items(skip * per_feed + count, per_feed=per_feed))
    return items[skip:]


def baseline(items: list[WorkItem], backend: str, pg_url: str) -> dict[str, float]:
    """``items`` into a fresh, empty store, in this process: what an article costs at the start
    of the curve, on the machine as it is now.

    A long growth run meets the machine in more than one speed phase (a third apart here), so its
    late slices are compared with baselines taken around them rather than with its own first
    slice, timed in another phase and in a cold process (the language model, compiled
    statements, first-touch memory: 2-5 ms an article more over the first 500). Its objects are
    not frozen (``open_app(freeze=False)``): the growth run's collector must see what it would
    have seen without the baseline.
    """
    wall = cpu = 0.0
    created = 0
    with database(backend, pg_url) as url:
        app, pipeline = open_app(url, freeze=False)
        timers = instrument(pipeline)
        try:
            pipeline.deduper.ensure_ready()
            for item in items:
                result, spent_wall, spent_cpu = timed_ingest(pipeline, item)
                wall, cpu, created = wall + spent_wall, cpu + spent_cpu, created + result.created
        finally:
            app.close()
    count = max(1, created)
    return {
        "ms_per_article_cpu": round(1000 * cpu / count, 3),
        "ms_per_article_wall": round(1000 * wall / count, 3),
        "stages_ms_cpu": stage_ms(dict.fromkeys(GROWTH_STAGES, 0.0), stage_cpu(timers), count),
    }


def baseline_ratios(slices: list[dict[str, Any]], baselines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per stretch of slices between two baselines: its mean CPU ms per article over theirs."""
    stretches = []
    for before, after in itertools.pairwise(baselines):
        inside = [s for s in slices if before["after_articles"] < s["articles"] <= after["after_articles"]]
        if not inside:
            continue
        ours = sum(s["ms_per_article_cpu"] for s in inside) / len(inside)
        reference = (before["ms_per_article_cpu"] + after["ms_per_article_cpu"]) / 2
        stages = {
            name: {
                "ms_per_article_cpu": round(sum(s["stages_ms_cpu"][name] for s in inside) / len(inside), 3),
                "baseline_ms_per_article_cpu": round(
                    (before["stages_ms_cpu"][name] + after["stages_ms_cpu"][name]) / 2, 3
                ),
            }
            for name in GROWTH_STAGES
        }
        stretches.append(
            {
                "from_articles": inside[0]["articles"],
                "to_articles": inside[-1]["articles"],
                "ms_per_article_cpu": round(ours, 3),
                "baseline_ms_per_article_cpu": round(reference, 3),
                "ratio": round(ours / reference, 3),
                "stages": stages,
            }
        )
    return stretches


def paired(
    pipeline: Pipeline,
    timers: Timers,
    items: Iterator[WorkItem],
    fresh_items: list[WorkItem],
    backend: str,
    pg_url: str,
    clock: ReplayClock | None = None,
) -> dict[str, Any]:
    """The large store's next articles and ``fresh_items`` into an empty store, feed by feed in turn.

    The comparison the growth target names, with the machine's speed taken out: a feed (50
    articles, a quarter to half a second) into the store the run has grown, then one into a store
    that holds what the fresh side has ingested so far, and so on. The stretch-against-baselines
    figures compare moments a minute or more apart, and this machine's speed moves by a fifth to a
    third in minutes; here both sides meet it within a second of each other. The first of
    ``fresh_items`` is ingested untimed: a new app's first feed pays its start-up (compiled
    statements, first touches), which the grown one paid long ago.
    """
    cpu = {"large": 0.0, "fresh": 0.0}
    created = {"large": 0, "fresh": 0}
    pair_ratios: list[float] = []
    with database(backend, pg_url) as url:
        app, fresh_pipeline = open_app(url, freeze=False)
        fresh_timers = instrument(fresh_pipeline)
        try:
            fresh_pipeline.deduper.ensure_ready()
            ingest_item(fresh_pipeline, fresh_items[0])
            # Each side's timers see only its own turns, so its stages are the difference at the end.
            started = {"large": stage_cpu(timers), "fresh": stage_cpu(fresh_timers)}
            for fresh_item in fresh_items[1:]:
                item = next(items, None)
                if item is None:
                    break
                turns = [("large", pipeline, item), ("fresh", fresh_pipeline, fresh_item)]
                if len(pair_ratios) % 2:
                    turns.reverse()  # neither side always goes first
                costs = {}
                for name, side_pipeline, side_item in turns:
                    result, _, spent_cpu = timed_ingest(side_pipeline, side_item)
                    if clock is not None and name == "large":
                        clock.advance(result.created)
                    cpu[name] += spent_cpu
                    created[name] += result.created
                    costs[name] = spent_cpu / max(1, result.created)
                pair_ratios.append(costs["large"] / costs["fresh"])
            ended = {"large": stage_cpu(timers), "fresh": stage_cpu(fresh_timers)}
        finally:
            app.close()

    def per_article(name: str) -> dict[str, Any]:
        count = max(1, created[name])
        return {
            "articles": created[name],
            "ms_per_article_cpu": round(1000 * cpu[name] / count, 3),
            "stages_ms_cpu": stage_ms(started[name], ended[name], count),
        }

    ordered = sorted(pair_ratios)
    large_report, fresh_report = per_article("large"), per_article("fresh")
    return {
        "large": large_report,
        "fresh": fresh_report,
        "ratio": round(large_report["ms_per_article_cpu"] / max(1e-9, fresh_report["ms_per_article_cpu"]), 3),
        "stage_ratios": {
            name: round(large_report["stages_ms_cpu"][name] / max(1e-9, fresh_report["stages_ms_cpu"][name]), 3)
            for name in GROWTH_STAGES
        },
        "pairs": len(pair_ratios),
        "pair_ratio_quartiles": [round(ordered[(len(ordered) - 1) * q // 4], 3) for q in (1, 2, 3)]
        if ordered
        else None,
    }


def growth(args: argparse.Namespace) -> dict[str, Any]:
    if args.paired and args.size % PER_FEED:
        raise SystemExit(f"--paired continues the run's feed files: --size must be a multiple of {PER_FEED}")
    period = args.vocabulary_period or None
    workload = Workload(Path(args.corpus), vocabulary_period=period)

    def unseen(seed: int, count: int) -> list[WorkItem]:
        return baseline_items(Path(args.corpus), seed, count, vocabulary_period=period)

    slice_size = max(1, args.size // args.slices)
    baselines: list[dict[str, Any]] = []
    log = open(args.log, "a", encoding="utf-8") if args.log else None  # noqa: SIM115

    def take_baseline(after_articles: int) -> None:
        if args.baseline_every:
            items = unseen(workload.seed + 1 + len(baselines), slice_size)
            measured = baseline(items, args.backend, args.pg)
            baselines.append({"after_articles": after_articles, **measured, "load_average": load_average()})
            if log is not None:
                log.write(json.dumps({"baseline": baselines[-1]}) + "\n")
                log.flush()
    slices: list[dict[str, Any]] = []
    with database(args.backend, args.pg) as url:
        app, pipeline = open_app(url)
        # The stages are timed as in ``run`` (and in each baseline), to show which of them grows.
        timers = instrument(pipeline)
        stages_before = stage_cpu(timers)
        # Baselines and the paired end's empty store stay on the wall clock: all of one day.
        clock = ReplayClock(args.articles_per_day, utcnow()) if args.articles_per_day else None
        if clock is not None:
            pipeline.deduper.clock = clock
        try:
            pipeline.deduper.ensure_ready()
            done = 0
            # Time inside the pipeline only: writing the workload's items is not the pipeline's cost.
            total_wall = total_cpu = slice_wall = slice_cpu = 0.0
            mark = (0, 0)  # articles and paragraphs at the last slice end
            deadline = time.monotonic() + 60 * args.max_minutes if args.max_minutes else None
            if args.baseline_every:
                # A process's first ingest pays its start-up; neither the baseline nor the run should.
                baseline(unseen(workload.seed - 1, slice_size), args.backend, args.pg)
            take_baseline(0)
            # One stream: the paired end continues it where the run stops (whole feed files).
            workload_items = workload.feed_items(args.size + args.paired)
            for item in itertools.islice(workload_items, -(-args.size // PER_FEED)):
                if deadline is not None and time.monotonic() > deadline and slices:
                    break  # out of time: the run records how far it got
                result, spent_wall, spent_cpu = timed_ingest(pipeline, item)
                if clock is not None:
                    clock.advance(result.created)
                slice_wall += spent_wall
                slice_cpu += spent_cpu
                done += result.created
                if done - mark[0] >= slice_size or done >= args.size:
                    with app.sessions.begin() as session:
                        stored_paragraphs = repo.count_rows(session, ArticleParagraph)
                    count = max(1, done - mark[0])
                    entry = {
                        "articles": done,
                        "paragraphs": stored_paragraphs,
                        "ms_per_article_wall": round(1000 * slice_wall / count, 3),
                        "ms_per_article_cpu": round(1000 * slice_cpu / count, 3),
                        "ms_per_paragraph_cpu": round(1000 * slice_cpu / max(1, stored_paragraphs - mark[1]), 4),
                        "stages_ms_cpu": stage_ms(stages_before, stage_cpu(timers), count),
                        "rss_bytes": rss_bytes(),
                        # Blocks the in-process index holds: what the window keeps, not the store.
                        "indexed_blocks": indexed_blocks(pipeline),
                        "load_average": load_average(),
                    }
                    slices.append(entry)
                    if log is not None:
                        log.write(json.dumps(entry) + "\n")
                        log.flush()
                    total_wall += slice_wall
                    total_cpu += slice_cpu
                    slice_wall = slice_cpu = 0.0
                    mark = (done, stored_paragraphs)
                    stages_before = stage_cpu(timers)
                    if args.baseline_every and len(slices) % args.baseline_every == 0 and done < args.size:
                        take_baseline(done)
            if not baselines or baselines[-1]["after_articles"] != done:
                take_baseline(done)
            size = db_size(app)
            paired_end = None
            if args.paired and done >= args.size:
                fresh_items = unseen(workload.seed + 1000, args.paired + PER_FEED)
                paired_end = {
                    "after_articles": done,
                    **paired(pipeline, timers, iter(workload_items), fresh_items, args.backend, args.pg, clock),
                }
        finally:
            app.close()
    if log is not None:
        log.close()
    first, last = slices[0], slices[-1]
    stretches = baseline_ratios(slices, baselines)
    return {
        "size": args.size,
        "backend": args.backend,
        # Items between new spellings of the workload's names (null: the training text's throughout).
        "vocabulary_period": period,
        # News replayed at this many articles a day (null: all on one day, every article in the window).
        "articles_per_day": args.articles_per_day or None,
        "window_days": pipeline.deduper.config.window_days,
        "complete": done >= args.size,
        "articles": done,
        "paragraphs": slices[-1]["paragraphs"],
        "wall_s": round(total_wall, 1),
        "cpu_s": round(total_cpu, 1),
        "ms_per_article_cpu": round(1000 * total_cpu / max(1, done), 3),
        "ms_per_article_wall": round(1000 * total_wall / max(1, done), 3),
        "last_over_first_slice_cpu": round(last["ms_per_article_cpu"] / first["ms_per_article_cpu"], 2),
        # A slice's worth of unseen, late-like articles into an empty store, every ``baseline_every`` slices.
        "baseline_articles": slice_size if baselines else None,
        "baselines": baselines,
        "over_baseline": stretches,
        "last_stretch_over_baseline_cpu": stretches[-1]["ratio"] if stretches else None,
        # The store's next ``paired`` articles against as many into an empty store, feed by feed in turn.
        "paired_end": paired_end,
        "peak_rss_bytes": peak_rss_bytes(),
        "db_bytes_per_article": round(size / max(1, done)),
        "slices": slices,
    }


def merge_growth(path: Path, result: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"runs": {}}
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
    period = result.get("vocabulary_period")
    names = f"-names-every-{period}" if period else ""
    pace = f"-{result['articles_per_day']}-a-day" if result.get("articles_per_day") else ""
    data["runs"][f"{result['backend']}-{result['size']}{names}{pace}"] = result
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return data


def plot_growth(data: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (cost, ratio, memory) = plt.subplots(1, 3, figsize=(16, 4.6))
    for key, run_ in sorted(data["runs"].items(), key=lambda kv: kv[1]["size"]):
        name = key if run_.get("complete", True) else f"{key} (reached {run_['articles']:,})"
        xs = [s["articles"] for s in run_["slices"]]
        line = cost.plot(xs, [s["ms_per_article_cpu"] for s in run_["slices"]], marker=".", markersize=3, label=name)
        colour = line[0].get_color()
        if run_.get("baselines"):
            # A baseline taken before the first slice is drawn at it (a log axis has no zero).
            at = [max(b["after_articles"], xs[0]) for b in run_["baselines"]]
            taken = [b["ms_per_article_cpu"] for b in run_["baselines"]]
            cost.scatter(at, taken, marker="x", color=colour)
            # Each slice over the baselines around it (linear between them): the machine's drift
            # between runs taken out, as in the stretch ratios.
            reference = np.interp(xs, at, taken)
            ratio.plot(xs, [s["ms_per_article_cpu"] / r for s, r in zip(run_["slices"], reference, strict=True)],
                       marker=".", markersize=3, color=colour, label=name)
        end = run_.get("paired_end")
        if end:
            cost.scatter(
                [end["after_articles"]] * 2,
                [end["large"]["ms_per_article_cpu"], end["fresh"]["ms_per_article_cpu"]],
                marker="D",
                color=colour,
            )
            ratio.scatter([end["after_articles"]], [end["ratio"]], marker="D", color=colour,
                          label=f"{name} paired end ({end['ratio']:.2f}x)")
        memory.plot(xs, [s["rss_bytes"] / 2**20 for s in run_["slices"]], marker=".", markersize=3, label=name)
    ratio.axhline(1.3, color="grey", linestyle="--", linewidth=1, label="1.3x")
    for axis in (cost, ratio, memory):
        axis.set_xscale("log")
        axis.set_xlabel("articles stored")
        axis.grid(True, alpha=0.3)
        axis.set_ylim(bottom=0)
    cost.set_ylabel("CPU ms per article (slice)")
    cost.set_title("Cost per article (x: baselines, diamonds: paired end)", fontsize=10)
    ratio.set_ylabel("slice over its baselines")
    ratio.set_title("Cost over an empty store's, same moment", fontsize=10)
    memory.set_ylabel("RSS, MiB")
    memory.set_title("Resident memory", fontsize=10)
    for axis in (cost, ratio, memory):
        axis.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def print_paired(end: dict[str, Any]) -> None:
    large, fresh = end["large"], end["fresh"]
    print(
        f"  paired at the end: {large['articles']:,} articles into the store of {end['after_articles']:,} "
        f"and {fresh['articles']:,} into an empty one, a feed each in turn:"
    )
    print(
        f"  {'':>19} {large['ms_per_article_cpu']:>11.2f} {fresh['ms_per_article_cpu']:>9.2f} "
        f"{end['ratio']:>5.2f}x   "
        + "  ".join(
            f"{name} {large['stages_ms_cpu'][name]:.2f} ({fresh['stages_ms_cpu'][name]:.2f})" for name in GROWTH_STAGES
        )
    )
    if end["pair_ratio_quartiles"]:
        low, middle, high = end["pair_ratio_quartiles"]
        print(f"  feed pairs: {end['pairs']}, their ratios' quartiles {low:.2f} / {middle:.2f} / {high:.2f}")


def print_growth(result: dict[str, Any]) -> None:
    print(
        f"{result['backend']}, {result['articles']} articles, {result['paragraphs']} paragraphs: "
        f"{result['ms_per_article_cpu']} ms/article CPU ({result['ms_per_article_wall']} wall), "
        f"last/first slice {result['last_over_first_slice_cpu']}x, "
        f"peak RSS {result['peak_rss_bytes'] / 2**20:.0f} MiB, "
        f"{result['db_bytes_per_article']} DB bytes/article"
    )
    print(f"  {'articles':>9} {'paragraphs':>11} {'ms/art CPU':>11} {'ms/art wall':>12} {'RSS MiB':>8}  load")
    for s in result["slices"]:
        print(
            f"  {s['articles']:>9,} {s['paragraphs']:>11,} {s['ms_per_article_cpu']:>11.2f} "
            f"{s['ms_per_article_wall']:>12.2f} {s['rss_bytes'] / 2**20:>8.0f}  {s['load_average']}"
        )
    if result.get("over_baseline"):
        size = result["baseline_articles"]
        print(f"  against {size:,} articles like the late ones into an empty store, timed before and after:")
        print(f"  {'articles':>19} {'ms/art CPU':>11} {'baseline':>9} {'ratio':>6}   ms/art CPU by stage (baseline)")
        for s in result["over_baseline"]:
            span = f"{s['from_articles']:,}-{s['to_articles']:,}"
            stages = "  ".join(
                f"{name} {v['ms_per_article_cpu']:.2f} ({v['baseline_ms_per_article_cpu']:.2f})"
                for name, v in s["stages"].items()
            )
            print(
                f"  {span:>19} {s['ms_per_article_cpu']:>11.2f} {s['baseline_ms_per_article_cpu']:>9.2f} "
                f"{s['ratio']:>5.2f}x   {stages}"
            )
    if result.get("paired_end"):
        print_paired(result["paired_end"])


# --- command line ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL admin URL; a database is created per run")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="stage table on each backend, trafilatura reference")
    run_parser.add_argument("--pages", type=int, default=300)
    run_parser.add_argument("--feed", type=int, default=2000)
    run_parser.add_argument("--backends", default="sqlite,postgresql")
    run_parser.add_argument(
        "--workers", type=int, default=1, help="processes that parse, clean and prepare (1: all in this one)"
    )
    run_parser.add_argument("--json", type=Path)
    growth_parser = commands.add_parser("growth", help="cost per article as the store grows")
    growth_parser.add_argument("--size", type=int, default=1000)
    growth_parser.add_argument("--slices", type=int, default=20)
    growth_parser.add_argument("--backend", default="sqlite")
    growth_parser.add_argument("--json", type=Path, default=DEFAULT_GROWTH_JSON, help="results accumulate here")
    growth_parser.add_argument("--plot", type=Path, default=DEFAULT_GROWTH_PLOT)
    growth_parser.add_argument("--log", help="append each slice as a JSON line (progress of long runs)")
    growth_parser.add_argument("--max-minutes", type=float, help="stop after this long and record how far it got")
    add_vocabulary_option(growth_parser)
    add_pace_option(growth_parser)
    growth_parser.add_argument(
        "--paired",
        type=int,
        default=1000,
        help="at the end, this many more articles into the grown store and as many into an empty one, "
        "a feed each in turn (0: skip)",
    )
    growth_parser.add_argument(
        "--baseline-every",
        type=int,
        default=10,
        help="time the first slice into an empty store at the start, every N slices and at the end (0: never)",
    )
    args = parser.parse_args(argv)
    if args.command == "run":
        report = run(args)
        print_run(report)
        if args.json:
            args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        return 0
    result = growth(args)
    print_growth(result)
    data = merge_growth(args.json, result)
    plot_growth(data, args.plot)
    print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
