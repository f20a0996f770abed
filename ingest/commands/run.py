"""``newsdedup run``: the daemon."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from config import load_feed_specs
from ingest.app import App
from ingest.commands._common import add_command, add_prepare_processes_option
from ingest.daemon import Daemon, DaemonOptions
from ingest.fetching import open_fetcher, open_registry
from ingest.fetching.polling import poller
from ingest.observability import configure_logging


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "run",
        "Run the daemon: poll every feed on its own schedule until SIGTERM/SIGINT. Several daemons can share "
        "one PostgreSQL database; each feed is polled by one of them at a time.",
        "newsdedup run --feeds config/feeds.toml --metrics-port 9464",
    )
    parser.add_argument("--feeds", metavar="FILE", help="feeds.toml to keep registered (re-read on every sync)")
    parser.add_argument("--worker-id", default="", help="name of this worker in leases (default: host:pid)")
    parser.add_argument("--metrics-port", type=int, default=None, metavar="PORT",
                        help="serve /healthz, /readyz and /metrics on 127.0.0.1:PORT (0: any free port)")
    parser.add_argument("--metrics-host", default="127.0.0.1", help="address for the metrics endpoint")
    parser.add_argument("--sync-seconds", type=float, default=30.0, help="how often to look for added/removed feeds")
    parser.add_argument("--jitter-seconds", type=float, default=30.0, help="random delay added to every poll")
    parser.add_argument("--max-workers", type=int, default=4, help="feeds polled at the same time")
    add_prepare_processes_option(parser)
    parser.add_argument("--shutdown-grace", type=float, default=20.0, metavar="SECONDS",
                        help="on SIGTERM, wait this long for polls in flight")
    parser.add_argument("--log-format", choices=["auto", "json", "console"], default="auto",
                        help="auto: JSON unless stderr is a terminal")
    parser.set_defaults(handler=run)


def run(app: App, args: argparse.Namespace) -> int:
    configure_logging(app.settings.log_level, None if args.log_format == "auto" else args.log_format == "json")
    app.require_head()
    if app.engine.dialect.name == "postgresql" and app.settings.dedupe.index_backend == "memory":
        logging.getLogger("newsdedup.run").warning(
            "dedupe index in this process's memory: right for one worker; with several workers on this "
            'database set [dedupe] index_backend = "sql" so that copies ingested at once are still linked'
        )
    feeds_file = args.feeds or app.settings.feeds_file or None
    registry = open_registry(app)
    fetcher = open_fetcher(app, args.prepare_processes)

    def sync_feeds_file() -> None:
        if feeds_file:
            registry.sync(load_feed_specs(Path(feeds_file)))

    options = DaemonOptions(
        worker_id=args.worker_id,
        sync_seconds=args.sync_seconds,
        jitter_seconds=args.jitter_seconds,
        shutdown_grace_seconds=args.shutdown_grace,
        max_workers=args.max_workers,
        metrics_host=args.metrics_host,
        metrics_port=args.metrics_port,
    )
    daemon = Daemon(app, poller(fetcher), options, sync_hook=sync_feeds_file)
    daemon.install_signal_handlers()
    try:
        return daemon.run()
    finally:
        fetcher.close()
