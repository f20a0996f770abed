"""Structured logs with structlog: JSON lines when not on a terminal, readable lines on one.

The standard library's loggers (ours and the libraries') go through the same renderer, so a log
shipper sees one format. Loggers about a feed are bound with ``feed=NAME``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

# What ``configure_logging`` was last given, resolved: worker processes (``ingest.parallel``) start
# without this process's handlers and set theirs up from it, so their lines read like ours.
_configured: tuple[str, bool] | None = None


def configure_logging(level: str = "INFO", json_output: bool | None = None) -> None:
    global _configured
    use_json = (not sys.stderr.isatty()) if json_output is None else json_output
    _configured = (level, use_json)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # trafilatura warns about every page it finds hard; that is our extractor's business, not the log's.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)


def logging_configuration() -> tuple[str, bool] | None:
    """(level, JSON or not) of this process's logging, or None if ``configure_logging`` never ran."""
    return _configured


def feed_logger(name: str) -> Any:
    return structlog.get_logger("newsdedup.feed").bind(feed=name)
