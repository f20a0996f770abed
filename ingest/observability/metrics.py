"""Prometheus metrics, in a registry of their own (built by the composition root, not global)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Feed servers answer in tens of milliseconds to tens of seconds; the buckets cover that span.
FETCH_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.fetches = Counter(
            "newsdedup_fetches", "Fetch attempts by outcome.", ["outcome"], registry=self.registry
        )
        self.articles = Counter(
            "newsdedup_articles", "Articles written, by change (created, updated, merged, deleted).",
            ["change"], registry=self.registry,
        )
        self.duplicates = Counter(
            "newsdedup_duplicate_blocks", "Duplicate paragraphs and captions found, by tier.", ["tier"],
            registry=self.registry,
        )
        self.fetch_latency = Histogram(
            "newsdedup_fetch_latency_seconds", "Time from request to parsed response.",
            buckets=FETCH_LATENCY_BUCKETS, registry=self.registry,
        )
        self.feeds_in_backoff = Gauge(
            "newsdedup_feeds_in_backoff", "Feeds whose last fetch failed.", registry=self.registry
        )
        self.index_size = Gauge(
            "newsdedup_index_paragraphs", "Paragraph signatures in the dedupe index.", registry=self.registry
        )
        self.feeds = Gauge("newsdedup_feeds", "Feeds scheduled by this worker.", registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
