"""Soak: the real daemon against a few hundred changing feeds on 127.0.0.1 for a bounded time.

    python -m benchmarks.soak [--minutes 10] [--feeds 300] [--interval 15] [--database-url URL] [--json FILE]

The feeds (``benchmarks.soak_feeds``) are registered with ``newsdedup feeds sync`` and polled by
``newsdedup run`` as a subprocess (SQLite by default). While it runs the daemon's RSS and CPU time
(/proc), the error count (fetch rows and /metrics) and the load average are sampled. At the end
publishing stops, every feed gets one more poll interval to be polled, the daemon gets SIGTERM, and:

- exit: the daemon exits 0 on SIGTERM, and ``newsdedup db check`` passes afterwards;
- exactly once: every item version the server put in a 200 response is one article version (one
  article per guid, one change-log row per version, the stored title is the last version served),
  nothing is stored twice; a version may be missing only if it was published after the feed's last
  request (the last poll interval), or served only to a poll that had not finished when the daemon
  stopped; a version replaced before any poll saw it means the daemon fell behind its schedule and
  fails the check;
- errors: errors per minute in the last third of the run are no higher than in the first third after
  warm-up;
- memory: the largest RSS in the last third of the run is within ``--rss-ratio`` of the largest in the
  first third after warm-up (the first quarter of the run);
- latency: p50/p95/p99 of fetch time (fetch rows: request start to stored result), by outcome.

Prints a table, writes JSON with ``--json``, exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, select

from benchmarks.corpus_bodies import Corpus
from benchmarks.soak_feeds import INITIAL_ITEMS, SoakFeeds
from store.models import Article, ArticleChange, Feed, Fetch

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = Path(os.environ.get("NEWSDEDUP_CORPUS", REPO.parent / "shared" / "corpus"))
SAMPLE_SECONDS = 2.0
WARMUP_SHARE = 0.25
TITLE_VERSION = re.compile(r"\((soak:\d+:\d+)\)(?: \[v(\d+)\])?$")


@dataclass
class Options:
    minutes: float = 10.0
    feeds: int = 300
    interval: int = 15  # seconds between polls of one feed
    jitter: float = 2.0
    database_url: str = ""
    seed: int = 7
    rss_ratio: float = 1.3
    corpus: Path = DEFAULT_CORPUS
    workdir: Path | None = None
    max_workers: int = 4

    @property
    def seconds(self) -> float:
        return self.minutes * 60.0


@dataclass
class Sample:
    t: float  # seconds since the daemon started
    rss_kb: int
    cpu_seconds: float
    fetch_errors: int  # fetch rows with outcome error
    metric_errors: float  # newsdedup_fetches_total{outcome="error"}
    articles: int
    load1: float


@dataclass
class Report:
    options: dict[str, Any]
    checks: dict[str, bool] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(self.checks.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "options": self.options, "passed": self.passed, "checks": self.checks, "figures": self.figures,
            "problems": self.problems[:50], "samples": [vars(s) for s in self.samples],
        }


# --- the daemon as a process -----------------------------------------------------------------------


def _cli(database_url: str, config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "ingest", "--database-url", database_url, "--config", str(config), *args]


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("NEWSDEDUP_")}


def _settings(options: Options) -> str:
    # All feeds are on one host (127.0.0.1): without a host concurrency above the default 2 and no
    # per-host delay the daemon could not poll a few hundred feeds every few seconds.
    return (
        "[fetch]\n"
        'allowed_hosts = ["127.0.0.1"]\n'
        f"per_host_concurrency = {options.max_workers}\n"
        "per_host_delay_seconds = 0.0\n"
        f"max_concurrency = {options.max_workers}\n"
        f"default_interval_seconds = {options.interval}\n"
        f"min_interval_seconds = {options.interval}\n"
        "connect_timeout_seconds = 5.0\nread_timeout_seconds = 10.0\ntotal_timeout_seconds = 30.0\n"
    )


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _metric_errors(base: str) -> float:
    try:
        text = httpx.get(f"{base}/metrics", timeout=5).text
    except httpx.HTTPError:
        return float("nan")
    for line in text.splitlines():
        if line.startswith('newsdedup_fetches_total{outcome="error"}'):
            return float(line.split()[-1])
    return 0.0


def _metrics_port(log: Path, process: subprocess.Popen[bytes], timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daemon exited with {process.returncode}: {log.read_text()[-2000:]}")
        match = re.search(r"health and metrics on http://127\.0\.0\.1:(\d+)/", log.read_text(errors="replace"))
        if match:
            return int(match.group(1))
        time.sleep(0.2)
    raise RuntimeError("the daemon did not open its metrics endpoint")


# --- the run ---------------------------------------------------------------------------------------


def run(options: Options) -> Report:
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        workdir = options.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        return _run(options, workdir)


def _run(options: Options, workdir: Path) -> Report:
    database_url = options.database_url or f"sqlite:///{workdir / 'soak.sqlite3'}"
    report = Report({k: str(v) if isinstance(v, Path) else v for k, v in vars(options).items()})
    report.options["database"] = database_url.split(":", 1)[0]
    stories = [s for s in Corpus(options.corpus).stories() if len(s.paragraphs) >= 4]
    # A feed changes at most every 3 poll intervals, so a daemon on schedule sees every version.
    gap = 3.0 * (options.interval + options.jitter)
    server = SoakFeeds(stories, options.feeds, seed=options.seed, min_change_gap=gap)
    config = workdir / "soak.toml"
    config.write_text(_settings(options), encoding="utf-8")
    declarations = workdir / "feeds.toml"
    declarations.write_text("".join(
        f'[[feed]]\nname = "{server.name(i)}"\nurl = "{server.url(i)}"\ninterval = "{options.interval}s"\n\n'
        for i in range(options.feeds)
    ), encoding="utf-8")
    env = _environment()
    for args in (("db", "upgrade"), ("feeds", "sync", str(declarations))):
        subprocess.run(_cli(database_url, config, *args), env=env, check=True, capture_output=True, cwd=REPO)
    engine = create_engine(database_url)
    log_path = workdir / "daemon.log"
    load_before = os.getloadavg()
    try:
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                _cli(database_url, config, "run", "--worker-id", "soak", "--sync-seconds", "5",
                     "--jitter-seconds", str(options.jitter), "--max-workers", str(options.max_workers),
                     "--metrics-port", "0", "--log-format", "json"),
                env=env, stdout=log, stderr=log, cwd=REPO,
            )
            try:
                report = _observe(options, server, engine, process, log_path, report)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(30)
        _db_check(report, database_url, config, env)
        _analyse(report, server, engine, options)
    finally:
        server.close()
        engine.dispose()
    report.figures["load_average_before"] = [round(x, 2) for x in load_before]
    report.figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    warnings: dict[str, int] = defaultdict(int)
    skipped = 0
    for line in log_path.read_text(errors="replace").splitlines():
        skipped += "maximum number of running instances" in line
        if '"level": "warning"' in line or '"level": "error"' in line:
            try:
                event = str(json.loads(line).get("event", ""))
            except ValueError:
                event = line
            warnings[re.sub(r"\d+", "N", event)[:90]] += 1
    report.figures["daemon_log_warnings"] = dict(sorted(warnings.items(), key=lambda kv: -kv[1])[:10])
    report.figures["scheduler_skipped_runs"] = skipped
    report.checks["no_skipped_runs"] = skipped == 0
    if skipped:
        report.problems.append(f"scheduler skipped {skipped} job run(s): a feed or the sync was submitted twice")
    return report


def _count_errors(engine: Any) -> tuple[int, int]:
    from sqlalchemy import func

    with engine.connect() as connection:
        errors = connection.scalar(select(func.count()).select_from(Fetch).where(Fetch.outcome == "error")) or 0
        articles = connection.scalar(select(func.count()).select_from(Article)) or 0
    return int(errors), int(articles)


def _observe(
    options: Options, server: SoakFeeds, engine: Any, process: subprocess.Popen[bytes], log: Path, report: Report
) -> Report:
    port = _metrics_port(log, process)
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    # About one change per feed per 4 poll intervals, spread over ticks of 2 s.
    tick = 2.0
    per_tick = max(1, round(options.feeds * tick / (4.0 * (options.interval + options.jitter))))
    server.start_publishing(tick, per_tick)
    report.figures["changes_per_tick"] = per_tick
    report.figures["tick_seconds"] = tick
    while (elapsed := time.monotonic() - started) < options.seconds:
        if process.poll() is not None:
            report.problems.append(f"daemon exited early with {process.returncode}")
            break
        errors, articles = _count_errors(engine)
        report.samples.append(Sample(
            round(elapsed, 1), _rss_kb(process.pid), round(_cpu_seconds(process.pid), 2), errors,
            _metric_errors(base), articles, round(os.getloadavg()[0], 2),
        ))
        time.sleep(max(0.0, SAMPLE_SECONDS - (time.monotonic() - started - elapsed)))
    frozen_at = server.freeze()
    report.figures["run_seconds"] = round(time.monotonic() - started, 1)
    # Give every feed one more poll after the last change (the last poll interval), then stop.
    settle_deadline = time.monotonic() + options.interval + options.jitter + 15.0
    while time.monotonic() < settle_deadline and process.poll() is None:
        if _feeds_polled_since(engine, frozen_at) >= options.feeds:
            break
        time.sleep(0.5)
    report.figures["settle_seconds"] = round(time.monotonic() - started - report.figures["run_seconds"], 1)
    report.figures["daemon_cpu_seconds"] = round(_cpu_seconds(process.pid), 2) if process.poll() is None else None
    report.figures["metrics_error_count"] = _metric_errors(base)
    stop_sent = time.time()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(60)
    except subprocess.TimeoutExpired:
        code = None
    report.figures["stop_seconds"] = round(time.time() - stop_sent, 2)
    report.figures["exit_code"] = code
    report.checks["sigterm_exit_0"] = code == 0
    report.figures["frozen_at"] = frozen_at
    return report


def _feeds_polled_since(engine: Any, since: float) -> int:
    from datetime import UTC, datetime

    from sqlalchemy import func

    moment = datetime.fromtimestamp(since, UTC)
    with engine.connect() as connection:
        return int(connection.scalar(
            select(func.count(func.distinct(Fetch.feed_id))).where(Fetch.started_at >= moment, Fetch.outcome != "error")
        ) or 0)


def _db_check(report: Report, database_url: str, config: Path, env: dict[str, str]) -> None:
    result = subprocess.run(_cli(database_url, config, "db", "check"), env=env, capture_output=True, text=True,
                            cwd=REPO)
    report.checks["db_check"] = result.returncode == 0
    if result.returncode != 0:
        report.problems.append("db check: " + (result.stdout + result.stderr)[-1000:])


# --- the checks ------------------------------------------------------------------------------------


def _percentiles(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"n": len(ordered), "p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99),
            "max_ms": round(ordered[-1] * 1000, 1)}


def _analyse(report: Report, server: SoakFeeds, engine: Any, options: Options) -> None:
    with engine.connect() as connection:
        feeds = {row.id: row.name for row in connection.execute(select(Feed.id, Feed.name))}
        fetch_rows = list(connection.execute(
            select(Fetch.feed_id, Fetch.outcome, Fetch.started_at, Fetch.finished_at, Fetch.error,
                   Fetch.articles_created, Fetch.articles_updated)
        ))
        articles = list(connection.execute(select(Article.id, Article.feed_id, Article.entry_key, Article.title,
                                                  Article.version)))
        changes = list(connection.execute(select(ArticleChange.article_id, ArticleChange.change,
                                                 ArticleChange.version)))
    index_of = {feed_id: int(name.split("-")[1]) for feed_id, name in feeds.items() if name.startswith("soak-")}
    _exactly_once(report, server, index_of, fetch_rows, articles, changes)
    _errors(report, fetch_rows)
    _memory(report, options)
    latencies: dict[str, list[float]] = defaultdict(list)
    for row in fetch_rows:
        if row.finished_at is not None:
            seconds = (row.finished_at - row.started_at).total_seconds()
            latencies[row.outcome].append(seconds)
            latencies["all"].append(seconds)
    report.figures["fetch_latency"] = {k: _percentiles(v) for k, v in sorted(latencies.items())}
    report.figures["fetches"] = {k: len(v) for k, v in sorted(latencies.items())}


def _exactly_once(
    report: Report, server: SoakFeeds, index_of: dict[int, int], fetch_rows: list[Any], articles: list[Any],
    changes: list[Any],
) -> None:
    """Every served item version stored once: per item one article with the last version's title; per
    feed, the versions the daemon's polls stored (``articles_created + articles_updated`` of its fetch
    rows) equal the versions served to it.

    Versions are counted from the fetch rows, not from the change log: an article also gets a new
    version when dedupe changes it (a canonical article taking a better member's text, a block moved
    to removals as a template); those are reported apart.
    """
    # The end of the last poll of each feed that stored its result: a response served before it
    # was either stored by that poll or by an earlier one (a 304 means the daemon had the body).
    last_done: dict[int, float] = {}
    stored_versions: dict[int, int] = defaultdict(int)
    for row in fetch_rows:
        if row.feed_id not in index_of:
            continue
        index = index_of[row.feed_id]
        stored_versions[index] += (row.articles_created or 0) + (row.articles_updated or 0)
        if row.outcome != "error" and row.finished_at is not None:
            last_done[index] = max(last_done.get(index, 0.0), row.finished_at.timestamp())
    with server.lock:
        published = list(server.published)
        served = list(server.served)
    first_served: dict[tuple[str, int], float] = {}
    last_request: dict[int, float] = {}
    for response in served:
        last_request[response.feed] = max(last_request.get(response.feed, 0.0), response.at)
        for version in response.versions:
            first_served.setdefault(version, response.at)
    published_at = {(p.guid, p.version): p.at for p in published}
    feed_of = {p.guid: p.feed for p in published}
    versions: dict[str, list[int]] = defaultdict(list)
    for p in published:
        versions[p.guid].append(p.version)
    by_guid: dict[str, list[Any]] = defaultdict(list)
    unknown = 0
    for article in articles:
        if article.entry_key.startswith("id:soak:"):
            by_guid[article.entry_key[3:]].append(article)
        else:
            unknown += 1
    counts = {"published": len(published), "served": len(first_served), "required": 0, "ingested": 0,
              "duplicates": 0, "missing": 0, "pending_last_interval": 0, "served_to_unfinished_poll": 0,
              "replaced_unseen": 0, "unknown_articles": unknown, "wrong_latest": 0, "dedupe_versions": 0,
              "merged": 0}
    low: dict[int, int] = defaultdict(int)  # versions each feed's polls must have stored
    high: dict[int, int] = defaultdict(int)  # ... and may have stored
    for guid, all_versions in versions.items():
        feed = feed_of[guid]
        required, optional = [], []
        for version in all_versions:
            seen = first_served.get((guid, version))
            if seen is None:
                if published_at[guid, version] > last_request.get(feed, 0.0):
                    counts["pending_last_interval"] += 1
                else:
                    counts["replaced_unseen"] += 1
                    report.problems.append(f"{guid} v{version} replaced before any poll saw it")
            elif seen <= last_done.get(feed, 0.0):
                required.append(version)
            else:
                optional.append(version)
                counts["served_to_unfinished_poll"] += 1
        counts["required"] += len(required)
        low[feed] += len(required)
        high[feed] += len(required) + len(optional)
        stored = by_guid.get(guid, [])
        if len(stored) > 1:
            counts["duplicates"] += len(stored) - 1
            report.problems.append(f"{guid}: {len(stored)} articles")
        if not stored:
            if required:
                report.problems.append(f"{guid}: no article, {len(required)} version(s) served")
            continue
        match = TITLE_VERSION.search(stored[0].title or "")
        latest = int(match.group(2) or 1) if match else -1
        if (required and latest < max(required)) or latest not in (*required, *optional):
            counts["wrong_latest"] += 1
            report.problems.append(f"{guid}: stored title is v{latest}, served {sorted(required + optional)}")
    for feed in range(len(server.feeds)):
        got = stored_versions.get(feed, 0)
        counts["ingested"] += got
        if got > high[feed]:
            counts["duplicates"] += got - high[feed]
            report.problems.append(f"{server.name(feed)}: {got} versions stored, {high[feed]} served")
        if got < low[feed]:
            counts["missing"] += low[feed] - got
            report.problems.append(f"{server.name(feed)}: {got} versions stored, {low[feed]} served and finished")
    history: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for change in changes:
        history[change.article_id].append((change.change, change.version))
    for article in articles:
        # "merged" (joined a canonical story) records the current version without making a new one.
        rows = [(kind, number) for kind, number in history.get(article.id, []) if kind != "merged"]
        counts["merged"] += len(history.get(article.id, [])) - len(rows)
        numbers = [number for _, number in rows]
        if [kind for kind, _ in rows].count("created") != 1 or sorted(numbers) != list(range(1, article.version + 1)):
            counts["duplicates"] += 1
            report.problems.append(f"{article.entry_key}: change log {sorted(rows)}, version {article.version}")
        counts["dedupe_versions"] += len(rows)
    counts["dedupe_versions"] -= counts["ingested"]
    counts["changes_published"] = len(published) - INITIAL_ITEMS * len(server.feeds)
    report.figures["exactly_once"] = counts
    report.checks["exactly_once"] = counts["dedupe_versions"] >= 0 and all(
        counts[k] == 0 for k in ("duplicates", "missing", "replaced_unseen", "unknown_articles", "wrong_latest")
    )


def _errors(report: Report, fetch_rows: list[Any]) -> None:
    samples = report.samples
    if len(samples) < 6:
        report.checks["no_error_growth"] = False
        report.problems.append("too few samples to judge error growth")
        return
    end = samples[-1].t
    warm = end * WARMUP_SHARE
    first = [s for s in samples if warm <= s.t <= warm + (end - warm) / 3]
    last = [s for s in samples if s.t >= end * 2 / 3]

    def per_minute(window: list[Sample]) -> float:
        span = window[-1].t - window[0].t
        return (window[-1].fetch_errors - window[0].fetch_errors) * 60.0 / span if span > 0 else 0.0

    first_rate, last_rate = per_minute(first), per_minute(last)
    total = sum(1 for row in fetch_rows if row.outcome == "error")
    messages: dict[str, int] = defaultdict(int)
    for row in fetch_rows:
        if row.outcome == "error":
            messages[(row.error or "")[:120]] += 1
    report.figures["errors"] = {
        "total": total, "per_minute_first_third": round(first_rate, 2), "per_minute_last_third": round(last_rate, 2),
        "metrics_total": report.figures.get("metrics_error_count"),
        "top": sorted(messages.items(), key=lambda kv: -kv[1])[:5],
    }
    report.checks["no_error_growth"] = last_rate <= first_rate


def _memory(report: Report, options: Options) -> None:
    samples = report.samples
    if len(samples) < 6:
        report.checks["rss_flat"] = False
        return
    end = samples[-1].t
    warm = end * WARMUP_SHARE
    first = [s.rss_kb for s in samples if warm <= s.t <= warm + (end - warm) / 3]
    last = [s.rss_kb for s in samples if s.t >= end * 2 / 3]
    ratio = max(last) / max(first)
    # RSS over time, in tenths of the run, for the table and the docs.
    tenths = []
    for step in range(10):
        window = [s.rss_kb for s in samples if step * end / 10 <= s.t <= (step + 1) * end / 10]
        if window:
            tenths.append(round(max(window) / 1024, 1))
    report.figures["rss"] = {
        "first_third_after_warmup_max_mb": round(max(first) / 1024, 1), "last_third_max_mb": round(max(last) / 1024, 1),
        "ratio": round(ratio, 3), "limit": options.rss_ratio, "max_mb_by_tenth": tenths,
        "articles_first": samples[0].articles, "articles_last": samples[-1].articles,
    }
    report.checks["rss_flat"] = ratio <= options.rss_ratio


# --- output ----------------------------------------------------------------------------------------


def render(report: Report) -> str:
    f = report.figures
    once = f.get("exactly_once", {})
    lines = [
        f"soak: {report.options['feeds']} feeds, {report.options['minutes']} min, poll every "
        f"{report.options['interval']}s, {report.options['database']}",
        f"  run {f.get('run_seconds')}s + settle {f.get('settle_seconds')}s; "
        f"daemon CPU {f.get('daemon_cpu_seconds')}s; "
        f"load {f.get('load_average_before')} -> {f.get('load_average_after')}",
        f"  versions published {once.get('published')} ({once.get('changes_published')} changes after the "
        f"first {INITIAL_ITEMS} items per feed), served {once.get('served')}, "
        f"required {once.get('required')}, "
        f"ingested {once.get('ingested')}",
        f"  duplicates {once.get('duplicates')}, missing {once.get('missing')}, pending (last interval) "
        f"{once.get('pending_last_interval')}, served to an unfinished poll {once.get('served_to_unfinished_poll')}, "
        f"replaced unseen {once.get('replaced_unseen')}, wrong latest {once.get('wrong_latest')}, "
        f"versions made by dedupe {once.get('dedupe_versions')}",
    ]
    errors = f.get("errors", {})
    lines.append(f"  errors: total {errors.get('total')}, per minute first third {errors.get('per_minute_first_third')}"
                 f", last third {errors.get('per_minute_last_third')}, /metrics {errors.get('metrics_total')}")
    rss = f.get("rss", {})
    lines.append(f"  RSS MB by tenth of the run: {rss.get('max_mb_by_tenth')}; last third / first third after "
                 f"warm-up {rss.get('ratio')} (limit {rss.get('limit')})")
    lines.append(f"  {'fetch latency':<16}{'n':>7}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for outcome, figures in f.get("fetch_latency", {}).items():
        lines.append(f"  {outcome:<16}{figures.get('n', 0):>7}{figures.get('p50_ms', ''):>10}"
                     f"{figures.get('p95_ms', ''):>10}{figures.get('p99_ms', ''):>10}{figures.get('max_ms', ''):>10}")
    for event, times in f.get("daemon_log_warnings", {}).items():
        lines.append(f"  daemon log warning x{times}: {event}")
    lines.append(f"  exit code on SIGTERM {f.get('exit_code')} after {f.get('stop_seconds')}s")
    for name, ok in report.checks.items():
        lines.append(f"  [{'pass' if ok else 'FAIL'}] {name}")
    lines.extend(f"  problem: {p}" for p in report.problems[:20])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--interval", type=int, default=15, help="seconds between polls of one feed")
    parser.add_argument("--database-url", default="", help="default: SQLite in a scratch directory")
    parser.add_argument("--rss-ratio", type=float, default=1.3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the database and daemon log here")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    options = Options(minutes=args.minutes, feeds=args.feeds, interval=args.interval, database_url=args.database_url,
                      rss_ratio=args.rss_ratio, seed=args.seed, corpus=args.corpus, workdir=args.workdir)
    report = run(options)
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(report.as_json(), indent=2, default=str), encoding="utf-8")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
