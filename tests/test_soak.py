"""The soak at suite size: the real daemon, 60 changing feeds on 127.0.0.1, one minute.

``python -m benchmarks.soak`` runs the same for 10 minutes over 300 feeds (docs/reliability.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.soak import Options, render, run
from tests.conftest import CORPUS


@pytest.mark.slow
def test_one_minute_soak_ingests_every_change_once_and_stops_cleanly(tmp_path: Path) -> None:
    report = run(Options(minutes=1.0, feeds=60, interval=5, jitter=1.0, corpus=CORPUS, workdir=tmp_path))
    summary = render(report)
    once = report.figures["exactly_once"]
    assert report.checks["sigterm_exit_0"], summary
    assert report.checks["db_check"], summary
    assert report.checks["exactly_once"], summary
    assert report.checks["no_error_growth"], summary
    assert report.checks["no_skipped_runs"], summary  # no feed or sync job submitted while already queued
    # The feeds did change while the daemon ran, and it saw the changes.
    assert once["changes_published"] >= 60, summary
    assert once["ingested"] >= once["required"] > 60 * 3, summary
    assert report.figures["fetch_latency"]["all"]["n"] > 60 * 5, summary
