"""The health/metrics endpoint and structured logs."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from ingest.observability import HealthServer, Metrics, configure_logging
from ingest.observability.logs import feed_logger


def test_health_ready_and_metrics_endpoints() -> None:
    metrics = Metrics()
    state: dict[str, str | None] = {"problem": "database is empty: run `newsdedup db upgrade`"}
    server = HealthServer(metrics, readiness=lambda: state["problem"])
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{base}/healthz").status_code == 200
        not_ready = httpx.get(f"{base}/readyz")
        assert not_ready.status_code == 503 and "db upgrade" in not_ready.text
        state["problem"] = None
        assert httpx.get(f"{base}/readyz").status_code == 200

        metrics.fetches.labels(outcome="ok").inc(3)
        metrics.duplicates.labels(tier="near").inc()
        metrics.fetch_latency.observe(0.3)
        text = httpx.get(f"{base}/metrics").text
        assert 'newsdedup_fetches_total{outcome="ok"} 3.0' in text
        assert 'newsdedup_duplicate_blocks_total{tier="near"} 1.0' in text
        assert 'newsdedup_fetch_latency_seconds_bucket{le="0.5"} 1.0' in text
        assert httpx.get(f"{base}/nope").status_code == 404
        server.alive = False
        assert httpx.get(f"{base}/healthz").status_code == 503
    finally:
        server.stop()


def test_logs_are_json_lines_naming_the_feed(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json_output=True)
    try:
        feed_logger("voa-indonesia").warning("fetch failed", error="HTTP 503")
        logging.getLogger("ingest.something").info("plain stdlib line")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    finally:
        logging.getLogger().handlers[:] = []
    assert lines[0]["feed"] == "voa-indonesia"
    assert lines[0]["event"] == "fetch failed" and lines[0]["level"] == "warning"
    assert lines[0]["error"] == "HTTP 503" and lines[0]["timestamp"].endswith("Z")
    assert lines[1]["event"] == "plain stdlib line" and lines[1]["logger"] == "ingest.something"
